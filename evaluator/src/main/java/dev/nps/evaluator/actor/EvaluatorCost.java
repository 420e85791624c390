package dev.nps.evaluator.actor;

import java.util.concurrent.atomic.LongAdder;

/**
 * Where evaluator time goes, summed over a search's evaluators: building candidate weights
 * (materialize), making them usable by ONNX Runtime (load: tensors, and a session in REBUILD
 * mode) and scoring calibration batches. Thread-safe; read after the search.
 */
public final class EvaluatorCost {
    private final LongAdder materializeNanos = new LongAdder();
    private final LongAdder loadNanos = new LongAdder();
    private final LongAdder scoreNanos = new LongAdder();
    private final LongAdder loads = new LongAdder();
    private final LongAdder batches = new LongAdder();

    /** Means in milliseconds: per loaded candidate (materialize, load) and per scored batch. */
    public record Snapshot(long loads, long batches, double materializeMillis, double loadMillis, double scoreMillisPerBatch) {
        public static final Snapshot NONE = new Snapshot(0, 0, 0, 0, 0);
    }

    void loaded(long materialize, long load) {
        materializeNanos.add(materialize);
        loadNanos.add(load);
        loads.increment();
    }

    void scored(long nanos) {
        scoreNanos.add(nanos);
        batches.increment();
    }

    public Snapshot snapshot() {
        long l = loads.sum();
        long b = batches.sum();
        return new Snapshot(l, b, l == 0 ? 0 : materializeNanos.sum() / 1e6 / l, l == 0 ? 0 : loadNanos.sum() / 1e6 / l,
                b == 0 ? 0 : scoreNanos.sum() / 1e6 / b);
    }
}
