package dev.nps.run;

import dev.nps.coordinator.GenerationStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The meters of the runs a node executes (docs/metrics.md): lifecycle events and active runs per
 * tenant and kind, and per active run its progress ({@link Run}), whose meters carry the run tag
 * and are removed when the run ends here. Observation only: nothing here feeds back into a search.
 */
public final class RunMeters {
    /** Meters nobody reads: embedded CLI runs and tests without a node registry. */
    public static final RunMeters NONE = new RunMeters(new CompositeMeterRegistry());

    /** The lifecycle events of {@code nps.run.events}. */
    public enum Event {
        STARTED, RESUMED, CANCELLED, SUCCEEDED, FAILED;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final MeterRegistry registry;
    private final Map<Tags, AtomicInteger> active = new ConcurrentHashMap<>();
    private final java.util.Set<Tags> groups = ConcurrentHashMap.newKeySet();

    public RunMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** A served run's tenant tag: its submitting tenant, "none" for a run not submitted through the service. */
    public static String tenantOf(dev.nps.protocol.RunRequest request) {
        return request.getTenant().isEmpty() ? "none" : request.getTenant();
    }

    /** The run kind tag: the command (merge, prune, transfer, compress), else "other" (bounded). */
    public static String kindOf(List<String> args) {
        String c = args.isEmpty() ? "" : args.getFirst();
        return switch (c) {
            case "merge", "prune", "transfer", "compress" -> c;
            default -> "other";
        };
    }

    /** Counts a lifecycle event of a run of {@code tenant} and {@code kind}. */
    public void event(String tenant, String kind, Event event) {
        if (groups.add(Tags.of("tenant", tenant, "kind", kind))) {
            // Every event of the group at 0 from its first: Prometheus sees an increase() only from a known value.
            for (Event e : Event.values()) {
                eventCounter(tenant, kind, e);
            }
        }
        eventCounter(tenant, kind, event).increment();
    }

    private Counter eventCounter(String tenant, String kind, Event event) {
        return Counter.builder("nps.run.events").description("run lifecycle events (dashboard annotations)")
                .tags("tenant", tenant, "kind", kind, "event", event.tag()).register(registry);
    }

    /** Starts the meters of one run executing here; {@link Run#close} removes them and counts it inactive. */
    public Run open(String run, String tenant, String kind) {
        Tags group = Tags.of("tenant", tenant, "kind", kind);
        AtomicInteger n = active.computeIfAbsent(group, g -> {
            AtomicInteger a = new AtomicInteger();
            Gauge.builder("nps.runs.active", a, AtomicInteger::get).description("runs executing on this node")
                    .tags(g).strongReference(true).register(registry);
            return a;
        });
        n.incrementAndGet();
        return new Run(group.and("run", run), n);
    }

    /** One active run's meters (tags run, tenant, kind). Fed from the search's thread; read by the scrape. */
    public final class Run implements AutoCloseable {
        private final List<Meter> meters = new ArrayList<>();
        private final AtomicInteger activeCount;
        private final Counter candidates;
        private final Counter scored;
        private final Counter cached;
        private final Counter aborted;
        private volatile double done;
        private volatile double searches;
        private volatile double generation;
        private volatile double generations = 1;
        private volatile double best = Double.NaN;
        private volatile double mean = Double.NaN;
        private volatile double sigma = Double.NaN;
        private boolean closed;

        private Run(Tags tags, AtomicInteger activeCount) {
            this.activeCount = activeCount;
            gauge("nps.run.searches.done", tags, r -> r.done, "searches finished");
            gauge("nps.run.searches", tags, r -> r.searches, "searches of the run known so far (finished + in progress)");
            gauge("nps.run.generation", tags, r -> r.generation, "generation of the current search");
            gauge("nps.run.progress", tags, Run::progress, "0..1: (done + generation/generations) / searches");
            gauge("nps.run.fitness.best", tags, r -> r.best, "best calibration fitness so far (current search)");
            gauge("nps.run.fitness.mean", tags, r -> r.mean, "mean calibration fitness of the last generation");
            gauge("nps.run.sigma", tags, r -> r.sigma, "CMA-ES step size");
            candidates = counter("nps.run.candidates", tags, "candidates scored");
            scored = counter("nps.run.batches", tags.and("outcome", "scored"), "calibration batches");
            cached = counter("nps.run.batches", tags.and("outcome", "cached"), "calibration batches");
            aborted = counter("nps.run.batches", tags.and("outcome", "aborted"), "calibration batches");
        }

        private void gauge(String name, Tags tags, java.util.function.ToDoubleFunction<Run> f, String what) {
            meters.add(Gauge.builder(name, this, f).tags(tags).description(what).strongReference(true).register(registry));
        }

        private Counter counter(String name, Tags tags, String what) {
            Counter c = Counter.builder(name).tags(tags).description(what).register(registry);
            meters.add(c);
            return c;
        }

        private double progress() {
            return searches == 0 ? 0 : Math.min(1, (done + generation / generations) / searches);
        }

        /** Search number {@code search} (0-based) of {@code generations} generations starts (or resumes). */
        public void searchStarted(int search, int generations) {
            this.searches = Math.max(searches, search + 1);
            this.done = search;
            this.generations = Math.max(1, generations);
            this.generation = 0;
            this.best = Double.NaN;
            this.mean = Double.NaN;
        }

        /** A search that was finished before (a resumed run): counted done without running. */
        public void searchSkipped(int search) {
            this.searches = Math.max(searches, search + 1);
            this.done = search + 1;
        }

        /** A generation finished; {@code population} as configured (0 = CMA-ES's default 4 + floor(3 ln n)). */
        public void generation(GenerationStats s, int population) {
            int lambda = population > 0 ? population : 4 + (int) Math.floor(3 * Math.log(Math.max(1, s.mean().length)));
            generation = s.generation();
            if (!Double.isNaN(s.bestAccuracy())) { // NaN: every candidate of the generation was dropped
                best = Double.isNaN(best) ? s.bestAccuracy() : Math.max(best, s.bestAccuracy());
            }
            mean = s.meanAccuracy();
            sigma = s.sigma();
            candidates.increment(lambda);
            scored.increment(s.evaluated());
            cached.increment(s.skippedByCache());
            aborted.increment(s.skippedByAbort());
        }

        public void searchFinished(int search) {
            done = search + 1;
            generation = 0;
        }

        /** Removes this run's meters: a run tag exists only while its run is active here. */
        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            meters.forEach(registry::remove);
            activeCount.decrementAndGet();
        }
    }
}
