package dev.nps.evaluator;

import ai.onnxruntime.OnnxTensor;

/**
 * Scores one batch from the graph output it names. Implementations must be stateless (one
 * instance is shared by every session) and must not keep {@code output}, which is closed
 * once {@code score} returns.
 */
@FunctionalInterface
public interface Metric {

    /** Tallies the batch; {@code output}'s first dimension runs over {@code batch.count()} samples. */
    BatchScore score(OnnxTensor output, Batch batch);
}
