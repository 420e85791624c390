package dev.nps.evaluator.actor;

import dev.nps.evaluator.BatchScore;
import dev.nps.evaluator.ScoringSession;
import dev.nps.protocol.AbortCandidate;
import dev.nps.protocol.Attach;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.BatchScored;
import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.EvaluatorFailed;
import dev.nps.protocol.EvaluatorMessage;
import dev.nps.protocol.ScoreNext;
import dev.nps.protocol.WorkRequest;
import dev.nps.protocol.WorkUnit;
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
 */
public final class EvaluatorActor extends AbstractBehavior<EvaluatorMessage> {
    private final SearchData data;
    private final Materializer materializer;
    private final ActorRefResolver resolver;
    private final String self;

    private ActorRef<CoordinatorMessage> coordinator;
    private String run = "";
    private WorkUnit unit;           // current unit, null when idle
    private int next;                // index of the unit's next batch
    private CandidateSpec loadedSpec;
    private ScoringSession session;  // the model of loadedSpec

    public static Behavior<EvaluatorMessage> create(SearchData data) {
        return Behaviors.setup(ctx -> new EvaluatorActor(ctx, data));
    }

    private EvaluatorActor(ActorContext<EvaluatorMessage> ctx, SearchData data) {
        super(ctx);
        this.data = data;
        this.materializer = new Materializer(data);
        this.resolver = ActorRefResolver.get(ctx.getSystem());
        this.self = resolver.toSerializationFormat(ctx.getSelf());
    }

    @Override
    public Receive<EvaluatorMessage> createReceive() {
        return newReceiveBuilder()
                .onMessage(EvaluatorMessage.class, this::onMessage)
                .onSignal(PostStop.class, signal -> {
                    closeSession();
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
        coordinator = resolver.resolveActorRef(a.getCoordinator());
        run = a.getRun();
        unit = null;
        requestWork();
    }

    private void start(WorkUnit w) {
        unit = w;
        next = 0;
        try {
            if (session == null || !w.getSpec().equals(loadedSpec)) {
                closeSession();
                long t0 = System.nanoTime();
                var weights = materializer.materialize(w.getSpec());
                long t1 = System.nanoTime();
                session = data.scorer().load(weights);
                data.cost().loaded(t1 - t0, System.nanoTime() - t1);
                loadedSpec = w.getSpec();
            }
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
            SearchData.EvalTask task = data.evalTask(ref.getTask());
            long t0 = System.nanoTime();
            score = session.scoreBatch(task.calibration(), ref.getBatch(), task.output());
            data.cost().scored(System.nanoTime() - t0);
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
        closeSession();
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        getContext().getLog().error("candidate {} failed: {}", candidate, msg);
        coordinator.tell(CoordinatorMessage.newBuilder().setFailed(EvaluatorFailed.newBuilder()
                .setEvaluator(self).setCandidate(candidate).setMessage(msg)).build());
    }

    private static EvaluatorMessage next(long candidate) {
        return EvaluatorMessage.newBuilder().setNext(ScoreNext.newBuilder().setCandidate(candidate)).build();
    }

    private void closeSession() {
        if (session != null) {
            session.close();
            session = null;
            loadedSpec = null;
        }
    }
}
