package dev.nps.evaluator.actor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.nps.evaluator.BatchScore;
import dev.nps.evaluator.ScoringSession;
import dev.nps.protocol.AbortCandidate;
import dev.nps.protocol.Attach;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.BatchScored;
import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.EvaluatorMessage;
import dev.nps.protocol.TaskMask;
import dev.nps.protocol.WorkUnit;
import dev.nps.storage.subspace.SubspacePartition;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The evaluator's pull protocol, with every message serialized as if it crossed nodes. */
class EvaluatorActorTest {
    private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.parseString(
            "pekko.actor.serialize-messages = on\n" + ProtoSerializer.CONFIG).withFallback(ConfigFactory.load()));
    private static DigitsFixture fx;
    private static SearchData data;
    private static CandidateSpec spec;

    @BeforeAll
    static void load() {
        fx = new DigitsFixture();
        SubspacePartition part = fx.partition(0, 4, 0.1, SubspacePartition.Kind.ALL);
        data = fx.data(Map.of(0, part));
        spec = CandidateSpec.newBuilder().addTasks(MaterializerTest.taskMask(0, part, new double[] {0.5, 2, 1, 1}, false, 1.0))
                .build();
    }

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
        fx.close();
    }

    private static EvaluatorMessage attach(TestProbe<CoordinatorMessage> probe) {
        String ref = ActorRefResolver.get(KIT.system()).toSerializationFormat(probe.getRef());
        return EvaluatorMessage.newBuilder().setAttach(Attach.newBuilder().setCoordinator(ref).setRun("run-1")).build();
    }

    private static WorkUnit.Builder unit(long candidate, int tasks, int batches) {
        WorkUnit.Builder u = WorkUnit.newBuilder().setCandidate(candidate).setSpec(spec).setRun("run-1").setEpoch(1);
        int position = 0;
        for (int b = 0; b < batches; b++) {
            for (int t = 0; t < tasks; t++) {
                u.addBatches(BatchRef.newBuilder().setPosition(position++).setTask(t).setBatch(b));
            }
        }
        return u;
    }

    @Test
    void scoresEachBatchOfAUnitThenAsksForMore() {
        TestProbe<CoordinatorMessage> probe = KIT.createTestProbe(CoordinatorMessage.class);
        ActorRef<EvaluatorMessage> ev = KIT.spawn(EvaluatorActor.create(data));
        ev.tell(attach(probe));
        CoordinatorMessage first = probe.receiveMessage();
        assertEquals("run-1", first.getRequest().getRun());
        String self = first.getRequest().getEvaluator();

        WorkUnit u = unit(42, 2, 3).build();
        ev.tell(EvaluatorMessage.newBuilder().setWork(u).build());
        try (ScoringSession direct = fx.scorer.load(new Materializer(data).materialize(spec))) {
            for (BatchRef ref : u.getBatchesList()) {
                BatchScored s = probe.receiveMessage().getScored();
                BatchScore want = direct.scoreBatch(fx.calibration.get(ref.getTask()), ref.getBatch(), "logits");
                assertEquals(ref, s.getBatch());
                assertEquals(42, s.getCandidate());
                assertEquals(self, s.getEvaluator());
                assertEquals(want.correct(), s.getCorrect());
                assertEquals(want.count(), s.getCount());
            }
        }
        assertEquals(CoordinatorMessage.KindCase.REQUEST, probe.receiveMessage().getKindCase());
        KIT.stop(ev);
    }

    @Test
    void anAbortDropsTheRestOfTheUnit() {
        TestProbe<CoordinatorMessage> probe = KIT.createTestProbe(CoordinatorMessage.class);
        ActorRef<EvaluatorMessage> ev = KIT.spawn(EvaluatorActor.create(data));
        ev.tell(attach(probe));
        probe.receiveMessage();
        WorkUnit u = unit(7, 8, 6).build(); // all 48 batches: far more than fit before the abort lands
        ev.tell(EvaluatorMessage.newBuilder().setWork(u).build());
        assertEquals(7, probe.receiveMessage().getScored().getCandidate());
        ev.tell(EvaluatorMessage.newBuilder().setAbort(AbortCandidate.newBuilder().setCandidate(7).setRun("run-1")).build());
        int scored = 1;
        while (true) {
            CoordinatorMessage m = probe.receiveMessage(Duration.ofSeconds(10));
            if (m.hasRequest()) {
                break;
            }
            scored++;
        }
        assertTrue(scored < u.getBatchesCount(), "scored " + scored + " of " + u.getBatchesCount() + " despite the abort");
        // An abort for some other candidate changes nothing.
        ev.tell(EvaluatorMessage.newBuilder().setAbort(AbortCandidate.newBuilder().setCandidate(99).setRun("run-1")).build());
        probe.expectNoMessage(Duration.ofMillis(100));
        KIT.stop(ev);
    }

    @Test
    void aBadSpecIsReportedNotThrown() {
        TestProbe<CoordinatorMessage> probe = KIT.createTestProbe(CoordinatorMessage.class);
        ActorRef<EvaluatorMessage> ev = KIT.spawn(EvaluatorActor.create(data));
        ev.tell(attach(probe));
        probe.receiveMessage();
        CandidateSpec bad = CandidateSpec.newBuilder().addTasks(TaskMask.newBuilder().setTask(0).addKept(1)).build();
        ev.tell(EvaluatorMessage.newBuilder().setWork(unit(5, 1, 1).setSpec(bad)).build());
        CoordinatorMessage m = probe.receiveMessage();
        assertEquals(5, m.getFailed().getCandidate());
        assertTrue(m.getFailed().getMessage().contains("kept counts"), m.getFailed().getMessage());
        KIT.stop(ev);
    }
}
