package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.coordinator.AbortMode;
import dev.nps.coordinator.SearchCancelledException;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.protocol.RunUsage;
import dev.nps.protocol.SlotUsage;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Several searches at once on one cluster's four slots (simulated evaluators: a fixed latency per
 * batch, scores derived from the candidate), every message serialized: the slot scheduler shares
 * the slots by weight, each search ends bit-identical to the same search alone, and a cancelled
 * search's slots go to the other within about two seconds.
 *
 * <p>Share tolerance: each run's measured share of slot time, over the window in which all runs
 * are active, lies within {@value #TOLERANCE} (absolute) of its fair share weight_i / sum of
 * weights. What moves it: slots that serve another run for a unit while theirs has nothing to hand
 * out (a generation's tail), the rotation of fractional shares (every 0.5 slot-seconds of lag), and
 * the window's edges (100 ms polls).
 */
@Timeout(120)
class SharedSlotsTest {
    static final double TOLERANCE = 0.05;
    private static final long LATENCY_MICROS = 2_000;
    private static Experiment ex;
    private static ClusterNode coordinator;
    private static ClusterNode evaluators;
    private static final Map<Integer, SearchResult> ALONE = new HashMap<>();

    @BeforeAll
    static void start() {
        ex = TestCluster.digits();
        int seed = TestCluster.freePort();
        String seedAddress = "127.0.0.1:" + seed;
        // The seed carries the evaluator role without slots: the scheduler singleton and the shard coordinator live here.
        coordinator = ClusterNode.start(TestCluster.node(seed, seedAddress, List.of(Roles.COORDINATOR, Roles.EVALUATOR), 0),
                TestCluster.STRICT);
        evaluators = ClusterNode.start(TestCluster.node(TestCluster.freePort(), seedAddress, List.of(Roles.EVALUATOR), 4),
                TestCluster.STRICT);
        assertTrue(coordinator.awaitSlots(4, Duration.ofSeconds(30)), "cluster never reached 4 slots");
    }

    @AfterAll
    static void stop() {
        for (ClusterNode n : new ClusterNode[] {evaluators, coordinator}) {
            if (n != null) {
                n.close();
            }
        }
        ex.close();
    }

    private static SearchSetup setup() {
        return SearchSetup.of(ex, SearchKind.FUSION, List.of(0, 2, 4, 6)); // 24 batches a candidate
    }

    /** Run {@code seed}: 8 candidates of 6 units (4 batches of 2 ms); a light run has 10 generations, seed 1 has 30. */
    private static SearchConfig config(int seed) {
        return SearchConfig.defaults().withSeed(seed).withGenerations(seed == 1 ? 30 : 10).withPopulation(8)
                .withAbort(AbortMode.OFF).withBatchesPerUnit(4);
    }

    private static ClusterSearch runner(double weight) {
        return new ClusterSearch(coordinator, TestCluster.DIGITS, ScorerOptions.defaults(), UnsharedPolicy.CARRY,
                LATENCY_MICROS, Duration.ofMillis(500)).withShare(weight, 0);
    }

    private static synchronized SearchResult alone(int seed) {
        return ALONE.computeIfAbsent(seed, s -> runner(1).run(setup(), config(s), SearchListener.NONE));
    }

    private static void assertSameSearch(SearchResult alone, SearchResult shared) {
        assertEquals(alone.trajectorySha256(), shared.trajectorySha256());
        assertEquals(alone.bestSpec(), shared.bestSpec());
        assertEquals(alone.batchesEvaluated(), shared.batchesEvaluated());
        ClusterSearchTest.assertNothingLostOrCountedTwice(shared);
    }

    /** Polls the scheduler's accounts every 100 ms while the runs go; returns the polls. */
    private static List<SlotUsage> poll(List<ClusterSearch.Handle> handles) {
        List<SlotUsage> polls = new ArrayList<>();
        while (handles.stream().anyMatch(h -> !h.result().isDone())) {
            polls.add(coordinator.slotUsage(Duration.ofSeconds(5)));
            ClusterNode.sleep(100);
        }
        return polls;
    }

    /** Each run's share of the slot time served while all of {@code runs} were active (first to last poll listing all). */
    private static Map<String, Double> shares(List<SlotUsage> polls, List<String> runs) {
        List<Map<String, Long>> all = new ArrayList<>();
        for (SlotUsage u : polls) {
            Map<String, Long> used = new HashMap<>();
            for (RunUsage r : u.getRunsList()) {
                used.put(r.getRun(), r.getSlotNanos());
            }
            if (used.keySet().containsAll(runs)) {
                all.add(used);
            }
        }
        assertTrue(all.size() >= 10, "all runs were active together for only " + all.size() + " polls");
        Map<String, Long> first = all.getFirst();
        Map<String, Long> last = all.getLast();
        long total = 0;
        for (String r : runs) {
            total += last.get(r) - first.get(r);
        }
        Map<String, Double> out = new HashMap<>();
        for (String r : runs) {
            out.put(r, (last.get(r) - first.get(r)) / (double) total);
        }
        return out;
    }

    private void sharesFollowWeights(double[] weights) {
        int n = weights.length;
        List<SearchResult> alone = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            alone.add(alone(i + 1));
        }
        for (int i = 1; i < n; i++) {
            assertNotEquals(alone.getFirst().trajectorySha256(), alone.get(i).trajectorySha256(), "runs should differ");
        }
        List<ClusterSearch.Handle> handles = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            handles.add(runner(weights[i]).start(setup(), config(i + 1), SearchListener.NONE));
        }
        List<SlotUsage> polls = poll(handles);
        double weightSum = 0;
        for (double w : weights) {
            weightSum += w;
        }
        Map<String, Double> shares = shares(polls, handles.stream().map(ClusterSearch.Handle::run).toList());
        StringBuilder report = new StringBuilder();
        for (int i = 0; i < n; i++) {
            report.append(String.format(Locale.ROOT, " run %d weight %.0f: share %.3f (fair %.3f);", i + 1, weights[i],
                    shares.get(handles.get(i).run()), weights[i] / weightSum));
        }
        System.err.println("SharedSlotsTest:" + report);
        for (int i = 0; i < n; i++) {
            assertEquals(weights[i] / weightSum, shares.get(handles.get(i).run()), TOLERANCE, report.toString());
            assertSameSearch(alone.get(i), handles.get(i).await());
        }
    }

    @Test
    void fourEqualRunsShareFourSlotsEquallyAndEachEndsAsIfAlone() {
        sharesFollowWeights(new double[] {1, 1, 1, 1});
    }

    @Test
    void aRunOfWeightThreeGetsHalfOfTheSlotsAgainstThreeOfWeightOne() {
        // Run 1 has three times the generations: at fair shares (2 slots against 2/3) all four end together.
        sharesFollowWeights(new double[] {3, 1, 1, 1});
    }

    @Test
    void aCancelledRunGivesItsSlotsToTheOtherWithinTwoSeconds() {
        SearchResult alone = alone(1);
        AtomicInteger generations = new AtomicInteger();
        ClusterSearch.Handle cancelled = runner(1).start(setup(), config(2).withGenerations(1000), g -> generations.set(g.generation()));
        ClusterSearch.Handle other = runner(1).start(setup(), config(1), SearchListener.NONE);
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int before = 0;
        while ((generations.get() < 2 || (before = serving(other.run())) != 2) && System.nanoTime() < end) {
            ClusterNode.sleep(20);
        }
        assertEquals(2, before, "the two runs should hold two slots each before the cancel");
        long t0 = System.nanoTime();
        cancelled.cancel("test");
        int after = 0;
        while ((after = serving(other.run())) < 4 && System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos()) {
            ClusterNode.sleep(20);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "SharedSlotsTest: all four slots serve the other run %.2f s after the cancel%n", seconds);
        assertEquals(4, after);
        assertTrue(seconds < 2, "the other run got all slots only " + seconds + " s after the cancel");
        assertFalse(other.result().isDone(), "the other run should still be going: the test measured nothing");

        var e = assertInstanceOf(CompletionException.class, org.junit.jupiter.api.Assertions.assertThrows(
                CompletionException.class, () -> cancelled.result().join()));
        SearchCancelledException c = assertInstanceOf(SearchCancelledException.class, e.getCause());
        assertEquals("search cancelled: test", c.getMessage());
        assertTrue(c.history().size() >= 2, "the partial history should hold the generations done: " + c.history().size());
        assertEquals(1, c.history().getFirst().generation());
        assertSameSearch(alone, other.await());
    }

    @Test
    void aCappedRunNeverHoldsMoreThanItsCapAndTheOtherTakesTheRest() {
        SearchResult aloneCapped = alone(2);
        SearchResult aloneOther = alone(3);
        ClusterSearch.Handle capped = runner(1).withShare(10, 1).start(setup(), config(2), SearchListener.NONE);
        ClusterSearch.Handle other = runner(1).start(setup(), config(3), SearchListener.NONE);
        List<SlotUsage> polls = poll(List.of(capped, other));
        for (SlotUsage u : polls) {
            for (RunUsage r : u.getRunsList()) {
                if (r.getRun().equals(capped.run())) {
                    assertTrue(r.getLeased() <= 1 && r.getServing() <= 1, "the capped run holds more than 1 slot: " + r);
                }
            }
        }
        Map<String, Double> shares = shares(polls, List.of(capped.run(), other.run()));
        System.err.printf(Locale.ROOT, "SharedSlotsTest: weight 10 capped at 1 slot: share %.3f; weight 1: %.3f%n",
                shares.get(capped.run()), shares.get(other.run()));
        assertEquals(0.25, shares.get(capped.run()), TOLERANCE);
        assertSameSearch(aloneCapped, capped.await());
        assertSameSearch(aloneOther, other.await());
    }

    /** Slots that say they serve {@code run} now. */
    private static int serving(String run) {
        for (RunUsage r : coordinator.slotUsage(Duration.ofSeconds(5)).getRunsList()) {
            if (r.getRun().equals(run)) {
                return r.getServing();
            }
        }
        return 0;
    }
}
