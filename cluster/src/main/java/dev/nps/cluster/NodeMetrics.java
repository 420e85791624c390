package dev.nps.cluster;

import dev.nps.run.RunMeters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The node's one meter registry (Prometheus), an extension of its actor system: every meter of
 * the node carries the common tag {@code node} (its Pekko address host:port), and the JVM's own
 * meters are bound. Served at {@code GET /metrics} on the management endpoint ({@link MetricsRoute});
 * docs/metrics.md lists the meters.
 */
public final class NodeMetrics implements Extension {
    private static final ExtensionId<NodeMetrics> ID = new ExtensionId<>() {
        @Override
        public NodeMetrics createExtension(ActorSystem<?> system) {
            return new NodeMetrics(system);
        }
    };

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final RunMeters runs;
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Counter rebalances;

    private NodeMetrics(ActorSystem<?> system) {
        var a = Cluster.get(system).selfMember().address();
        registry.config().commonTags("node", a.host().get() + ":" + a.port().get())
                // Two of the binders' meters fail Prometheus' naming rules (promtool check metrics): a CPU time in "ns"
                // (process_cpu_usage stands in) and a gauge ending in _count, renamed.
                .meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"))
                .meterFilter(new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
                    }
                });
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        runs = new RunMeters(registry);
        Cluster cluster = Cluster.get(system);
        for (String status : java.util.List.of("up", "joining", "weakly-up", "leaving", "exiting", "down")) {
            Gauge.builder("nps.cluster.members", cluster, c -> members(c, status)).tag("status", status)
                    .description("cluster members by status, as this node sees them").register(registry);
        }
        Gauge.builder("nps.cluster.unreachable", cluster, c -> c.state().getUnreachable().size())
                .description("members this node's failure detector marks unreachable").register(registry);
        rebalances = Counter.builder("nps.cluster.rebalances").description("evaluator shards allocated or moved by this node's coordinator")
                .register(registry);
        system.getWhenTerminated().thenRun(() -> {
            gc.close();
            registry.close();
        });
    }

    private static int members(Cluster c, String status) {
        int n = 0;
        for (var m : c.state().getMembers()) {
            if (statusTag(m.status()).equals(status)) {
                n++;
            }
        }
        return n;
    }

    private static String statusTag(org.apache.pekko.cluster.MemberStatus s) {
        return s.toString().replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    /** Shard allocations and moves (counted by {@link SlotAllocationStrategy}, which runs in the shard coordinator). */
    Counter rebalances() {
        return rebalances;
    }

    public static NodeMetrics of(ActorSystem<?> system) {
        return ID.apply(system);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The meters of the runs this node executes. */
    public RunMeters runs() {
        return runs;
    }

    /** Every meter now, in Prometheus' text format 0.0.4. */
    public String scrape() {
        return registry.scrape();
    }
}
