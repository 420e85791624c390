package dev.nps.evaluator.actor;

import dev.nps.evaluator.BatchScore;
import dev.nps.protocol.AbortCandidate;
import dev.nps.protocol.Attach;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.BatchScored;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.EvaluatorFailed;
import dev.nps.protocol.EvaluatorLeft;
import dev.nps.protocol.EvaluatorMessage;
import dev.nps.protocol.ReleaseRun;
import dev.nps.protocol.SchedulerMessage;
import dev.nps.protocol.SlotServing;
import dev.nps.protocol.WorkRequest;
import dev.nps.protocol.WorkUnit;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Scores candidates' calibration batches for a coordinator. Pull-based: after {@link Attach} and
 * after every finished or dropped unit it sends a {@link WorkRequest}. A unit's batches are
 * scored one per message ({@code ScoreNext} to itself), so an {@link Abort} that
 * arrives meanwhile is seen between two batches. The last candidate's loaded model is kept, so
 * consecutive units of one candidate are materialized once.
 *
 * <p>Several runs, one at a time. An Attach is a lease: serve that run. Repeating it for the run
 * being served changes nothing (a cluster scheduler re-sends leases at will). One for another run
 * takes effect at the next unit boundary, never mid-unit: the evaluator tells the old run's
 * coordinator {@link EvaluatorLeft} and asks the new one for work. Each switch starts a new
 * attachment epoch, carried by its WorkRequests and echoed in WorkUnits, so a unit handed out
 * just before the coordinator learnt of the switch is dropped here (that coordinator hands it out
 * again on EvaluatorLeft). The backend of every run served is kept while the run is active, up to
 * {@code maxBackends} (least recently served ones are closed first), so switching back is cheap;
 * {@link ReleaseRun}, or an Attach whose active list no longer names a run, closes it.
 */
public final class EvaluatorActor extends AbstractBehavior<EvaluatorActor.Command> {
    /**
     * What an evaluator is told: records inside the JVM, one {@link EvaluatorMessage} on the wire
     * ({@link #toWire}, {@link #fromWire}, used by {@link ProtoSerializer}). A lease and a unit carry
     * their wire payloads as they are: they are data, read field by field.
     */
    public sealed interface Command permits Lease, Work, Abort, Release, ScoreNext {
    }

    /** Serve the run of this lease (from a coordinator, or a cluster's slot scheduler). */
    public record Lease(Attach attach) implements Command {
    }

    /** Score these batches of one candidate. */
    public record Work(WorkUnit unit) implements Command {
    }

    /** The candidate cannot reach the top mu any more: drop its remaining batches. */
    public record Abort(String run, long candidate) implements Command {
    }

    /** The run ended: drop its unit at once and free its backend. */
    public record Release(String run) implements Command {
    }

    /**
     * To itself only, never on the wire: score the next batch of unit {@code unit} (lets aborts in
     * between). Exempt from serialize-messages checks: it has no wire form by design.
     */
    private record ScoreNext(long candidate, long unit) implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded {
    }

    /** The wire form of a command; a {@code ScoreNext} never leaves its evaluator. */
    public static EvaluatorMessage toWire(Command c) {
        EvaluatorMessage.Builder m = EvaluatorMessage.newBuilder();
        return switch (c) {
            case Lease l -> m.setAttach(l.attach()).build();
            case Work w -> m.setWork(w.unit()).build();
            case Abort a -> m.setAbort(AbortCandidate.newBuilder().setRun(a.run()).setCandidate(a.candidate())).build();
            case Release r -> m.setRelease(ReleaseRun.newBuilder().setRun(r.run())).build();
            case ScoreNext n -> throw new IllegalArgumentException("ScoreNext is local to an evaluator, never sent");
        };
    }

    /** The command a wire message carries; an empty one is refused. */
    public static Command fromWire(EvaluatorMessage m) {
        return switch (m.getKindCase()) {
            case ATTACH -> new Lease(m.getAttach());
            case WORK -> new Work(m.getWork());
            case ABORT -> new Abort(m.getAbort().getRun(), m.getAbort().getCandidate());
            case RELEASE -> new Release(m.getRelease().getRun());
            case KIND_NOT_SET -> throw new IllegalArgumentException("an empty evaluator message");
        };
    }

    /** Backends kept per evaluator by default: each holds a candidate's buffers and session. */
    public static final int DEFAULT_MAX_BACKENDS = 4;

