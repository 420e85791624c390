package dev.nps.evaluator;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.ExecutionMode;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;

/**
 * How a {@link ModelScorer} runs ONNX Runtime. Thread pools never spin: an evaluator shares
 * its cores with other evaluators, and a spinning pool burns them while idle.
 *
 * @param device         where inference runs
 * @param deviceId       CUDA device ordinal (ignored on CPU)
 * @param intraOpThreads threads inside one operator (default 1: scale out with more evaluators)
 * @param interOpThreads threads across independent operators (default 1; more than 1 runs the graph in parallel mode)
 * @param optimization   ONNX Runtime graph optimization level
 * @param feedMode       how candidate weights reach the graph
 */
public record ScorerOptions(Device device, int deviceId, int intraOpThreads, int interOpThreads,
                            Optimization optimization, FeedMode feedMode) {

    public enum Device { CPU, CUDA }

    public enum Optimization { NONE, BASIC, EXTENDED, ALL }

    /**
     * INPUTS: one session over a graph whose parameters became graph inputs; a candidate is a
     * set of input tensors fed with every batch. REBUILD: one session per candidate, built from
     * the original graph with the candidate's tensors as its initializers. AUTO: REBUILD on
     * CUDA (inputs would cross to the GPU with every batch; initializers cross once) and on CPU
     * for parameters of {@value #AUTO_REBUILD_MIN_BYTES} bytes or more, INPUTS otherwise.
     *
     * <p>Why (BENCHMARKS.md, FeedModeBenchmark): building a session costs about 1 ms plus ~2 ms
     * per 1 MB of weights, but only a built session can prepack and fuse the weight GEMMs,
     * which made each batch ~1.4x faster on MiniLM-L6 (90 MB). On the 70 KB digits MLP the
     * build dominated and INPUTS was 2.7x cheaper per candidate; on MiniLM REBUILD was
     * 1.4x cheaper with 4 batches of 32x64 tokens and about even with one batch of 32x32.
     * Both modes give the same predictions; logits can differ in the last bits (different
     * kernels), so a run's mode is fixed by this rule, never by timing.
     */
    public enum FeedMode { INPUTS, REBUILD, AUTO }

    /** Parameter size from which AUTO picks REBUILD on CPU (16 MiB). */
    public static final long AUTO_REBUILD_MIN_BYTES = 16L << 20;

    public ScorerOptions {
        if (device == null || optimization == null || feedMode == null) {
            throw new EvaluatorException("scorer options need a device, optimization level and feed mode");
        }
        if (deviceId < 0) {
            throw new EvaluatorException("device id must be >= 0, got " + deviceId);
        }
        if (intraOpThreads < 1 || interOpThreads < 1) {
            throw new EvaluatorException("thread counts must be >= 1, got intra-op " + intraOpThreads
                    + ", inter-op " + interOpThreads);
        }
    }

    public static ScorerOptions defaults() {
        return new ScorerOptions(Device.CPU, 0, 1, 1, Optimization.ALL, FeedMode.AUTO);
    }

    public ScorerOptions withDevice(Device d, int id) {
        return new ScorerOptions(d, id, intraOpThreads, interOpThreads, optimization, feedMode);
    }

    public ScorerOptions withThreads(int intraOp, int interOp) {
        return new ScorerOptions(device, deviceId, intraOp, interOp, optimization, feedMode);
    }

    public ScorerOptions withOptimization(Optimization o) {
        return new ScorerOptions(device, deviceId, intraOpThreads, interOpThreads, o, feedMode);
    }

    public ScorerOptions withFeedMode(FeedMode m) {
        return new ScorerOptions(device, deviceId, intraOpThreads, interOpThreads, optimization, m);
    }

    /** The feed mode AUTO stands for on this device, for parameters totalling {@code parameterBytes}. */
    public FeedMode resolveFeedMode(long parameterBytes) {
        if (feedMode != FeedMode.AUTO) {
            return feedMode;
        }
        return device == Device.CUDA || parameterBytes >= AUTO_REBUILD_MIN_BYTES ? FeedMode.REBUILD : FeedMode.INPUTS;
    }

    /** Fresh ORT session options; the caller closes them. */
    SessionOptions sessionOptions() {
        SessionOptions so = new SessionOptions();
        try {
            so.setIntraOpNumThreads(intraOpThreads);
            so.setInterOpNumThreads(interOpThreads);
            so.setExecutionMode(interOpThreads > 1 ? ExecutionMode.PARALLEL : ExecutionMode.SEQUENTIAL);
            so.addConfigEntry("session.intra_op.allow_spinning", "0");
            so.addConfigEntry("session.inter_op.allow_spinning", "0");
            so.setOptimizationLevel(switch (optimization) {
                case NONE -> OptLevel.NO_OPT;
                case BASIC -> OptLevel.BASIC_OPT;
                case EXTENDED -> OptLevel.EXTENDED_OPT;
                case ALL -> OptLevel.ALL_OPT;
            });
            if (device == Device.CUDA) {
                if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
                    throw new EvaluatorException("CUDA requested but this build has the CPU ONNX Runtime; rebuild with -Pcuda");
                }
                so.addCUDA(deviceId);
            }
            return so;
        } catch (OrtException e) {
            so.close();
            throw new EvaluatorException("cannot configure ONNX Runtime for " + this + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            so.close();
            throw e;
        }
    }
}
