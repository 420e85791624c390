package dev.nps.evaluator.actor;

import dev.nps.evaluator.BatchScore;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.CandidateSpec;

/**
 * What an {@link EvaluatorActor} scores with, chosen when it attaches to a run: real ONNX Runtime
 * inference ({@link OrtBackend}) or a fixed latency without a model ({@link SimulatedBackend},
 * for measuring the coordinator alone). Used by one actor at a time; an actor serving several
 * runs keeps one per run.
 */
public interface ScoringBackend {

    /** Makes {@code spec} the current candidate; cheap when it already is. */
    void load(CandidateSpec spec);

    /** Scores one calibration batch of the current candidate. */
    BatchScore score(BatchRef ref);

    /** Frees the current candidate's native memory; {@link #load} may follow. */
    void release();

    /** Frees all the backend holds (its run ended, or its evaluator made room); nothing may follow. */
    default void close() {
        release();
    }
}
