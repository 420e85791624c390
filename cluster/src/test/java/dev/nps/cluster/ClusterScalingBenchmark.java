package dev.nps.cluster;

import com.typesafe.config.ConfigFactory;
import dev.nps.coordinator.AbortMode;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.spec.ExperimentSpec;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Cluster benchmarks (BENCHMARKS.md), run by hand:
 *
 * <pre>
 * scaling  E...            simulated evaluators (fixed latency per batch, no ONNX Runtime) spread over 3 evaluator
 *                          JVMs, the coordinator in this JVM: work units/s, efficiency against E/(b*L), coordinator CPU
 * tail     E b...          idle share of E simulated evaluators with b batches per unit (b = 48: whole candidates)
 * real     SPEC E...       real ONNX Runtime scoring on one evaluator JVM with E CPU slots: wall time per search
 * share    E R...          R concurrent simulated runs (equal weights, each the same search) on E slots in 2 evaluator
 *                          JVMs: batches/s over all runs against one run alone (the slot scheduler's overhead)
 * </pre>
 */
public final class ClusterScalingBenchmark {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private ClusterScalingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "scaling" -> {
                long latency = Long.getLong("latencyMicros", 20_000);
                int b = Integer.getInteger("batchesPerUnit", 4);
                System.out.printf("| entities | slots per JVM | population | units | wall s | units/s | ideal units/s | efficiency"
                        + " | coordinator handler us/unit | coordinator JVM CPU us/unit |%n");
                for (int i = 1; i < args.length; i++) {
                    int e = Integer.parseInt(args[i]);
                    int population = Math.max(16, 4 * e); // about 48 units per entity and generation
                    run(e, population, latency, b, Integer.getInteger("generations", 5), true);
                }
            }
            case "tail" -> {
                int e = Integer.parseInt(args[1]);
                long latency = Long.getLong("latencyMicros", 10_000);
                System.out.printf("| batches per unit | units per candidate | wall s | busy share | idle share |%n");
                for (int i = 2; i < args.length; i++) {
                    run(e, Integer.getInteger("population", 10), latency, Integer.parseInt(args[i]),
                            Integer.getInteger("generations", 6), false);
                }
            }
            case "real" -> {
                Path spec = Path.of(args[1]).toAbsolutePath();
                for (int i = 2; i < args.length; i++) {
                    real(spec, Integer.parseInt(args[i]));
                }
            }
            case "share" -> {
                int e = Integer.parseInt(args[1]);
                List<Integer> counts = new ArrayList<>();
                for (int i = 2; i < args.length; i++) {
                    counts.add(Integer.parseInt(args[i]));
                }
                share(e, counts, Long.getLong("latencyMicros", 2_000), Integer.getInteger("batchesPerUnit", 4),
                        Integer.getInteger("generations", 8));
            }
            default -> throw new IllegalArgumentException("scaling | tail | real | share");
        }
        System.exit(0);
    }

    private static int[] split(int e, int jvms) {
        int[] s = new int[jvms];
        for (int i = 0; i < e; i++) {
            s[i % jvms]++;
        }
        return s;
    }

    private static void run(int e, int population, long latencyMicros, int b, int generations, boolean scaling) throws Exception {
        Path dir = Files.createTempDirectory("nps-bench");
        int seedPort = TestCluster.freePort();
        String seed = "127.0.0.1:" + seedPort;
        int[] slots = split(e, 3);
        List<ChildNode> children = new ArrayList<>();
        ClusterNode coordinator = ClusterNode.start(TestCluster.node(seedPort, seed, List.of(Roles.COORDINATOR, Roles.EVALUATOR), 0),
                ConfigFactory.parseString("pekko.cluster.jmx.enabled = off"));
        try (Experiment ex = TestCluster.digits()) {
            for (int j = 0; j < slots.length; j++) {
                children.add(ChildNode.start(dir, "n" + j, TestCluster.freePort(), seed, slots[j], "", TestCluster.ROOT, "-Xmx512m"));
            }
            if (!coordinator.awaitSlots(e, Duration.ofSeconds(120))) {
                throw new IllegalStateException("cluster never reached " + e + " slots");
            }
            SearchSetup setup = SearchSetup.of(ex, SearchKind.FUSION, IntStream.range(0, ex.taskCount()).boxed().toList());
            SearchConfig config = SearchConfig.defaults().withSeed(1).withGenerations(generations).withPopulation(population)
                    .withAbort(AbortMode.OFF).withBatchesPerUnit(b);
            ClusterSearch search = new ClusterSearch(coordinator, TestCluster.DIGITS, ScorerOptions.defaults(), UnsharedPolicy.CARRY,
                    latencyMicros, Duration.ofMillis(500));
            search.run(setup, config.withGenerations(1), SearchListener.NONE); // warm-up: entities start, JIT
            long cpu0 = OS.getProcessCpuTime();
            SearchResult r = search.run(setup, config, SearchListener.NONE);
            long cpu = OS.getProcessCpuTime() - cpu0;
            int perCandidate = (r.batchesPerCandidate() + b - 1) / b;
            long units = r.candidates() * perCandidate;
            double wall = r.wallMillis() / 1000.0;
            if (scaling) {
                double ideal = e * 1e6 / (b * (double) latencyMicros);
                System.out.printf(Locale.ROOT, "| %d | %d/%d/%d | %d | %d | %.2f | %.0f | %.0f | %.2f | %.1f | %.1f |%n", e, slots[0], slots[1],
                        slots[2], population, units, wall, units / wall, ideal, units / wall / ideal,
                        r.coordinatorMillis() * 1000 / units, cpu / 1000.0 / units);
            } else {
                double busy = r.batchesEvaluated() * latencyMicros / 1e6 / (e * wall);
                System.out.printf(Locale.ROOT, "| %d | %d | %.2f | %.3f | %.3f |%n", b, perCandidate, wall, busy, 1 - busy);
            }
        } finally {
            coordinator.close();
            children.forEach(ChildNode::close);
        }
    }

    /** {@code runs} concurrent copies of one simulated FUSION search (different seeds) on {@code e} slots, for each count. */
    private static void share(int e, List<Integer> counts, long latencyMicros, int b, int generations) throws Exception {
        Path dir = Files.createTempDirectory("nps-bench");
        int seedPort = TestCluster.freePort();
        String seed = "127.0.0.1:" + seedPort;
        int[] slots = split(e, 2);
        List<ChildNode> children = new ArrayList<>();
        ClusterNode coordinator = ClusterNode.start(TestCluster.node(seedPort, seed, List.of(Roles.COORDINATOR, Roles.EVALUATOR), 0),
                ConfigFactory.parseString("pekko.cluster.jmx.enabled = off"));
        try (Experiment ex = TestCluster.digits()) {
            for (int j = 0; j < slots.length; j++) {
                children.add(ChildNode.start(dir, "n" + j, TestCluster.freePort(), seed, slots[j], "", TestCluster.ROOT, "-Xmx512m"));
            }
            if (!coordinator.awaitSlots(e, Duration.ofSeconds(120))) {
                throw new IllegalStateException("cluster never reached " + e + " slots");
            }
            SearchSetup setup = SearchSetup.of(ex, SearchKind.FUSION, List.of(0, 2, 4, 6));
            ClusterSearch search = new ClusterSearch(coordinator, TestCluster.DIGITS, ScorerOptions.defaults(), UnsharedPolicy.CARRY,
                    latencyMicros, Duration.ofMillis(500));
            SearchConfig config = SearchConfig.defaults().withGenerations(generations).withPopulation(8).withAbort(AbortMode.OFF)
                    .withBatchesPerUnit(b);
            for (int w = 0; w < 3; w++) { // warm-up: entities start, JIT, one and several runs (the first rounds run ~30% slower)
                List<ClusterSearch.Handle> warm = new ArrayList<>();
                for (int i = 0; i < 1 + 3 * (w % 2); i++) {
                    warm.add(search.start(setup, config.withSeed(100 + i).withGenerations(4), SearchListener.NONE));
                }
                warm.forEach(ClusterSearch.Handle::await);
            }
            double ideal = e * 1e6 / latencyMicros;
            System.out.printf("| runs | batches | wall s | batches/s | vs one run | of ideal | lease moves/s | coordinator JVM CPU %% |%n");
            double alone = 0;
            for (int runs : counts) {
                long moves0 = coordinator.slotUsage(Duration.ofSeconds(5)).getMoves();
                long cpu0 = OS.getProcessCpuTime();
                long t0 = System.nanoTime();
                List<ClusterSearch.Handle> handles = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    handles.add(search.start(setup, config.withSeed(i + 1), SearchListener.NONE));
                }
                long batches = 0;
                for (ClusterSearch.Handle h : handles) {
                    batches += h.await().batchesEvaluated();
                }
                double wall = (System.nanoTime() - t0) / 1e9;
                long cpu = OS.getProcessCpuTime() - cpu0;
                long moves = coordinator.slotUsage(Duration.ofSeconds(5)).getMoves() - moves0;
                double rate = batches / wall;
                if (alone == 0) {
                    alone = rate;
                }
                System.out.printf(Locale.ROOT, "| %d | %d | %.2f | %.0f | %.3f | %.3f | %.1f | %.0f |%n", runs, batches, wall, rate,
                        rate / alone, rate / ideal, moves / wall, cpu / 1e7 / wall);
            }
        } finally {
            coordinator.close();
            children.forEach(ChildNode::close);
        }
    }

    /** One evaluator JVM with {@code e} CPU slots scoring with ONNX Runtime; a PRUNE-then-FUSION-sized FUSION search. */
    private static void real(Path spec, int e) throws Exception {
        Path dir = Files.createTempDirectory("nps-bench");
        Path root = spec.getParent().getParent();
        int seedPort = TestCluster.freePort();
        String seed = "127.0.0.1:" + seedPort;
        NodeSettings s = new NodeSettings("127.0.0.1", seedPort, List.of(seed), List.of(Roles.COORDINATOR, Roles.EVALUATOR), root,
                List.of(), true, 0, Duration.ofSeconds(10), java.util.Optional.empty(), ConfigFactory.empty());
        ClusterNode coordinator = ClusterNode.start(s, ConfigFactory.parseString("pekko.cluster.jmx.enabled = off"));
        ChildNode child = ChildNode.start(dir, "real", TestCluster.freePort(), seed, e, "", root, "-Xmx1500m");
        try (Experiment ex = Experiment.load(ExperimentSpec.load(spec), ScorerOptions.defaults(), UnsharedPolicy.CARRY)) {
            if (!coordinator.awaitSlots(e, Duration.ofSeconds(120))) {
                throw new IllegalStateException("cluster never reached " + e + " slots");
            }
            SearchSetup setup = SearchSetup.of(ex, SearchKind.FUSION, IntStream.range(0, ex.taskCount()).boxed().toList());
            SearchConfig config = SearchConfig.defaults().withSeed(1).withGenerations(Integer.getInteger("generations", 4))
                    .withPopulation(Integer.getInteger("population", 8)).withAbort(AbortMode.OFF);
            ClusterSearch search = new ClusterSearch(coordinator, spec, ScorerOptions.defaults(), UnsharedPolicy.CARRY);
            search.run(setup, config.withGenerations(1), SearchListener.NONE); // warm-up: data loaded, sessions built
            SearchResult r = search.run(setup, config, SearchListener.NONE);
            System.out.printf(Locale.ROOT, "| %d | %d | %.2f | %.1f | %s |%n", e, r.batchesEvaluated(), r.wallMillis() / 1000.0,
                    r.batchesEvaluated() / (r.wallMillis() / 1000.0), r.trajectorySha256().substring(0, 12));
        } finally {
            coordinator.close();
            child.close();
        }
    }
}
