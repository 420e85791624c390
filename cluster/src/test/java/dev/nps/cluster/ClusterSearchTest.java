package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.coordinator.AbortMode;
import dev.nps.coordinator.NpsSearch;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.kernels.subspace.SubspacePartition;
import dev.nps.experiment.Experiment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Logic tests of the cluster runtime with three ActorSystems in this JVM (real Artery TCP on
 * 127.0.0.1, every message serialized): a coordinator node that also carries the evaluator role
 * with no slots (so it hosts Pekko's shard coordinator), and evaluator nodes with 2 and 1 CPU slots.
 */
@Timeout(120)
class ClusterSearchTest {
    private static Experiment ex;
    private static ClusterNode coordinator;
    private static ClusterNode a;
    private static ClusterNode b;

    @BeforeAll
    static void start() {
        ex = TestCluster.digits();
        int seed = TestCluster.freePort();
        String seedAddress = "127.0.0.1:" + seed;
        coordinator = ClusterNode.start(TestCluster.node(seed, seedAddress, List.of(Roles.COORDINATOR, Roles.EVALUATOR), 0),
                TestCluster.STRICT);
        a = ClusterNode.start(TestCluster.node(TestCluster.freePort(), seedAddress, List.of(Roles.EVALUATOR), 2), TestCluster.STRICT);
        b = ClusterNode.start(TestCluster.node(TestCluster.freePort(), seedAddress, List.of(Roles.EVALUATOR), 1), TestCluster.STRICT);
        assertTrue(coordinator.awaitSlots(3, Duration.ofSeconds(30)), "cluster never reached 3 slots");
        // Every entity starts and loads the data once, so each test's search has all three from its start.
        runner().run(SearchSetup.of(ex, SearchKind.PRUNE, List.of(0)), prune().withGenerations(1), SearchListener.NONE);
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while ((a.busySlots() < 2 || b.busySlots() < 1) && System.nanoTime() < end) {
            ClusterNode.sleep(20);
        }
    }

    @AfterAll
    static void stop() {
        for (ClusterNode n : new ClusterNode[] {b, a, coordinator}) {
            if (n != null) {
                n.close();
            }
        }
        ex.close();
    }

    private static SearchConfig prune() {
        return SearchConfig.defaults().withSeed(5).withGenerations(5).withSubspaces(4).withKeep(0.05)
                .withPartition(SubspacePartition.Kind.BAND, 2).withBatchesPerUnit(2);
    }

    private static ClusterSearch runner() {
        return new ClusterSearch(coordinator, TestCluster.DIGITS, ScorerOptions.defaults(), UnsharedPolicy.CARRY);
    }

    /** Per node address, the distinct evaluator entities that scored batches. */
    static Map<String, Set<String>> entitiesByNode(SearchResult r) {
        Map<String, Set<String>> out = new HashMap<>();
        r.batchesByEvaluator().keySet().forEach(ev -> {
            String node = ev.substring(0, ev.indexOf("/system/"));
            out.computeIfAbsent(node, k -> new HashSet<>()).add(ev.substring(0, ev.indexOf('#')));
        });
        return out;
    }

    static void assertNothingLostOrCountedTwice(SearchResult r) {
        assertEquals(r.candidates() * r.batchesPerCandidate(),
                r.batchesEvaluated() + r.batchesSkippedByCache() + r.batchesSkippedByAbort());
        assertEquals(r.batchesEvaluated(), r.batchesByEvaluator().values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void clusterSearchIsBitIdenticalToTheEmbeddedOne() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(2));
        SearchConfig config = prune().withAbort(AbortMode.OFF);
        SearchResult embedded = NpsSearch.run(setup, config, SearchListener.NONE);
        SearchResult cluster = runner().run(setup, config, SearchListener.NONE);
        assertEquals(embedded.trajectorySha256(), cluster.trajectorySha256());
        assertEquals(embedded.bestSpec(), cluster.bestSpec());
        assertEquals(embedded.bestAccuracy(), cluster.bestAccuracy());
        assertEquals(embedded.batchesEvaluated(), cluster.batchesEvaluated()); // abort off: the count is fixed
        assertEquals(0, cluster.duplicateBatches());
        assertNothingLostOrCountedTwice(cluster);
        Map<String, Set<String>> byNode = entitiesByNode(cluster);
        assertEquals(2, byNode.size(), "both evaluator nodes should score: " + byNode.keySet());
        assertTrue(byNode.get("pekko://nps@" + a.address()).size() <= 2);
        assertTrue(byNode.get("pekko://nps@" + b.address()).size() <= 1);
        assertTrue(!byNode.containsKey("pekko://nps@" + coordinator.address()), "the 0-slot node hosts no evaluator");
    }

    @Test
    void fusionWithExactAbortTakesTheEmbeddedPath() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.FUSION, List.of(0, 2, 4, 6));
        SearchConfig config = SearchConfig.defaults().withSeed(4).withGenerations(3).withPopulation(8).withSigma0(1.5)
                .withLambdas(0, 4, 1.0).withBatchesPerUnit(3);
        SearchResult embedded = NpsSearch.run(setup, config, SearchListener.NONE);
        SearchResult cluster = runner().run(setup, config, SearchListener.NONE);
        assertEquals(embedded.trajectorySha256(), cluster.trajectorySha256());
        assertNothingLostOrCountedTwice(cluster);
    }

    @Test
    void signElectedFusionAndWeightedTransferMatchTheEmbeddedSearch() {
        List<Integer> fused = List.of(0, 2, 4, 6);
        SearchSetup fusion = SearchSetup.of(ex, SearchKind.FUSION, fused);
        SearchConfig signed = SearchConfig.defaults().withSeed(3).withGenerations(2).withPopulation(6).withKeep(0.1)
                .withSignElection(true).withAbort(AbortMode.OFF);
        SearchResult embedded = NpsSearch.run(fusion, signed, SearchListener.NONE);
        SearchResult cluster = runner().run(fusion, signed, SearchListener.NONE);
        assertEquals(embedded.trajectorySha256(), cluster.trajectorySha256());
        assertEquals(embedded.bestAccuracy(), cluster.bestAccuracy());
        assertTrue(embedded.bestAccuracy() != NpsSearch.run(fusion, signed.withSignElection(false), SearchListener.NONE)
                .bestAccuracy(), "sign election changes the scored models");
        Map<Integer, Double> weights = new HashMap<>();
        for (int t = 0; t < ex.taskCount(); t++) {
            weights.put(t, t == 2 ? 0.5 : 0.5 / (ex.taskCount() - 1));
        }
        List<Integer> all = java.util.stream.IntStream.range(0, ex.taskCount()).boxed().toList();
        SearchSetup transfer = SearchSetup.of(ex, SearchKind.TRANSFER, List.of(2), all, Map.of()).withScoreWeights(weights);
        SearchConfig config = prune().withGenerations(2);
        assertEquals(NpsSearch.run(transfer, config, SearchListener.NONE).trajectorySha256(),
                runner().run(transfer, config, SearchListener.NONE).trajectorySha256());
    }

    @Test
    void protocolMessagesUseTheNpsProtobufSerializerOnClusterNodes() {
        var serialization = org.apache.pekko.serialization.SerializationExtension.get(coordinator.system().classicSystem());
        var attach = dev.nps.protocol.EvaluatorMessage.newBuilder().setAttach(dev.nps.protocol.Attach.newBuilder().setRun("r")).build();
        assertEquals(dev.nps.evaluator.actor.ProtoSerializer.IDENTIFIER, serialization.findSerializerFor(attach).identifier());
        assertEquals(dev.nps.evaluator.actor.ProtoSerializer.IDENTIFIER, serialization.findSerializerFor(
                dev.nps.evaluator.actor.EvaluatorActor.fromWire(attach)).identifier()); // what evaluators are told
        assertEquals("off", coordinator.system().settings().config().getString("pekko.actor.allow-java-serialization"));
    }

    @Test
    void aSpecOutsideTheStorageRootIsRefusedUpFront() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ClusterSearch(coordinator, Path.of("/tmp/x/spec.conf"),
                ScorerOptions.defaults(), UnsharedPolicy.CARRY));
        assertTrue(e.getMessage().startsWith("spec /tmp/x/spec.conf is not under the storage root"), e.getMessage());
    }
}
