package dev.nps.cli;

import dev.nps.evaluator.ScoringPlan;
import dev.nps.storage.sparse.ValueEncoding;
import dev.nps.workflow.CompressionWorkflow;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Store the base plus each task's NPS-pruned task vector in the sparse format"
                + " (Elias-Fano indices, F32 or F16 values, CRC32C); reports bytes per task and the accuracy of every"
                + " model rebuilt from the files.")
final class CompressCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec command;


    @Mixin
    RuntimeOptions runtime;

    @Mixin
    SearchOptions search;

    @Option(names = "--keep", defaultValue = "0.05", paramLabel = "K", description = "fraction kept per task, in (0, 1]; default ${DEFAULT-VALUE}")
    double keep;

    @Option(names = "--encoding", defaultValue = "f32", paramLabel = "f32|f16", description = "stored value type; default ${DEFAULT-VALUE}")
    String encoding;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Override
    public Integer call() {
        ValueEncoding enc = switch (encoding.toLowerCase(Locale.ROOT)) {
            case "f32" -> ValueEncoding.F32;
            case "f16" -> ValueEncoding.F16;
            default -> throw new IllegalArgumentException("unknown --encoding '" + encoding + "' (f32 or f16)");
        };
        ScoringPlan plan = search.plan(runtime);
        var config = search.config(keep, plan);
        return CommandRun.search(command, runtime, search, plan, out, spec -> { },
                c -> CompressionWorkflow.compress(c, config, enc),
                r -> String.format(Locale.ROOT, "compressed %d tasks at keep %s (%s): mean normalized accuracy %.4f",
                        r.root().get("tasks").size(), keep, enc, r.root().get("meanNormalizedAccuracy").asDouble()));
    }
}
