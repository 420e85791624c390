package dev.nps.cli;

import dev.nps.evaluator.Score;
import dev.nps.result.RunResult;
import dev.nps.spec.ExperimentSpec;
import dev.nps.workflow.Evaluations;
import dev.nps.experiment.Experiment;
import dev.nps.experiment.Experiment.Split;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Score the base and every fine-tuned model of a spec on each task's test data.")
final class EvalCommand implements Callable<Integer> {

    @Mixin
    RuntimeOptions runtime;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory for result.json")
    Path out;

    @Option(names = "--cross", description = "also score every fine-tuned model on every other task (forgetting matrix)")
    boolean cross;

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        double[] means = new double[2]; // fine-tuned, base: as printed before the summary moved to CommandRun
        return CommandRun.plain(runtime, out, c -> {
            Experiment ex = c.experiment();
            ExperimentSpec spec = ex.spec();
            dev.nps.experiment.Progress progress = c.progress();
            List<Score> finetuned = Evaluations.finetunedScores(ex, Split.TEST, progress);
            List<Score> base = Evaluations.scoreModel(ex, ex.base(), Split.TEST, "base model", progress);
            RunResult result = new RunResult("eval", spec.file().toString(), "finetuned", null, null)
                    .tasks(Evaluations.taskResults(ex, finetuned, finetuned));
            var baseNode = result.section("base");
            baseNode.put("meanAccuracy", Evaluations.mean(base));
            var perTask = baseNode.putObject("tasks");
            for (int t = 0; t < ex.taskCount(); t++) {
                perTask.put(spec.tasks().get(t).name(), base.get(t).value());
            }
            if (cross) {
                var matrix = result.section("cross");
                progress.start("cross-task", (long) ex.taskCount() * ex.taskCount());
                for (int i = 0; i < ex.taskCount(); i++) {
                    var row = matrix.putObject(spec.tasks().get(i).name());
                    List<Score> s = ex.score(ex.finetuned(i), Split.TEST, progress);
                    for (int j = 0; j < ex.taskCount(); j++) {
                        row.put(spec.tasks().get(j).name(), s.get(j).value());
                    }
                }
                progress.done();
            }
            means[0] = Evaluations.mean(finetuned);
            means[1] = Evaluations.mean(base);
            Evaluations.recordScoring(ex, result);
            result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(c.out());
            return result;
        }, r -> String.format("fine-tuned mean accuracy %.4f, base %.4f", means[0], means[1]));
    }
}
