package dev.nps.cluster;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The slot scheduler's meters, on the node that hosts the singleton now: queue depth, and per
 * tenant the slots its runs hold and their fair share (tenants are few; a tenant's gauges stay,
 * at 0, after its runs end, until the singleton moves).
 */
final class SchedulerMeters implements AutoCloseable {
    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final Map<String, double[]> tenants = new ConcurrentHashMap<>(); // tenant -> {slots, share}
    private volatile int queueDepth;

    SchedulerMeters(MeterRegistry registry) {
        this.registry = registry;
        meters.add(Gauge.builder("nps.scheduler.queue.depth", this, m -> m.queueDepth)
                .description("runs that want slots and hold none").strongReference(true).register(registry));
    }

    /** Called by the scheduler (its thread) after a rebalance. */
    void publish(int waiting, Map<String, double[]> perTenant) {
        queueDepth = waiting;
        for (var e : perTenant.entrySet()) {
            double[] v = tenants.computeIfAbsent(e.getKey(), t -> {
                double[] nv = new double[2];
                meters.add(Gauge.builder("nps.scheduler.slots", nv, a -> a[0]).tag("tenant", t)
                        .description("slots held by the tenant's runs").strongReference(true).register(registry));
                meters.add(Gauge.builder("nps.scheduler.share", nv, a -> a[1]).tag("tenant", t)
                        .description("the tenant's fair share of the slots").strongReference(true).register(registry));
                return nv;
            });
            v[0] = e.getValue()[0];
            v[1] = e.getValue()[1];
        }
        for (var e : tenants.entrySet()) {
            if (!perTenant.containsKey(e.getKey())) {
                e.getValue()[0] = 0;
                e.getValue()[1] = 0;
            }
        }
    }

    @Override
    public void close() {
        meters.forEach(registry::remove);
        meters.clear();
    }
}