    private final Function<Attach, ScoringBackend> backends;
    private final Runnable onStop;
    private final int maxBackends;
    private final ActorRefResolver resolver;
    private final String self;
    private final Map<String, Served> runs = new LinkedHashMap<>(16, 0.75f, true); // access order: eldest = least recent
    private final Map<String, ActorRef<SchedulerMessage>> schedulers = new LinkedHashMap<>();

    private Served current;          // the run served now; null before the first Attach or after its run ended
    private Attach pending;          // a lease for another run, taken at the end of the current unit
    private long epoch;
    private WorkUnit unit;           // current unit, null when idle
    private int next;                // index of the unit's next batch
    private long unitSeq;

    /** A run this evaluator has served: its coordinator and backend (null if it could not be built). */
    private static final class Served {
        final String run;
        final String coordinatorPath;
        final ActorRef<CoordinatorMessage> coordinator;
        ScoringBackend backend;

        Served(String run, String coordinatorPath, ActorRef<CoordinatorMessage> coordinator) {
            this.run = run;
            this.coordinatorPath = coordinatorPath;
            this.coordinator = coordinator;
        }
    }

    /** An evaluator scoring with ONNX Runtime over one node's shared data, whatever run it serves. */
    public static Behavior<Command> create(SearchData data) {
        return create(attach -> new OrtBackend(data));
    }

    /** @param backends the backend for a run, from its Attach; may throw to refuse the run */
    public static Behavior<Command> create(Function<Attach, ScoringBackend> backends) {
        return create(backends, () -> { });
    }

    /** As above; {@code onStop} runs once the actor has stopped and closed its backends (e.g. frees its GPU slot). */
    public static Behavior<Command> create(Function<Attach, ScoringBackend> backends, Runnable onStop) {
        return create(backends, onStop, DEFAULT_MAX_BACKENDS);
    }

    /** As above, keeping at most {@code maxBackends} runs' backends. */
    public static Behavior<Command> create(Function<Attach, ScoringBackend> backends, Runnable onStop, int maxBackends) {
        if (maxBackends < 1) {
            throw new IllegalArgumentException("an evaluator keeps at least one backend, got " + maxBackends);
        }
        return Behaviors.setup(ctx -> new EvaluatorActor(ctx, backends, onStop, maxBackends));
    }

