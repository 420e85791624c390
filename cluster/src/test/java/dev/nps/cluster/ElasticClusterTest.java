package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.coordinator.AbortMode;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Elastic membership with three, then four ActorSystems in this JVM and simulated evaluators
 * (fixed latency, scores derived from the candidate): a node leaves gracefully mid-run (its
 * entities are handed off) and another joins; the search ends as the undisturbed one did.
 */
@Tag("slow")
@Timeout(150)
class ElasticClusterTest {
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.reversed().forEach(ClusterNode::close);
    }

    @Test
    void aNodeLeavingAndAnotherJoiningMidRunChangeNothing() {
        int seedPort = TestCluster.freePort();
        String seed = "127.0.0.1:" + seedPort;
        ClusterNode coordinator = ClusterNode.start(TestCluster.node(seedPort, seed, List.of(Roles.COORDINATOR, Roles.EVALUATOR), 0),
                TestCluster.STRICT);
        nodes.add(coordinator);
        nodes.add(ClusterNode.start(TestCluster.node(TestCluster.freePort(), seed, List.of(Roles.EVALUATOR), 2), TestCluster.STRICT));
        ClusterNode leaving = ClusterNode.start(TestCluster.node(TestCluster.freePort(), seed, List.of(Roles.EVALUATOR), 2),
                TestCluster.STRICT);
        nodes.add(leaving);
        assertTrue(coordinator.awaitSlots(4, Duration.ofSeconds(30)));

        try (Experiment ex = TestCluster.digits()) {
            SearchSetup setup = SearchSetup.of(ex, SearchKind.FUSION, List.of(1, 3, 5, 7));
            SearchConfig config = SearchConfig.defaults().withSeed(9).withGenerations(10).withPopulation(8)
                    .withAbort(AbortMode.OFF).withBatchesPerUnit(2);
            ClusterSearch simulated = new ClusterSearch(coordinator, TestCluster.DIGITS, ScorerOptions.defaults(),
                    UnsharedPolicy.CARRY, 4_000, Duration.ofMillis(500));
            SearchResult undisturbed = simulated.run(setup, config, SearchListener.NONE);

            int joinPort = TestCluster.freePort();
            List<ClusterNode> joined = new ArrayList<>();
            SearchListener churn = g -> {
                if (g.generation() == 2) {
                    Thread.ofPlatform().start(leaving::close); // graceful leave: handoff, entities stop
                    joined.add(ClusterNode.start(TestCluster.node(joinPort, seed, List.of(Roles.EVALUATOR), 2), TestCluster.STRICT));
                    nodes.add(joined.getFirst());
                } else if (g.generation() == 4) {
                    // Hold the search (on the coordinator's thread; bounded) until both of the joiner's entities
                    // hold a slot: they are attached, so it takes part on any machine speed.
                    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                    while (joined.getFirst().busySlots() < 2 && System.nanoTime() < end) {
                        ClusterNode.sleep(20);
                    }
                }
            };
            SearchResult r = simulated.run(setup, config, churn);
            assertEquals(undisturbed.trajectorySha256(), r.trajectorySha256());
            assertEquals(undisturbed.batchesEvaluated(), r.batchesEvaluated());
            ClusterSearchTest.assertNothingLostOrCountedTwice(r);
            Map<String, Set<String>> byNode = ClusterSearchTest.entitiesByNode(r);
            assertTrue(byNode.containsKey("pekko://nps@127.0.0.1:" + joinPort), "the joining node got no work: " + byNode.keySet());
        }
    }
}
