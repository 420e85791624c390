package dev.nps.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.nps.evaluator.actor.ProtoSerializer;
import dev.nps.evaluator.actor.SearchData;
import dev.nps.evaluator.actor.EvaluatorActor;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.CancelSearch;
import dev.nps.protocol.DemandSubscription;
import dev.nps.protocol.EvaluatorLeft;
import dev.nps.protocol.RunDemand;
import dev.nps.protocol.SchedulerMessage;
import dev.nps.protocol.BatchScored;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.EvaluatorFailed;
import dev.nps.protocol.WorkRequest;
import dev.nps.protocol.WorkUnit;
import dev.nps.experiment.Experiment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The coordinator's side of the protocol, with a test probe playing a scripted evaluator. */
class CoordinatorActorTest {
    private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.parseString(
            "pekko.actor.serialize-messages = on\n" + ProtoSerializer.CONFIG).withFallback(ConfigFactory.load()));
    private static Experiment ex;

    @BeforeAll
    static void load() {
        ex = DigitsExperiment.load();
    }

    @AfterAll
    static void close() {
        KIT.shutdownTestKit();
        ex.close();
    }

    private record Harness(TestProbe<EvaluatorActor.Command> probe, ActorRef<CoordinatorMessage> coordinator, String self,
                           CompletableFuture<SearchResult> result) {
        void tell(CoordinatorMessage.Builder m) {
            coordinator.tell(m.build());
        }

        void requestWork() {
            tell(CoordinatorMessage.newBuilder().setRequest(WorkRequest.newBuilder().setEvaluator(self).setRun("run-7")));
        }

        void score(long candidate, BatchRef ref, int correct) {
            tell(CoordinatorMessage.newBuilder().setScored(BatchScored.newBuilder().setEvaluator(self)
                    .setCandidate(candidate).setBatch(ref).setCorrect(correct).setCount(50))); // 300 samples, batches of 50
        }
    }

    /** One generation of 8 candidates over task 0 (6 batches each), one unit per candidate. */
    private static Harness start() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(0));
        SearchConfig config = SearchConfig.defaults().withSubspaces(4).withGenerations(1).withCache(false)
                .withBatchesPerUnit(6);
        SearchData data = NpsSearch.searchData(setup, config);
        TestProbe<EvaluatorActor.Command> probe = KIT.createTestProbe(EvaluatorActor.Command.class);
        CompletableFuture<SearchResult> result = new CompletableFuture<>();
        KIT.spawn(CoordinatorActor.create(NpsSearch.space(setup, config, data), config, new BatchOrder(data.evalTasks()),
                List.of(probe.getRef()), "run-7", SearchListener.NONE, result));
        var attach = EvaluatorActor.toWire(probe.receiveMessage()).getAttach();
        assertEquals("run-7", attach.getRun());
        ActorRefResolver resolver = ActorRefResolver.get(KIT.system());
        return new Harness(probe, resolver.resolveActorRef(attach.getCoordinator()), resolver.toSerializationFormat(probe.getRef()),
                result);
    }

    @Test
    void dropsCandidatesThatCanNoLongerReachTheTopMu() {
        Harness h = start();
        for (int k = 0; k < 8; k++) {
            h.requestWork();
            WorkUnit unit = EvaluatorActor.toWire(h.probe().receiveMessage()).getWork();
            assertEquals(k, unit.getCandidate()); // ask order: early candidates set the bar for later ones
            assertEquals(6, unit.getBatchesCount());
            if (k < 4) {
                unit.getBatchesList().forEach(ref -> h.score(unit.getCandidate(), ref, 50)); // perfect
            } else {
                // One batch with nothing right: upper < 1 = the 4th best of the others; dropped at once.
                h.score(unit.getCandidate(), unit.getBatches(0), 0);
                assertEquals(k, EvaluatorActor.toWire(h.probe().receiveMessage(Duration.ofSeconds(5))).getAbort().getCandidate());
            }
        }
        SearchResult r = h.result().join();
        assertEquals(4, r.abortedCandidates());
        assertEquals(4 * 6 + 4, r.batchesEvaluated());
        assertEquals(4 * 5, r.batchesSkippedByAbort());
        assertEquals(1.0, r.bestAccuracy());
        assertEquals(1.0, r.history().getFirst().meanAccuracy()); // dropped candidates are left out
    }

    @Test
    void anEvaluatorFailureFailsTheSearch() {
        Harness h = start();
        h.requestWork();
        long candidate = EvaluatorActor.toWire(h.probe().receiveMessage()).getWork().getCandidate();
        h.tell(CoordinatorMessage.newBuilder().setFailed(EvaluatorFailed.newBuilder().setEvaluator(h.self())
                .setCandidate(candidate).setMessage("inference failed on batch 3")));
        var e = assertThrows(CompletionException.class, () -> h.result().join());
        SearchException cause = assertInstanceOf(SearchException.class, e.getCause());
        assertEquals("evaluation of candidate 0 failed: inference failed on batch 3", cause.getMessage());
    }

    @Test
    void aMiscountedBatchIsAnError() {
        Harness h = start();
        h.requestWork();
        WorkUnit unit = EvaluatorActor.toWire(h.probe().receiveMessage()).getWork();
        h.tell(CoordinatorMessage.newBuilder().setScored(BatchScored.newBuilder().setEvaluator(h.self())
                .setCandidate(unit.getCandidate()).setBatch(unit.getBatches(0)).setCorrect(3).setCount(49)));
        var e = assertThrows(CompletionException.class, () -> h.result().join());
        assertTrue(e.getCause().getMessage().contains("reported 49 samples"), e.getCause().getMessage());
    }

    @Test
    void anEvaluatorThatLeavesForAnotherRunHasItsUnreportedBatchesHandedOutAgain() {
        Harness h = start();
        h.requestWork();
        WorkUnit unit = EvaluatorActor.toWire(h.probe().receiveMessage()).getWork();
        assertEquals("run-7", unit.getRun());
        assertEquals(0, unit.getEpoch());
        h.score(unit.getCandidate(), unit.getBatches(0), 50);
        h.score(unit.getCandidate(), unit.getBatches(1), 50);
        // It leaves with four batches unreported (a unit handed out as the switch happened), then comes back.
        h.tell(CoordinatorMessage.newBuilder().setLeft(EvaluatorLeft.newBuilder().setEvaluator(h.self()).setRun("run-7")));
        h.tell(CoordinatorMessage.newBuilder().setRequest(WorkRequest.newBuilder().setEvaluator(h.self()).setRun("run-7")
                .setEpoch(2)));
        WorkUnit again = EvaluatorActor.toWire(h.probe().receiveMessage()).getWork();
        assertEquals(unit.getCandidate(), again.getCandidate(), "back in the same generation, it resumes its candidate");
        assertEquals(unit.getBatchesList().subList(2, 6), again.getBatchesList());
        assertEquals(2, again.getEpoch(), "a unit names the attachment it answers");
    }

    @Test
    void aSubscribedSchedulerIsToldHowManyEvaluatorsTheRunCanUse() {
        Harness h = start();
        TestProbe<SchedulerMessage> scheduler = KIT.createTestProbe(SchedulerMessage.class);
        String ref = ActorRefResolver.get(KIT.system()).toSerializationFormat(scheduler.getRef());
        h.tell(CoordinatorMessage.newBuilder().setSubscribe(DemandSubscription.newBuilder().setScheduler(ref).setLimit(3)));
        RunDemand d = scheduler.receiveMessage().getDemand();
        assertEquals("run-7", d.getRun());
        assertEquals(3, d.getSlots(), "8 units ready: as many evaluators as the limit");
        h.tell(CoordinatorMessage.newBuilder().setSubscribe(DemandSubscription.newBuilder().setScheduler(ref).setLimit(100)));
        assertEquals(8, scheduler.receiveMessage().getDemand().getSlots());
        h.requestWork(); // one unit handed out: 1 busy + 7 ready, unchanged
        h.probe().receiveMessage();
        scheduler.expectNoMessage(Duration.ofMillis(100));
    }

    @Test
    void aCancelledSearchFailsWithItsPartialHistory() {
        Harness h = start();
        h.tell(CoordinatorMessage.newBuilder().setCancel(CancelSearch.newBuilder().setReason("by the user")));
        var e = assertThrows(CompletionException.class, () -> h.result().join());
        SearchCancelledException c = assertInstanceOf(SearchCancelledException.class, e.getCause());
        assertEquals("search cancelled: by the user", c.getMessage());
        assertEquals(List.of(), c.history(), "no generation had finished");
    }
}
