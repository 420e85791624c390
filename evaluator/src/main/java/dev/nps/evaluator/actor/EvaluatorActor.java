package dev.nps.evaluator.actor;

import dev.nps.evaluator.BatchScore;
import dev.nps.protocol.AbortCandidate;
import dev.nps.protocol.Attach;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.BatchScored;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.EvaluatorFailed;
import dev.nps.protocol.EvaluatorMessage;
import dev.nps.protocol.ScoreNext;
import dev.nps.protocol.WorkRequest;
import dev.nps.protocol.WorkUnit;
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
 * scored one per message ({@link ScoreNext} to itself), so an {@link AbortCandidate} that
 * arrives meanwhile is seen between two batches. The last candidate's loaded model is kept, so
 * consecutive units of one candidate are materialized once.
 *
 * <p>An Attach for the run it already serves is ignored (a cluster coordinator repeats it to
 * reach entities that started elsewhere); one for another run drops the current unit and takes
 * a backend for the new run.
 */
public final class EvaluatorActor extends AbstractBehavior<EvaluatorMessage> {
    private final Function<Attach, ScoringBackend> backends;
    private final Runnable onStop;
    private final ActorRefResolver resolver;
    private final String self;

    private ActorRef<CoordinatorMessage> coordinator;
    private String coordinatorPath = "";
    private String run = "";
    private ScoringBackend backend;
    private WorkUnit unit;           // current unit, null when idle
    private int next;                // index of the unit's next batch

    /** An evaluator scoring with ONNX Runtime over one node's shared data, whatever run it serves. */
    public static Behavior<EvaluatorMessage> create(SearchData data) {
        return create(attach -> new OrtBackend(data));
    }

    /** @param backends the backend for a run, from its Attach; may throw to refuse the run */
    public static Behavior<EvaluatorMessage> create(Function<Attach, ScoringBackend> backends) {
        return create(backends, () -> { });
    }

    /** As above; {@code onStop} runs once the actor has stopped and released its backend (e.g. frees its GPU slot). */
    public static Behavior<EvaluatorMessage> create(Function<Attach, ScoringBackend> backends, Runnable onStop) {
        return Behaviors.setup(ctx -> new EvaluatorActor(ctx, backends, onStop));
    }

    private EvaluatorActor(ActorContext<EvaluatorMessage> ctx, Function<Attach, ScoringBackend> backends, Runnable onStop) {
        super(ctx);
        this.backends = backends;
        this.onStop = onStop;
        this.resolver = ActorRefResolver.get(ctx.getSystem());
        this.self = resolver.toSerializationFormat(ctx.getSelf());
    }

    @Override
    public Receive<EvaluatorMessage> createReceive() {
        return newReceiveBuilder()
                .onMessage(EvaluatorMessage.class, this::onMessage)
                .onSignal(PostStop.class, signal -> {
                    releaseBackend();
                    onStop.run();
                    return this;
                })
                .build();
    }

    private Behavior<EvaluatorMessage> onMessage(EvaluatorMessage m) {
        switch (m.getKindCase()) {
            case ATTACH -> attach(m.getAttach());
            case WORK -> start(m.getWork());
            case NEXT -> scoreNext(m.getNext());
            case ABORT -> abort(m.getAbort());
            case KIND_NOT_SET -> getContext().getLog().warn("ignoring an empty evaluator message");
        }
        return this;
    }

    private void attach(Attach a) {
        if (backend != null && a.getRun().equals(run) && a.getCoordinator().equals(coordinatorPath)) {
            return; // already serving this run
        }
        releaseBackend();
        unit = null;
        coordinator = resolver.resolveActorRef(a.getCoordinator());
        coordinatorPath = a.getCoordinator();
        run = a.getRun();
        try {
            backend = backends.apply(a);
        } catch (RuntimeException e) {
            fail(-1, e); // this node cannot serve the run (missing or different files): the search stops, saying why
            return;
        }
        requestWork();
    }

    private void start(WorkUnit w) {
        if (backend == null) {
            getContext().getLog().warn("ignoring work for candidate {}: not attached to a run", w.getCandidate());
            return;
        }
        unit = w;
        next = 0;
        try {
            backend.load(w.getSpec());
        } catch (RuntimeException e) {
            fail(w.getCandidate(), e);
            return;
        }
        getContext().getSelf().tell(next(w.getCandidate()));
    }

    private void scoreNext(ScoreNext n) {
        if (unit == null || unit.getCandidate() != n.getCandidate()) {
            return; // the unit was dropped by an abort
        }
        BatchRef ref = unit.getBatches(next);
        BatchScore score;
        try {
            score = backend.score(ref);
        } catch (RuntimeException e) {
            fail(unit.getCandidate(), e);
            return;
        }
        coordinator.tell(CoordinatorMessage.newBuilder().setScored(BatchScored.newBuilder()
                .setEvaluator(self).setCandidate(unit.getCandidate()).setBatch(ref)
                .setCorrect(score.correct()).setCount(score.count())).build());
        next++;
        if (next < unit.getBatchesCount()) {
            getContext().getSelf().tell(next(unit.getCandidate()));
        } else {
            unit = null;
            requestWork();
        }
    }

    private void abort(AbortCandidate a) {
        if (unit != null && unit.getCandidate() == a.getCandidate()) {
            unit = null;
            requestWork();
        }
    }

    private void requestWork() {
        coordinator.tell(CoordinatorMessage.newBuilder()
                .setRequest(WorkRequest.newBuilder().setEvaluator(self).setRun(run)).build());
    }

    private void fail(long candidate, RuntimeException e) {
        unit = null;
        if (backend != null) {
            backend.release();
        }
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        getContext().getLog().error("candidate {} failed: {}", candidate, msg);
        coordinator.tell(CoordinatorMessage.newBuilder().setFailed(EvaluatorFailed.newBuilder()
                .setEvaluator(self).setCandidate(candidate).setMessage(msg)).build());
    }

    private static EvaluatorMessage next(long candidate) {
        return EvaluatorMessage.newBuilder().setNext(ScoreNext.newBuilder().setCandidate(candidate)).build();
    }

    private void releaseBackend() {
        if (backend != null) {
            backend.release();
            backend = null;
        }
    }
}
