package dev.nps.evaluator.actor;

import dev.nps.evaluator.BatchScore;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.CandidateSpec;
import java.util.concurrent.locks.LockSupport;

/**
 * A stand-in for a GPU: every batch takes a fixed time and scores a count derived from the
 * candidate's bytes and the batch position, equal on every node and every run. No model, no ONNX
 * Runtime: it measures what the coordinator and the cluster cost per work unit.
 */
public final class SimulatedBackend implements ScoringBackend {
    private final long nanosPerBatch;
    private long specHash;

    public SimulatedBackend(long microsPerBatch) {
        if (microsPerBatch < 0) {
            throw new IllegalArgumentException("simulated latency must be >= 0, got " + microsPerBatch);
        }
        this.nanosPerBatch = microsPerBatch * 1000;
    }

    @Override
    public void load(CandidateSpec spec) {
        long h = 0x9E3779B97F4A7C15L;
        for (byte b : spec.toByteArray()) { // protobuf hashCode is per JVM; the bytes are not
            h = mix(h ^ b);
        }
        specHash = h;
    }

    @Override
    public BatchScore score(BatchRef ref) {
        long end = System.nanoTime() + nanosPerBatch;
        for (long left = nanosPerBatch; left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
        int samples = ref.getSamples();
        return new BatchScore((int) Long.remainderUnsigned(mix(specHash ^ ref.getPosition()), samples + 1L), samples);
    }

    @Override
    public void release() {
    }

    private static long mix(long z) { // SplitMix64 finalizer
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
