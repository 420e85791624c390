package dev.nps.evaluator;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * One candidate's weights, ready to score batches. Made by {@link ModelScorer#load}; holds
 * native memory (the weight tensors and, in REBUILD mode, its own ONNX Runtime session) until
 * {@link #close()}.
 *
 * <p>Not thread-safe: one actor uses a session at a time (it may hop threads between calls).
 * Distinct sessions of one scorer may run concurrently; in INPUTS mode they share the
 * scorer's ONNX Runtime session, whose {@code run} is thread-safe.
 */
public final class ScoringSession implements AutoCloseable {
    private final ModelScorer scorer;
    private final OrtSession session;
    private final boolean ownsSession;
    private final WeightSlot slot;
    private final Map<String, OnnxTensor> weightFeeds;
    private boolean closed;

    /** {@code ownsSession}: REBUILD (the slot's tensors are the session's initializers); else INPUTS (they are fed). */
    ScoringSession(ModelScorer scorer, OrtSession session, boolean ownsSession, WeightSlot slot) {
        this.scorer = scorer;
        this.session = session;
        this.ownsSession = ownsSession;
        this.slot = slot;
        this.weightFeeds = ownsSession ? Map.of() : slot.tensors();
    }

    /** Accuracy of batch {@code batchIndex} of {@code dataset}, read from graph output {@code outputName}. */
    public BatchScore scoreBatch(Dataset dataset, int batchIndex, String outputName) {
        return scoreBatch(dataset, batchIndex, outputName, Accuracy.INSTANCE);
    }

    public BatchScore scoreBatch(Dataset dataset, int batchIndex, String outputName, Metric metric) {
        if (closed) {
            throw new IllegalStateException("scoring session is closed");
        }
        scorer.checkBinding(dataset, outputName);
        Batch batch = dataset.batch(batchIndex);
        Map<String, OnnxTensor> feed = new HashMap<>(weightFeeds);
        for (String input : scorer.dataInputs()) {
            feed.put(input, batch.inputs().get(input));
        }
        try (OrtSession.Result result = session.run(feed, Set.of(outputName))) {
            OnnxValue out = result.get(0);
            if (!(out instanceof OnnxTensor tensor)) {
                throw new EvaluatorException("output '" + outputName + "' of " + scorer.graph() + " is not a tensor");
            }
            return metric.score(tensor, batch);
        } catch (OrtException e) {
            throw new EvaluatorException("inference failed on batch " + batchIndex + " of " + dataset.file() + ": "
                    + e.getMessage(), e);
        }
    }

    /** The raw logits of batch {@code batchIndex} (row-major), for the feed-mode guard. */
    float[] logits(Dataset dataset, int batchIndex, String outputName) {
        if (closed) {
            throw new IllegalStateException("scoring session is closed");
        }
        Batch batch = dataset.batch(batchIndex);
        Map<String, OnnxTensor> feed = new HashMap<>(weightFeeds);
        for (String input : scorer.dataInputs()) {
            feed.put(input, batch.inputs().get(input));
        }
        try (OrtSession.Result result = session.run(feed, Set.of(outputName))) {
            return floats(result.get(0), outputName, scorer.graph());
        } catch (OrtException e) {
            throw new EvaluatorException("inference failed on batch " + batchIndex + " of " + dataset.file() + ": "
                    + e.getMessage(), e);
        }
    }

    static float[] floats(OnnxValue out, String outputName, java.nio.file.Path graph) {
        if (!(out instanceof OnnxTensor tensor) || tensor.getInfo().type != ai.onnxruntime.OnnxJavaType.FLOAT) {
            throw new EvaluatorException("output '" + outputName + "' of " + graph + " is not a float tensor");
        }
        java.nio.FloatBuffer fb = tensor.getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    /** Scores every batch in order, telling {@code listener} (may be null) after each. */
    public Score scoreAll(Dataset dataset, String outputName, Metric metric, BatchListener listener) {
        Score total = Score.ZERO;
        for (int b = 0; b < dataset.batchCount(); b++) {
            BatchScore s = scoreBatch(dataset, b, outputName, metric);
            total = total.plus(s);
            if (listener != null) {
                listener.onBatch(b, s, total);
            }
        }
        return total;
    }

    public Score scoreAll(Dataset dataset, String outputName) {
        return scoreAll(dataset, outputName, Accuracy.INSTANCE, null);
    }

    /** Told after each batch of {@link #scoreAll}. */
    @FunctionalInterface
    public interface BatchListener {
        void onBatch(int batchIndex, BatchScore batch, Score soFar);
    }

    /** Frees the session (REBUILD) and hands the weight memory back to the scorer; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (ownsSession) {
                session.close();
            }
        } catch (OrtException e) {
            throw new EvaluatorException("cannot close ONNX Runtime session: " + e.getMessage(), e);
        } finally {
            scorer.release(slot);
        }
    }
}
