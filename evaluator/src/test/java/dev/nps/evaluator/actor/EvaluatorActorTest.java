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
import dev.nps.protocol.ReleaseRun;
import dev.nps.protocol.SchedulerMessage;
import dev.nps.protocol.WorkRequest;
import dev.nps.protocol.TaskMask;
import dev.nps.protocol.WorkUnit;
import dev.nps.kernels.subspace.SubspacePartition;
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

    private static EvaluatorActor.Command attach(TestProbe<CoordinatorMessage> probe) {
        String ref = ActorRefResolver.get(KIT.system()).toSerializationFormat(probe.getRef());
        return EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setAttach(Attach.newBuilder().setCoordinator(ref).setRun("run-1")).build());
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
        ActorRef<EvaluatorActor.Command> ev = KIT.spawn(EvaluatorActor.create(data));
        ev.tell(attach(probe));
        CoordinatorMessage first = probe.receiveMessage();
        assertEquals("run-1", first.getRequest().getRun());
        String self = first.getRequest().getEvaluator();

        WorkUnit u = unit(42, 2, 3).build();
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setWork(u).build()));
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
        ActorRef<EvaluatorActor.Command> ev = KIT.spawn(EvaluatorActor.create(data));
        ev.tell(attach(probe));
        probe.receiveMessage();
        WorkUnit u = unit(7, 8, 6).build(); // all 48 batches: far more than fit before the abort lands
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setWork(u).build()));
        assertEquals(7, probe.receiveMessage().getScored().getCandidate());
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setAbort(AbortCandidate.newBuilder().setCandidate(7).setRun("run-1")).build()));
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
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setAbort(AbortCandidate.newBuilder().setCandidate(99).setRun("run-1")).build()));
        probe.expectNoMessage(Duration.ofMillis(100));
        KIT.stop(ev);
    }

    @Test
    void aBadSpecIsReportedNotThrown() {
        TestProbe<CoordinatorMessage> probe = KIT.createTestProbe(CoordinatorMessage.class);
        ActorRef<EvaluatorActor.Command> ev = KIT.spawn(EvaluatorActor.create(data));
        ev.tell(attach(probe));
        probe.receiveMessage();
        CandidateSpec bad = CandidateSpec.newBuilder().addTasks(TaskMask.newBuilder().setTask(0).addKept(1)).build();
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setWork(unit(5, 1, 1).setSpec(bad)).build()));
        CoordinatorMessage m = probe.receiveMessage();
        assertEquals(5, m.getFailed().getCandidate());
        assertTrue(m.getFailed().getMessage().contains("kept counts"), m.getFailed().getMessage());
        KIT.stop(ev);
    }

    // ------------------------------------------------------------------ several runs

    /** Counts the simulated backends built and closed, per run. */
    private static final class Backends implements java.util.function.Function<Attach, ScoringBackend> {
        final java.util.List<String> built = new java.util.concurrent.CopyOnWriteArrayList<>();
        final java.util.List<String> closed = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public ScoringBackend apply(Attach a) {
            built.add(a.getRun());
            SimulatedBackend inner = new SimulatedBackend(1_000);
            return new ScoringBackend() {
                @Override
                public void load(CandidateSpec s) {
                    inner.load(s);
                }

                @Override
                public BatchScore score(BatchRef ref) {
                    return inner.score(ref);
                }

                @Override
                public void release() {
                }

                @Override
                public void close() {
                    closed.add(a.getRun());
                }
            };
        }
    }

    private static EvaluatorActor.Command lease(TestProbe<CoordinatorMessage> coordinator, String run, TestProbe<SchedulerMessage> scheduler,
                                          String... active) {
        ActorRefResolver r = ActorRefResolver.get(KIT.system());
        return EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setAttach(Attach.newBuilder().setCoordinator(r.toSerializationFormat(coordinator.getRef()))
                .setRun(run).setScheduler(r.toSerializationFormat(scheduler.getRef())).setSlot("slot-3")
                .addAllActive(java.util.List.of(active))).build());
    }

    private static WorkUnit unitFor(String run, long epoch, long candidate, int batches) {
        return unit(candidate, 1, batches).setRun(run).setEpoch(epoch).build();
    }

    @Test
    void aLeaseForAnotherRunTakesEffectAtTheUnitBoundary() {
        TestProbe<CoordinatorMessage> a = KIT.createTestProbe(CoordinatorMessage.class);
        TestProbe<CoordinatorMessage> b = KIT.createTestProbe(CoordinatorMessage.class);
        TestProbe<SchedulerMessage> scheduler = KIT.createTestProbe(SchedulerMessage.class);
        ActorRef<EvaluatorActor.Command> ev = KIT.spawn(EvaluatorActor.create(new Backends()));
        ev.tell(lease(a, "A", scheduler, "A", "B"));
        var serving = scheduler.receiveMessage().getServing();
        assertEquals("A", serving.getRun());
        assertEquals("slot-3", serving.getSlot());
        WorkRequest first = a.receiveMessage().getRequest();
        assertEquals(1, first.getEpoch());
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setWork(unitFor("A", 1, 4, 6)).build()));
        ev.tell(lease(b, "B", scheduler, "A", "B")); // mid-unit
        for (int i = 0; i < 6; i++) {
            assertEquals(4, a.receiveMessage().getScored().getCandidate(), "the unit is finished first");
        }
        assertEquals("A", a.receiveMessage().getLeft().getRun()); // names the run it leaves
        assertEquals(2, b.receiveMessage().getRequest().getEpoch());
        assertEquals("B", scheduler.receiveMessage().getServing().getRun());

        // A unit A handed out before it saw EvaluatorLeft, and one of B for an older attachment: dropped.
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setWork(unitFor("A", 1, 5, 2)).build()));
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setWork(unitFor("B", 1, 5, 2)).build()));
        a.expectNoMessage(Duration.ofMillis(100));
        b.expectNoMessage(Duration.ZERO);
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setWork(unitFor("B", 2, 5, 2)).build()));
        assertEquals(5, b.receiveMessage().getScored().getCandidate());
        KIT.stop(ev);
    }

    @Test
    void backendsAreKeptPerRunWhileActiveAndClosedWhenTheRunEnds() {
        TestProbe<CoordinatorMessage> a = KIT.createTestProbe(CoordinatorMessage.class);
        TestProbe<CoordinatorMessage> b = KIT.createTestProbe(CoordinatorMessage.class);
        TestProbe<CoordinatorMessage> c = KIT.createTestProbe(CoordinatorMessage.class);
        TestProbe<SchedulerMessage> scheduler = KIT.createTestProbe(SchedulerMessage.class);
        Backends backends = new Backends();
        ActorRef<EvaluatorActor.Command> ev = KIT.spawn(EvaluatorActor.create(backends, () -> { }, 2));
        ev.tell(lease(a, "A", scheduler, "A", "B", "C"));
        assertEquals(1, a.receiveMessage().getRequest().getEpoch());
        ev.tell(lease(b, "B", scheduler, "A", "B", "C"));
        assertTrue(a.receiveMessage().hasLeft());
        assertEquals(2, b.receiveMessage().getRequest().getEpoch());
        ev.tell(lease(a, "A", scheduler, "A", "B", "C")); // back to A: its backend is still there
        assertTrue(b.receiveMessage().hasLeft());
        assertEquals(3, a.receiveMessage().getRequest().getEpoch());
        assertEquals(java.util.List.of("A", "B"), backends.built);
        ev.tell(lease(c, "C", scheduler, "A", "B", "C")); // a third: the least recently served (B) makes room
        assertTrue(a.receiveMessage().hasLeft());
        assertEquals(4, c.receiveMessage().getRequest().getEpoch());
        assertEquals(java.util.List.of("A", "B", "C"), backends.built);
        assertEquals(java.util.List.of("B"), backends.closed);

        // C ends mid-unit: the unit is dropped at once (its coordinator is gone), nothing is said to it.
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setWork(unitFor("C", 4, 9, 48)).build()));
        assertTrue(c.receiveMessage().hasScored());
        ev.tell(EvaluatorActor.fromWire(EvaluatorMessage.newBuilder().setRelease(ReleaseRun.newBuilder().setRun("C")).build()));
        int more = 0;
        while (true) {
            try {
                assertTrue(c.receiveMessage(Duration.ofMillis(300)).hasScored(), "only scores, and no EvaluatorLeft");
                more++;
            } catch (AssertionError timeout) {
                break; // nothing for 300 ms
            }
        }
        assertTrue(more < 5, "the released run's unit went on: " + more + " more batches");
        assertTrue(backends.closed.contains("C"));
        // A lease whose active list no longer names A closes A's backend too (a ReleaseRun that was lost).
        ev.tell(lease(b, "B", scheduler, "B"));
        assertEquals(5, b.receiveMessage().getRequest().getEpoch());
        assertEquals(java.util.List.of("B", "C", "A"), backends.closed);
        KIT.stop(ev);
    }
}
