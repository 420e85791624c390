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
     * the graph exactly as it would be written, the candidate's weights in its initializers (so
     * every ONNX Runtime optimization sees them). AUTO: REBUILD on CUDA (inputs would cross to the
     * GPU with every batch; initializers cross once), for graphs with external data (INPUTS
     * loads graphs from memory) and for graphs with a Conv node, INPUTS otherwise.
     *
     * <p>Why (BENCHMARKS.md, "Scoring at the machine's limit" and "The conv medium benchmark"): convs fed
     * as inputs lose ONNX Runtime's NCHWc kernels, which reorder constant weights once; on the conv
     * medium benchmark (10 calibration batches per candidate) REBUILD's batches ran 1.6x faster and the
     * search 1.5x (only the tiny conv fixture, 4 small batches per candidate, is cheaper with INPUTS).
     * Without a Conv, on a 2-core CPU, INPUTS was cheaper
     * per candidate on every model measured: 1.5-1.9x on the conv fixture, 1.1-1.2x on the medium MLP,
     * 1.3x on MiniLM-L6 (REBUILD builds a session per candidate, ~0.3 s for MiniLM's 90 MB, and its
     * batches were no faster there). Both modes give the same predictions; logits may differ in the last
     * bits (different kernels), so a run's mode is fixed by this rule, never by timing, and the
     * feed-mode guard (ModelScorer.openChecked) checks it against the written graph before every run.
     */
    public enum FeedMode { INPUTS, REBUILD, AUTO }

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

    /**
     * The feed mode AUTO stands for on this device, for a graph with or without external data files
     * and Conv nodes: REBUILD on CUDA, for external data, and for graphs with a Conv (ONNX Runtime's
     * NCHWc conv kernels need constant weights: 1.5x faster search on the conv medium benchmark,
     * BENCHMARKS.md), INPUTS otherwise. A fixed rule on the graph, never a timing.
     */
    public FeedMode resolveFeedMode(boolean externalData, boolean hasConv) {
        if (feedMode != FeedMode.AUTO) {
            return feedMode;
        }
        return device == Device.CUDA || externalData || hasConv ? FeedMode.REBUILD : FeedMode.INPUTS;
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
