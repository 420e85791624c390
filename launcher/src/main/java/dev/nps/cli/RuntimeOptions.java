package dev.nps.cli;

import dev.nps.evaluator.ScorerOptions;
import dev.nps.evaluator.ScoringPlan;
import dev.nps.spec.ExperimentSpec;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment;
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

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "intra-op threads per ONNX Runtime session; default 0 = fill the cores (searches: cores / evaluators, eval: cores)")
    int threads;

    @Option(names = "--feed", defaultValue = "auto", paramLabel = "auto|inputs|rebuild",
            description = "how candidate weights reach ONNX Runtime (see BENCHMARKS.md); default ${DEFAULT-VALUE}")
    String feed;

    @Option(names = "--unshared", defaultValue = "carry", paramLabel = "carry|error",
            description = "parameters only one checkpoint has: carry them unchanged, or refuse; default ${DEFAULT-VALUE}")
    String unshared;

    @Option(names = {"-q", "--quiet"}, description = "no progress bars")
    boolean quiet;

    /** The plan of a command without a search: one session, every core unless --threads says otherwise. */
    ScoringPlan singleSessionPlan() {
        int cores = ScoringPlan.machineCores();
        checkThreads(cores);
        return ScoringPlan.forSingleSession(cores, threads);
    }

    void checkThreads(int cores) {
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be >= 1 (or 0 for the default), got " + threads);
        }
        if (threads > cores) {
            throw new IllegalArgumentException("--threads " + threads + " exceeds this machine's " + cores
                    + " cores; an ONNX Runtime session cannot use more (at most " + cores + ")");
        }
    }

    ScorerOptions scorerOptions() {
        return scorerOptions(singleSessionPlan());
    }

    ScorerOptions scorerOptions(ScoringPlan plan) {
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
        return ScorerOptions.defaults().withDevice(d, deviceId).withThreads(plan.threadsPerEvaluator(), 1).withFeedMode(f);
    }

    UnsharedPolicy unsharedPolicy() {
        return switch (unshared.toLowerCase()) {
            case "carry" -> UnsharedPolicy.CARRY;
            case "error" -> UnsharedPolicy.ERROR;
            default -> throw new IllegalArgumentException("unknown --unshared policy '" + unshared + "' (carry or error)");
        };
    }

    ExperimentSpec loadSpec() {
        checkThreads(ScoringPlan.machineCores()); // before any output folder exists
        // A served run's spec may be written by a tenant: its paths must stay in the spec's folder.
        return ExperimentSpec.load(spec, ServedCommands.current() != null ? dev.nps.spec.PathPolicy.CONFINED : dev.nps.spec.PathPolicy.ANYWHERE);
    }

    Experiment loadExperiment(ExperimentSpec s) {
        return loadExperiment(s, singleSessionPlan());
    }

    Experiment loadExperiment(ExperimentSpec s, ScoringPlan plan) {
        return Experiment.load(s, scorerOptions(plan), unsharedPolicy(), plan);
    }

    ProgressBars progress() {
        return new ProgressBars(quiet);
    }
}
