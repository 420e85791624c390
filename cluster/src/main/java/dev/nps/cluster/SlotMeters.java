package dev.nps.cluster;

import dev.nps.evaluator.BatchScore;
import dev.nps.evaluator.actor.OrtBackend;
import dev.nps.evaluator.actor.ScoringBackend;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.CandidateSpec;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One evaluator slot's meters (tag {@code slot}, e.g. "cpu0", "gpu1": bounded by the node's slots):
 * busy time, batch latency, materialize and session times, and the data its node holds. A slot's
 * backends are wrapped by {@link #observe}; scores pass through unchanged.
 */
final class SlotMeters implements OrtBackend.LoadListener {
    private final AtomicLong busyNanos = new AtomicLong();
    private final Timer batch;
    private final Timer materialize;
    private final Timer session;

    SlotMeters(MeterRegistry registry, Slot slot, NodeData data) {
        String tag = slot.toString();
        FunctionCounter.builder("nps.slot.busy", busyNanos, n -> n.get() / 1e9).baseUnit("seconds").tag("slot", tag)
                .description("time the slot spent loading and scoring candidates").register(registry);
        batch = Timer.builder("nps.slot.batch.latency").tag("slot", tag).publishPercentileHistogram()
                .description("one calibration batch scored").register(registry);
        materialize = Timer.builder("nps.slot.materialize").tag("slot", tag).description("a candidate's weights built").register(registry);
        session = Timer.builder("nps.slot.session").tag("slot", tag).description("a candidate's ONNX Runtime session built").register(registry);
        Gauge.builder("nps.slot.data.loaded", data, NodeData::loadedBytes).baseUnit("bytes").tag("slot", tag)
                .description("weights loaded on the slot's node").register(registry);
    }

    @Override
    public void loaded(long materializeNanos, long sessionNanos) {
        materialize.record(materializeNanos, TimeUnit.NANOSECONDS);
        session.record(sessionNanos, TimeUnit.NANOSECONDS);
    }

    /** {@code inner}, timed into this slot's meters. */
    ScoringBackend observe(ScoringBackend inner) {
        return new ScoringBackend() {
            @Override
            public void load(CandidateSpec spec) {
                long t0 = System.nanoTime();
                try {
                    inner.load(spec);
                } finally {
                    busyNanos.addAndGet(System.nanoTime() - t0);
                }
            }

            @Override
            public BatchScore score(BatchRef ref) {
                long t0 = System.nanoTime();
                try {
                    return inner.score(ref);
                } finally {
                    long dt = System.nanoTime() - t0;
                    busyNanos.addAndGet(dt);
                    batch.record(dt, TimeUnit.NANOSECONDS);
                }
            }

            @Override
            public void release() {
                inner.release();
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }
}
