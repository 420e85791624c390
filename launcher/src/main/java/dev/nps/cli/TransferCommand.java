package dev.nps.cli;

import dev.nps.evaluator.ScoringPlan;
import dev.nps.workflow.NpsWorkflow;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "transfer", mixinStandardHelpOptions = true,
        description = "Knowledge transfer with less forgetting: base + lambda * m * tau for one task, the subspace weights"
                + " and lambda searched on calibration data for the target task and the other tasks together; reports"
                + " target, others, their average and the H-score.")
final class TransferCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec command;


    @Mixin
    RuntimeOptions runtime;

    @Mixin
    SearchOptions search;

    @Option(names = "--task", required = true, paramLabel = "T", description = "target task name from the spec")
    String task;

    @Option(names = "--keep", defaultValue = "0.1", paramLabel = "K",
            description = "fraction of entries kept, in (0, 1]; default ${DEFAULT-VALUE} (the paper's transfer setting)")
    double keep;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Override
    public Integer call() {
        ScoringPlan plan = search.plan(runtime);
        var config = search.config(keep, plan);
        return CommandRun.search(command, runtime, search, plan, out, spec -> spec.task(task),
                c -> NpsWorkflow.transfer(c, task, config),
                r -> {
                    var tr = r.root().get("transfer");
                    var nps = tr.get("nps");
                    var ft = tr.get("finetuned");
                    return String.format(Locale.ROOT, "transfer %s keep %s lambda %.3f: target %.4f, others %.4f, H-score %.4f"
                                    + " (fine-tuned: target %.4f, others %.4f, H %.4f; control H %.4f)",
                            task, keep, r.root().get("lambda").asDouble(), nps.get("targetAccuracy").asDouble(),
                            nps.get("othersMeanAccuracy").asDouble(), nps.get("hScore").asDouble(),
                            ft.get("targetAccuracy").asDouble(), ft.get("othersMeanAccuracy").asDouble(), ft.get("hScore").asDouble(),
                            tr.get("control").get("hScore").asDouble());
                });
    }
}
