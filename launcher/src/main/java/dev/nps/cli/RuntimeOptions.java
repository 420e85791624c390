package dev.nps.cli;

import dev.nps.evaluator.ScorerOptions;
import dev.nps.spec.ExperimentSpec;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.workflow.Experiment;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command that loads a spec shares: where the spec is and how ONNX Runtime runs. */
final class RuntimeOptions {

    @Option(names = "--spec", required = true, paramLabel = "SPEC", description = "HOCON experiment spec (see README)")
    Path spec;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda",
            description = "ONNX Runtime device (cuda needs a build with -Pcuda and CUDA 12); default ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--device-id", defaultValue = "0", paramLabel = "N", description = "CUDA device ordinal")
    int deviceId;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N", description = "intra-op threads per session; default ${DEFAULT-VALUE}")
    int threads;

    @Option(names = "--feed", defaultValue = "auto", paramLabel = "auto|inputs|rebuild",
            description = "how candidate weights reach ONNX Runtime (see BENCHMARKS.md); default ${DEFAULT-VALUE}")
    String feed;

    @Option(names = "--unshared", defaultValue = "carry", paramLabel = "carry|error",
            description = "parameters only one checkpoint has: carry them unchanged, or refuse; default ${DEFAULT-VALUE}")
    String unshared;

    @Option(names = {"-q", "--quiet"}, description = "no progress bars")
    boolean quiet;

    ScorerOptions scorerOptions() {
        ScorerOptions.Device d = switch (device.toLowerCase()) {
            case "cpu" -> ScorerOptions.Device.CPU;
            case "cuda", "gpu" -> ScorerOptions.Device.CUDA;
            default -> throw new IllegalArgumentException("unknown device '" + device + "' (cpu or cuda)");
        };
        ScorerOptions.FeedMode f = switch (feed.toLowerCase()) {
            case "auto" -> ScorerOptions.FeedMode.AUTO;
            case "inputs" -> ScorerOptions.FeedMode.INPUTS;
            case "rebuild" -> ScorerOptions.FeedMode.REBUILD;
            default -> throw new IllegalArgumentException("unknown feed mode '" + feed + "' (auto, inputs or rebuild)");
        };
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        }
        return ScorerOptions.defaults().withDevice(d, deviceId).withThreads(threads, 1).withFeedMode(f);
    }

    UnsharedPolicy unsharedPolicy() {
        return switch (unshared.toLowerCase()) {
            case "carry" -> UnsharedPolicy.CARRY;
            case "error" -> UnsharedPolicy.ERROR;
            default -> throw new IllegalArgumentException("unknown --unshared policy '" + unshared + "' (carry or error)");
        };
    }

    ExperimentSpec loadSpec() {
        return ExperimentSpec.load(spec);
    }

    Experiment loadExperiment(ExperimentSpec s) {
        return Experiment.load(s, scorerOptions(), unsharedPolicy());
    }

    ProgressBars progress() {
        return new ProgressBars(quiet);
    }
}
