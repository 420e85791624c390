package dev.nps.cli;

import dev.nps.result.OutputDirectory;
import dev.nps.result.RunResult;
import dev.nps.spec.ExperimentSpec;
import dev.nps.workflow.CompressionWorkflow;
import dev.nps.experiment.Experiment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "decompress", mixinStandardHelpOptions = true,
        description = "Rebuild one task's model from a directory written by compress; writes it as safetensors and ONNX"
                + " and scores it on the task's test data.")
final class DecompressCommand implements Callable<Integer> {

    @Option(names = "--from", required = true, paramLabel = "DIR", description = "directory written by nps compress")
    Path from;

    @Option(names = "--task", required = true, paramLabel = "T", description = "task name")
    String task;

    @Option(names = "--spec", paramLabel = "SPEC", description = "spec (default: the one compress recorded)")
    Path spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Override
    public Integer call() {
        ExperimentSpec s = ExperimentSpec.load(spec != null ? spec : CompressionWorkflow.specOf(from));
        s.task(task);
        List<Path> inputs = new ArrayList<>(s.inputs());
        inputs.add(from);
        OutputDirectory dir = OutputDirectory.prepare(out, inputs);
        try (Experiment ex = Experiment.load(s, dev.nps.evaluator.ScorerOptions.defaults(), dev.nps.storage.UnsharedPolicy.CARRY)) {
            RunResult r = CompressionWorkflow.decompress(from, task, ex, dir);
            System.out.printf(Locale.ROOT, "decompressed %s: test accuracy %.4f (normalized %.4f) -> %s%n", task,
                    r.root().get("meanAccuracy").asDouble(), r.root().get("meanNormalizedAccuracy").asDouble(), dir.path());
        }
        return 0;
    }
}