    private EvaluatorActor(ActorContext<Command> ctx, Function<Attach, ScoringBackend> backends, Runnable onStop,
                           int maxBackends) {
        super(ctx);
        this.backends = backends;
        this.onStop = onStop;
        this.maxBackends = maxBackends;
        this.resolver = ActorRefResolver.get(ctx.getSystem());
        this.self = resolver.toSerializationFormat(ctx.getSelf());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Command.class, this::onMessage)
                .onSignal(PostStop.class, signal -> {
                    runs.values().forEach(EvaluatorActor::close);
                    runs.clear();
                    onStop.run();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onMessage(Command c) {
        switch (c) {
            case Lease l -> attach(l.attach());
            case Work w -> start(w.unit());
            case ScoreNext n -> scoreNext(n);
            case Abort a -> abort(a);
            case Release r -> release(r);
        }
        return this;
    }

    private void attach(Attach a) {
        if (current != null && a.getRun().equals(current.run) && a.getCoordinator().equals(current.coordinatorPath)) {
            pending = null; // the lease stands: a switch asked for earlier is off
            acknowledge(a);
            collect(a);
            return;
        }
        if (unit != null) {
            pending = a; // switch at the unit boundary, never mid-unit
            return;
        }
        switchTo(a);
    }

    private void switchTo(Attach a) {
        pending = null;
        if (current != null) {
            current.coordinator.tell(CoordinatorMessage.newBuilder()
                    .setLeft(EvaluatorLeft.newBuilder().setEvaluator(self).setRun(current.run)).build());
        }
        Served s = runs.get(a.getRun());
        if (s != null && !s.coordinatorPath.equals(a.getCoordinator())) {
            close(runs.remove(a.getRun())); // the same run id from another coordinator: not the same run
            s = null;
        }
        epoch++;
        if (s == null) {
            s = new Served(a.getRun(), a.getCoordinator(), resolver.resolveActorRef(a.getCoordinator()));
            runs.put(s.run, s);
            current = s;
            evictBeyondLimit();
            try {
                s.backend = backends.apply(a);
            } catch (RuntimeException e) {
                fail(-1, e); // this node cannot serve the run (missing or different files): the search stops, saying why
                acknowledge(a);
                return;
            }
        }
        current = s;
        acknowledge(a);
        collect(a);
        if (s.backend != null) {
            requestWork();
        }
    }

    private void evictBeyondLimit() {
        Iterator<Served> it = runs.values().iterator();
        while (runs.size() > maxBackends && it.hasNext()) {
            Served s = it.next();
            if (s != current) {
                close(s);
                it.remove();
            }
        }
    }

    /** Closes the backends of runs the scheduler no longer lists as active (a missed ReleaseRun). */
    private void collect(Attach a) {
        if (a.getActiveCount() == 0) {
            return; // no scheduler, no list
        }
        Set<String> active = new HashSet<>(a.getActiveList());
        runs.values().removeIf(s -> {
            if (s == current || active.contains(s.run)) {
                return false;
            }
            close(s);
            return true;
        });
    }

    private void acknowledge(Attach a) {
        if (a.getScheduler().isEmpty()) {
            return;
        }
        ActorRef<SchedulerMessage> scheduler = schedulers.computeIfAbsent(a.getScheduler(), resolver::resolveActorRef);
        if (schedulers.size() > 4) { // a scheduler that moved leaves its old ref behind
            schedulers.keySet().removeIf(k -> !k.equals(a.getScheduler()));
        }
        scheduler.tell(SchedulerMessage.newBuilder().setServing(SlotServing.newBuilder().setSlot(a.getSlot())
                .setRun(current == null ? "" : current.run).setEvaluator(self)).build());
    }

    private void release(Release r) {
        if (pending != null && pending.getRun().equals(r.run())) {
            pending = null;
        }
        Served s = runs.remove(r.run());
        if (s != null) {
            close(s);
        }
        if (current != null && current.run.equals(r.run())) {
            current = null; // its coordinator is gone: no EvaluatorLeft, and the unit's scores would be wasted
            unit = null;
            if (pending != null) {
                switchTo(pending);
            }
        }
    }

    private void start(WorkUnit w) {
        if (current == null || current.backend == null || !w.getRun().equals(current.run) || w.getEpoch() != epoch) {
            getContext().getLog().debug("dropping a unit of candidate {} for run '{}' epoch {}: serving another attachment",
                    w.getCandidate(), w.getRun(), w.getEpoch());
            return;
        }
        unit = w;
        next = 0;
        unitSeq++;
        try {
            current.backend.load(w.getSpec());
        } catch (RuntimeException e) {
            fail(w.getCandidate(), e);
            return;
        }
        getContext().getSelf().tell(next(w.getCandidate(), unitSeq));
    }

    private void scoreNext(ScoreNext n) {
        if (unit == null || n.unit() != unitSeq) {
            return; // the unit was dropped (abort, run released)
        }
        BatchRef ref = unit.getBatches(next);
        BatchScore score;
        try {
            score = current.backend.score(ref);
        } catch (RuntimeException e) {
            fail(unit.getCandidate(), e);
            return;
        }
        current.coordinator.tell(CoordinatorMessage.newBuilder().setScored(BatchScored.newBuilder()
                .setEvaluator(self).setCandidate(unit.getCandidate()).setBatch(ref)
                .setCorrect(score.correct()).setCount(score.count())).build());
        next++;
        if (next < unit.getBatchesCount()) {
            getContext().getSelf().tell(next(unit.getCandidate(), unitSeq));
        } else {
            unitDone();
        }
    }

    private void abort(Abort a) {
        if (unit != null && unit.getCandidate() == a.candidate() && a.run().equals(current.run)) {
            unitDone();
        }
    }

    /** A unit boundary: take a pending lease, else ask for more. */
    private void unitDone() {
        unit = null;
        if (pending != null) {
            switchTo(pending);
        } else {
            requestWork();
        }
    }

    private void requestWork() {
        current.coordinator.tell(CoordinatorMessage.newBuilder()
                .setRequest(WorkRequest.newBuilder().setEvaluator(self).setRun(current.run).setEpoch(epoch)).build());
    }

    private void fail(long candidate, RuntimeException e) {
        unit = null;
        if (current.backend != null) {
            current.backend.release();
        }
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        getContext().getLog().error("candidate {} failed: {}", candidate, msg);
        current.coordinator.tell(CoordinatorMessage.newBuilder().setFailed(EvaluatorFailed.newBuilder()
                .setEvaluator(self).setCandidate(candidate).setMessage(msg)).build());
    }

    private static Command next(long candidate, long unit) {
        return new ScoreNext(candidate, unit);
    }

    private static void close(Served s) {
        if (s.backend != null) {
            s.backend.close();
            s.backend = null;
        }
    }
}
