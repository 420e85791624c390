package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.kernels.subspace.SubspacePartition;
import dev.nps.experiment.Experiment;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bounded memory on a node that serves run after run: 30 short real searches (ONNX Runtime, the
 * digits fixture) in sequence on one node, each with other settings (task, keep: a partition of its
 * own). After each, the node holds no run's data (partitions, task vectors, backends), at most the
 * one lingering experiment and a scorer per slot; used heap after a full GC stays within
 * {@value #HEAP_BOUND_MB} MB of what it was after the fifth run (it grows about 6 KB a run: stopped
 * actors' cells in Pekko's bounded per-thread caches of resolved references; before those caches
 * were kept from holding each run's search state it grew 75 KB a run, the digits model's size).
 */
@Tag("slow")
@Timeout(180)
class NodeMemoryTest {
    static final long HEAP_BOUND_MB = 1;

    private static long usedHeapAfterGc() {
        var memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    @Test
    void thirtyRunsInSequenceLeaveNoRunDataBehindAndTheHeapFlat() {
        int port = TestCluster.freePort();
        String seed = "127.0.0.1:" + port;
        try (Experiment ex = TestCluster.digits();
             ClusterNode node = ClusterNode.start(TestCluster.node(port, seed, List.of(Roles.COORDINATOR, Roles.EVALUATOR), 2),
                     TestCluster.STRICT)) {
            assertTrue(node.awaitSlots(2, Duration.ofSeconds(30)));
            ClusterSearch runner = new ClusterSearch(node, TestCluster.DIGITS, ScorerOptions.defaults(), UnsharedPolicy.CARRY,
                    0, Duration.ofMillis(500));
            List<Long> heap = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(i % 8));
                SearchConfig config = SearchConfig.defaults().withSeed(i).withGenerations(1).withPopulation(4).withSubspaces(4)
                        .withKeep(0.05 + 0.01 * (i % 10)).withPartition(SubspacePartition.Kind.BAND, 2).withBatchesPerUnit(3);
                SearchResult r = runner.run(setup, config, SearchListener.NONE);
                assertEquals(4, r.candidates());
                long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (node.dataStats().runs() > 0 && System.nanoTime() < end) {
                    ClusterNode.sleep(10); // the slots hear of the run's end asynchronously
                }
                NodeData.Stats s = node.dataStats();
                assertEquals(0, s.runs(), "run " + i + "'s data is still held: " + s);
                assertEquals(0, s.backends(), "run " + i + "'s backends are still open: " + s);
                assertTrue(s.experiments() <= 1 && s.idleExperiments() == s.experiments(), "experiments held: " + s);
                assertTrue(s.scorers() <= 2, "a scorer per slot at most: " + s);
                heap.add(usedHeapAfterGc());
            }
            long base = heap.get(4);
            long max = heap.subList(5, heap.size()).stream().mapToLong(Long::longValue).max().orElseThrow();
            System.err.printf(Locale.ROOT, "NodeMemoryTest: used heap after GC, run 5: %.1f MB, max of runs 6-30: %.1f MB, run 30: %.1f MB%n",
                    base / 1e6, max / 1e6, heap.getLast() / 1e6);
            assertTrue(max - base < HEAP_BOUND_MB << 20, "heap grew by " + (max - base) / 1e6 + " MB over 25 runs: " + heap);
        }
    }
}
