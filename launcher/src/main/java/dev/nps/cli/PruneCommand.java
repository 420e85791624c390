package dev.nps.cli;

import dev.nps.evaluator.ScoringPlan;
import dev.nps.workflow.NpsWorkflow;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "prune", mixinStandardHelpOptions = true,
        description = "NPS-prune one task vector: CMA-ES searches one weight per magnitude subspace on the task's"
                + " calibration data; the top-k of the reweighted magnitudes is kept.")
final class PruneCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec command;


    @Mixin
    RuntimeOptions runtime;

    @Mixin
    SearchOptions search;

    @Option(names = "--task", required = true, paramLabel = "T", description = "task name from the spec")
    String task;

    @Option(names = "--keep", defaultValue = "0.1", paramLabel = "K", description = "fraction of entries kept, in (0, 1]; default ${DEFAULT-VALUE}")
    double keep;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Override
    public Integer call() {
        ScoringPlan plan = search.plan(runtime);
        var config = search.config(keep, plan);
        return CommandRun.search(command, runtime, search, plan, out, spec -> spec.task(task),
                c -> NpsWorkflow.prune(c, task, config),
                r -> String.format(Locale.ROOT, "prune %s keep %s: test accuracy %.4f (normalized %.4f); magnitude top-k %.4f",
                        task, keep, r.root().get("meanAccuracy").asDouble(), r.root().get("meanNormalizedAccuracy").asDouble(),
                        r.root().get("control").get("accuracy").asDouble()));
    }
}
