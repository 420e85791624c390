package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nps.coordinator.AbortMode;
import dev.nps.coordinator.NpsSearch;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real failover: evaluator nodes are separate JVMs on 127.0.0.1 scoring with ONNX Runtime. Mid-run
 * one is killed with SIGKILL and a new one is started; the search must end bit-identical to an
 * undisturbed (embedded) run, with every batch scored exactly once in the accounting and the new
 * node given work.
 */
@Tag("slow")
@Timeout(180)
class NodeCrashFailoverTest {
    @TempDir
    Path dir;
    private final List<ChildNode> children = new ArrayList<>();
    private ClusterNode coordinator;

    @AfterEach
    void cleanUp() {
        if (coordinator != null) {
            coordinator.close(); // first, while the others still answer: a quick graceful leave
        }
        children.forEach(ChildNode::close);
    }

    private boolean isUp(String address) {
        for (Member m : Cluster.get(coordinator.system()).state().getMembers()) {
            if (m.status() == MemberStatus.up() && m.address().toString().endsWith("@" + address)) {
                return true;
            }
        }
        return false;
    }

    private boolean isMember(String address) {
        for (Member m : Cluster.get(coordinator.system()).state().getMembers()) {
            if (m.address().toString().endsWith("@" + address)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void sigkillOfAnEvaluatorNodeAndANodeJoiningMidRunLeaveTheResultUnchanged() throws Exception {
        // The coordinator node is the seed and carries the evaluator role without slots, so Pekko's shard
        // coordinator lives here; the killed node is a plain evaluator node.
        int seedPort = TestCluster.freePort();
        String seed = "127.0.0.1:" + seedPort;
        coordinator = ClusterNode.start(TestCluster.node(seedPort, seed, List.of(Roles.COORDINATOR, Roles.EVALUATOR), 0),
                TestCluster.STRICT);
        ChildNode a = ChildNode.start(dir, "a", TestCluster.freePort(), seed, 2, "");
        ChildNode b = ChildNode.start(dir, "b", TestCluster.freePort(), seed, 2, "");
        children.add(a);
        children.add(b);
        killOneAddOne(b, a, seed);
    }

    @Test
    void sigkillOfTheSeedThatHostsTheShardCoordinatorLeavesTheResultUnchanged() throws Exception {
        // As `--cluster` runs it: the coordinator node has no evaluator role; the oldest evaluator node (the seed)
        // hosts Pekko's shard coordinator, and that is the node killed: the singleton and the shard homes move.
        int aPort = TestCluster.freePort();
        String seed = "127.0.0.1:" + aPort;
        ChildNode a = ChildNode.start(dir, "a", aPort, seed, 2, "");
        children.add(a);
        ChildNode b = ChildNode.start(dir, "b", TestCluster.freePort(), seed, 2, "");
        children.add(b);
        coordinator = ClusterNode.start(TestCluster.node(TestCluster.freePort(), seed, List.of(Roles.COORDINATOR), 0),
                TestCluster.STRICT);
        killOneAddOne(a, b, b.address());
    }

    /** Runs a search; at generation 2 SIGKILLs {@code victim} and starts a node joining {@code joinVia}. */
    private void killOneAddOne(ChildNode victim, ChildNode survivor, String joinVia) throws Exception {
        long t0 = System.nanoTime();
        try (Experiment ex = TestCluster.digits()) {
            List<Integer> tasks = List.of(0, 2, 4, 6);
            SearchSetup setup = SearchSetup.of(ex, SearchKind.FUSION, tasks);
            SearchConfig config = SearchConfig.defaults().withSeed(11).withGenerations(12).withPopulation(8)
                    .withAbort(AbortMode.OFF).withBatchesPerUnit(2);
            SearchResult undisturbed = NpsSearch.run(setup, config, SearchListener.NONE); // while the children start
            if (!coordinator.awaitSlots(4, Duration.ofSeconds(60))) {
                fail("evaluator nodes never came up:\n" + victim.logTail() + "\n" + survivor.logTail());
            }
            System.err.printf("T+%.1fs nodes up%n", (System.nanoTime() - t0) / 1e9);
            // The victim must hold evaluators when it is killed, or there is nothing to hand out again: an entity
            // placed before the victim's slots were known waits elsewhere until the next rebalance (every 2 s)
            // moves it. Short searches until one is scored on the victim too.
            ClusterSearch warmUp = new ClusterSearch(coordinator, TestCluster.DIGITS, ScorerOptions.defaults(), UnsharedPolicy.CARRY);
            long settle = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (warmUp.run(setup, config.withGenerations(1), SearchListener.NONE).batchesByEvaluator().keySet().stream()
                    .noneMatch(e -> e.contains("@" + victim.address() + "/"))) {
                assertTrue(System.nanoTime() < settle, "no evaluator was placed on the victim in 60 s:\n" + victim.logTail());
                ClusterNode.sleep(500);
            }
            System.err.printf("T+%.1fs the victim holds evaluators%n", (System.nanoTime() - t0) / 1e9);
            int cPort = TestCluster.freePort();
            String cAddress = "127.0.0.1:" + cPort;
            SearchListener disturb = g -> {
                System.err.printf("T+%.1fs generation %d%n", (System.nanoTime() - t0) / 1e9, g.generation());
                if (g.generation() == 2) {
                    // Killed inside generation 3, while its slots hold units (at a generation's end the scheduler may
                    // have taken idle slots back, so a kill there can find it with nothing to lose).
                    Thread.ofPlatform().start(() -> {
                        ClusterNode.sleep(200);
                        victim.kill(); // its units in flight are lost with it and must be handed out again
                    });
                    children.add(ChildNode.start(dir, "c", cPort, joinVia, 2, ""));
                } else if (g.generation() == 4) {
                    // Hold the search (on the coordinator's thread; bounded) until c is up and has loaded the
                    // run's data (its entities are attached) and the victim is gone: c takes part on any machine speed.
                    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (!(isUp(cAddress) && !isMember(victim.address()) && children.getLast().logContains("loaded spec"))
                            && System.nanoTime() < end) {
                        ClusterNode.sleep(50);
                    }
                }
            };
            // 8 candidates x 24 batches per generation at >= 10 ms a batch: about 0.5 s a generation on 4 slots.
            SearchResult r = new ClusterSearch(coordinator, TestCluster.DIGITS, ScorerOptions.defaults(), UnsharedPolicy.CARRY)
                    .withMinBatchMicros(10_000).run(setup, config, disturb);
            System.err.printf("T+%.1fs cluster run done%n", (System.nanoTime() - t0) / 1e9);
            assertTrue(isUp(cAddress), "c never came up:\n" + children.getLast().logTail());

            assertEquals(undisturbed.trajectorySha256(), r.trajectorySha256());
            assertEquals(undisturbed.bestSpec(), r.bestSpec());
            // Abort is off, so the scored batches are fixed: none lost (the count would fall short), none
            // counted twice (it would exceed), whatever was re-dispatched.
            assertEquals(undisturbed.batchesEvaluated(), r.batchesEvaluated());
            ClusterSearchTest.assertNothingLostOrCountedTwice(r);
            assertTrue(r.redispatchedBatches() > 0, "the victim's units should have been handed out again: " + r);
            Map<String, Set<String>> byNode = ClusterSearchTest.entitiesByNode(r);
            assertTrue(byNode.containsKey("pekko://nps@" + cAddress), "the node started mid-run got no work: " + byNode.keySet());
        }
    }
}
