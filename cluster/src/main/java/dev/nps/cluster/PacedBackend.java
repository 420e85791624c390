package dev.nps.cluster;

import dev.nps.evaluator.BatchScore;
import dev.nps.evaluator.actor.ScoringBackend;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.CandidateSpec;
import java.util.concurrent.locks.LockSupport;

/**
 * Real scoring that takes at least a given time per batch: a small model paced like a large one,
 * so tests and benchmarks can kill or add nodes while a short search is still running. Scores are
 * those of the wrapped backend, unchanged.
 */
final class PacedBackend implements ScoringBackend {
    private final ScoringBackend inner;
    private final long nanos;

    PacedBackend(ScoringBackend inner, long minMicros) {
        this.inner = inner;
        this.nanos = minMicros * 1000;
    }

    @Override
    public void load(CandidateSpec spec) {
        inner.load(spec);
    }

    @Override
    public BatchScore score(BatchRef ref) {
        long end = System.nanoTime() + nanos;
        BatchScore s = inner.score(ref);
        for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
        return s;
    }

    @Override
    public void release() {
        inner.release();
    }

    @Override
    public void close() {
        inner.close();
    }
}
