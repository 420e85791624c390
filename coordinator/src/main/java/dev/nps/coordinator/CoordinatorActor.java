package dev.nps.coordinator;

import dev.nps.cmaes.CmaEs;
import dev.nps.cmaes.CmaEsOptions;
import dev.nps.evaluator.actor.EvaluatorActor;
import dev.nps.protocol.Attach;
import dev.nps.protocol.BatchScored;
import dev.nps.protocol.CancelSearch;
import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.DemandSubscription;
import dev.nps.protocol.EvaluatorLeft;
import dev.nps.protocol.RunDemand;
import dev.nps.protocol.SchedulerMessage;
import dev.nps.protocol.SearchCheckpoint;
import dev.nps.protocol.WorkRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Runs one search: CMA-ES for a fixed number of generations (never a tolerance stop, so neither
 * the cache nor aborts can move the stopping point). Per generation it asks for candidates, turns
 * them into specs, takes what the cache knows, and hands out the rest as work units (a candidate
 * and some positions of the shared batch order) to evaluators that ask for work. Every scored
 * batch narrows the candidate's accuracy interval; candidates that can no longer reach the mu best
 * are dropped ({@link AbortRule}).
 *
 * <p>What CMA-ES is told: -accuracy for a fully scored candidate, -upper for a dropped one. A
 * dropped candidate c has upper(c) below the final accuracy of at least mu others, hence below the
 * accuracy of every member of the true top mu (all of which are fully scored, since none of them
 * can be dropped). So after sorting (ties by ask order) the first mu ranks hold exactly the true
 * top mu in their true order, and CMA-ES's update, which reads only those ranks, is identical.
 * Only its record of the last generation's fitness values differs, which no update reads.
 *
 * <p>Evaluators may come and go (cluster nodes join, crash or leave): each one that asks for work
 * is watched, and the batches of a lost evaluator's unit that never reported are handed out
 * again. Scores are recorded once per (candidate, batch position): a batch scored twice (its
 * first evaluator's report arrived after all) counts once, so the result cannot depend on losses.
 * An evaluator that moves to another run (a cluster's slot scheduler re-leases its slot) says
 * {@link EvaluatorLeft} at a unit boundary and is released the same way, without DeathWatch. With a
 * {@link DemandSubscription} the coordinator tells that scheduler how many evaluators it can use
 * whenever the number changes; {@link CancelSearch} ends the search with {@link SearchCancelledException}.
 *
 * <p>This actor is the generation lifecycle and the message handling; who holds which batches is
 * kept in {@link WorkBook}, what is dropped is decided by {@link AbortRule#hopeless}, and the counts,
 * the best so far and the records built from them are kept in {@link SearchLedger}.
 *
 * <p>Local inputs (search space, result future) arrive through the factory; every message it
 * receives or sends is protobuf, with actor references as strings.
 */
final class CoordinatorActor extends AbstractBehavior<CoordinatorMessage> {
    private final SearchSpace space;
    private final SearchConfig config;
    private final BatchOrder order;
    private final SearchListener listener;
    private final CompletableFuture<SearchResult> result;
    private final ActorRefResolver resolver;
    private final String run;
    private final CmaEs cma;
    private final EvaluationCache cache;
    private final SearchJournal journal;
    private final SearchLedger ledger;
    private final WorkBook book;
    private final Map<Long, CandidateSpec> droppedSpecs = new HashMap<>(); // for batches that arrive late
    private ActorRef<SchedulerMessage> demandTo;                       // cluster: the slot scheduler, once it subscribed
    private int demandLimit;
    private int lastDemand = -1;

    private int generation;          // 0-based index of the running generation
    private double[][] xs;
    private CandidateState[] candidates; // null between generations
    private boolean finished;

    static Behavior<CoordinatorMessage> create(SearchSpace space, SearchConfig config, BatchOrder order,
                                               List<ActorRef<EvaluatorActor.Command>> evaluators, String run,
                                               SearchListener listener, CompletableFuture<SearchResult> result) {
        return create(space, config, order, evaluators, run, listener, SearchJournal.NONE, result);
    }

    static Behavior<CoordinatorMessage> create(SearchSpace space, SearchConfig config, BatchOrder order,
                                               List<ActorRef<EvaluatorActor.Command>> evaluators, String run,
                                               SearchListener listener, SearchJournal journal,
                                               CompletableFuture<SearchResult> result) {
        return Behaviors.setup(ctx -> new CoordinatorActor(ctx, space, config, order, evaluators, run, listener, journal,
                result));
    }

    private CoordinatorActor(ActorContext<CoordinatorMessage> ctx, SearchSpace space, SearchConfig config, BatchOrder order,
                             List<ActorRef<EvaluatorActor.Command>> evaluatorRefs, String run, SearchListener listener,
                             SearchJournal journal, CompletableFuture<SearchResult> result) {
        super(ctx);
        this.space = space;
        this.config = config;
        this.order = order;
        this.listener = listener;
        this.result = result;
        this.run = run;
        this.resolver = ActorRefResolver.get(ctx.getSystem());
        this.journal = journal;
        SearchCheckpoint resume = journal.resumeFrom();
        this.cma = resume == null ? new CmaEs(space.x0(), config.sigma0(), CmaEsOptions.defaults(config.seed())
                .withLambda(config.population()).withBounds(space.lower(), space.upper())) : checkResume(resume, space, config);
        this.generation = resume == null ? 0 : resume.getGenerationsDone();
        this.ledger = new SearchLedger(order.size(), resume);
        this.book = new WorkBook(run, config.batchesPerUnit(), ledger::redispatched);
        this.cache = new EvaluationCache(config.cache(), order.size());
        String self = resolver.toSerializationFormat(ctx.getSelf());
        for (ActorRef<EvaluatorActor.Command> e : evaluatorRefs) {
            book.join(resolver.toSerializationFormat(e), e, false); // local: not watched
            e.tell(new EvaluatorActor.Lease(Attach.newBuilder().setCoordinator(self).setRun(run).build()));
        }
        guarded(this::advance);
        ledger.handlerEnds();
    }

    @Override
    public Receive<CoordinatorMessage> createReceive() {
        return newReceiveBuilder()
                .onMessage(CoordinatorMessage.class, this::onMessage)
                .onSignal(Terminated.class, this::onTerminated)
                .build();
    }

    private Behavior<CoordinatorMessage> onTerminated(Terminated t) {
        ledger.handlerStarts();
        String ev = book.watchedName(t.getRef());
        if (ev != null) {
            guarded(() -> {
                int again = book.remove(ev, false);
                getContext().getLog().info("evaluator {} lost; {} batches handed out again", ev, again);
                dispatch();
            });
        }
        ledger.handlerEnds();
        return finished ? Behaviors.stopped() : this;
    }

    private Behavior<CoordinatorMessage> onMessage(CoordinatorMessage m) {
        ledger.handlerStarts();
        if (journal.cancelled() && !finished) {
            finished = true;
            result.completeExceptionally(new SearchCancelledException("the run was cancelled after " + generation
                    + " of " + config.generations() + " generations of this search", ledger.history()));
            return Behaviors.stopped();
        }
        guarded(() -> {
            switch (m.getKindCase()) {
                case REQUEST -> onRequest(m.getRequest());
                case SCORED -> onScored(m.getScored());
                case FAILED -> fail(m.getFailed().getCandidate() < 0
                        ? "evaluator " + m.getFailed().getEvaluator() + " cannot serve the run: " + m.getFailed().getMessage()
                        : "evaluation of candidate " + m.getFailed().getCandidate() + " failed: " + m.getFailed().getMessage());
                case LEFT -> onLeft(m.getLeft());
                case SUBSCRIBE -> onSubscribe(m.getSubscribe());
                case CANCEL -> onCancel(m.getCancel());
                case KIND_NOT_SET -> getContext().getLog().warn("ignoring an empty coordinator message");
            }
        });
        ledger.handlerEnds();
        return finished ? Behaviors.stopped() : this;
    }

    private void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            fail(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** CMA-ES from {@code cp}; IllegalArgumentException, saying why, if {@code cp} belongs to another search. */
    static CmaEs checkResume(SearchCheckpoint cp, SearchSpace space, SearchConfig config) {
        // The parameters a fresh start of this search would get must be those the checkpoint ran with.
        var fresh = new CmaEs(space.x0(), config.sigma0(), CmaEsOptions.defaults(config.seed())
                .withLambda(config.population()).withBounds(space.lower(), space.upper())).toProto();
        var kept = cp.getCmaes();
        String differs = kept.getDimension() != fresh.getDimension() ? "dimension " + kept.getDimension() + " vs " + fresh.getDimension()
                : kept.getLambda() != fresh.getLambda() ? "population " + kept.getLambda() + " vs " + fresh.getLambda()
                : !kept.getWeightsList().equals(fresh.getWeightsList()) || kept.getCSigma() != fresh.getCSigma()
                        || kept.getC1() != fresh.getC1() || kept.getCMu() != fresh.getCMu() ? "CMA-ES parameters"
                : !kept.getLowerList().equals(fresh.getLowerList()) || !kept.getUpperList().equals(fresh.getUpperList()) ? "bounds"
                : kept.getGeneration() != cp.getGenerationsDone() || cp.getHistoryCount() != cp.getGenerationsDone()
                        ? "generation " + kept.getGeneration() + " vs " + cp.getGenerationsDone() + " kept"
                : cp.getGenerationsDone() > config.generations() ? "generation " + cp.getGenerationsDone() + " of "
                        + config.generations()
                : kept.getPendingCount() > 0 ? "candidates asked and not told" : null;
        if (differs != null) {
            throw new IllegalArgumentException("the checkpoint to resume from does not belong to this search: " + differs);
        }
        return CmaEs.fromProto(kept);
    }

    // ------------------------------------------------------------------ messages

    private void onRequest(WorkRequest r) {
        if (!r.getRun().equals(run)) {
            getContext().getLog().warn("ignoring a work request for run '{}'", r.getRun());
            return;
        }
        String ev = r.getEvaluator();
        if (!book.serves(ev)) {
            ActorRef<EvaluatorActor.Command> ref = resolver.resolveActorRef(ev);
            book.join(ev, ref, true);
            getContext().watch(ref);
            getContext().getLog().info("evaluator {} joined the run", ev);
        }
        book.ready(ev, r.getEpoch());
        dispatch();
    }

    /** The evaluator serves another run now: what it was handed and never reported goes out again. */
    private void onLeft(EvaluatorLeft l) {
        if (!l.getRun().equals(run)) {
            return;
        }
        String ev = l.getEvaluator();
        ActorRef<EvaluatorActor.Command> ref = book.ref(ev);
        if (ref == null) {
            return;
        }
        getContext().unwatch(ref);
        int again = book.remove(ev, true); // back within the generation, it resumes its loaded candidate
        if (again > 0) {
            getContext().getLog().info("evaluator {} left the run; {} batches handed out again", ev, again);
        }
        dispatch();
    }

    private void onSubscribe(DemandSubscription s) {
        demandTo = resolver.resolveActorRef(s.getScheduler());
        demandLimit = Math.max(1, s.getLimit());
        lastDemand = -1; // a new subscriber (or limit) gets the current figure at once
        reportDemand();
    }

    private void onCancel(CancelSearch c) {
        if (!finished) {
            finished = true;
            String why = c.getReason().isEmpty() ? "search cancelled" : "search cancelled: " + c.getReason();
            result.completeExceptionally(new SearchCancelledException(why, ledger.history()));
        }
    }

    private void onScored(BatchScored s) {
        int population = cma.lambda();
        long id = s.getCandidate();
        int position = s.getBatch().getPosition();
        if (position < 0 || position >= order.size() || s.getCount() != order.samples(position)) {
            throw new IllegalStateException("evaluator reported " + s.getCount() + " samples for batch position " + position
                    + "; expected " + (position >= 0 && position < order.size() ? order.samples(position) : "a position < " + order.size()));
        }
        if (candidates == null || id / population != generation) {
            CandidateSpec spec = droppedSpecs.get(id);
            if (spec != null) {
                cache.record(spec, position, s.getCorrect());
            }
            ledger.late();
            return;
        }
        CandidateState c = candidates[(int) (id % population)];
        book.reported(s.getEvaluator(), position);
        if (!c.firstReport(position)) {
            ledger.duplicate();
            return;
        }
        ledger.scored(s.getEvaluator());
        cache.record(c.spec, position, s.getCorrect());
        if (c.status() == CandidateState.Status.RUNNING) {
            c.record(position, s.getCorrect());
            advance();
        }
    }

    // ------------------------------------------------------------------ generations

    /** Moves the search as far as it goes without new scores. */
    private void advance() {
        if (generation == config.generations() && !finished) {
            finish(); // resumed after the last generation
        }
        while (!finished) {
            if (candidates == null) {
                startGeneration();
            }
            abortHopeless();
            if (!generationComplete()) {
                dispatch();
                return;
            }
            finishGeneration();
        }
    }

    private void startGeneration() {
        List<double[]> asked = cma.ask();
        int population = asked.size();
        xs = asked.toArray(double[][]::new);
        candidates = new CandidateState[population];
        Map<CandidateSpec, CandidateState> leaders = new HashMap<>();
        for (int k = 0; k < population; k++) {
            long id = (long) generation * population + k;
            CandidateSpec spec = space.toSpec(xs[k]);
            CandidateState leader = cache.enabled() ? leaders.get(spec) : null;
            candidates[k] = leader != null ? new CandidateState(k, id, xs[k], leader)
                    : new CandidateState(k, id, xs[k], spec, order, cache.lookup(spec));
            leaders.putIfAbsent(spec, candidates[k]);
        }
        ledger.startGeneration();
        book.startGeneration(candidates);
    }

    private boolean generationComplete() {
        for (CandidateState c : candidates) {
            if (c.status() == CandidateState.Status.RUNNING) {
                return false;
            }
        }
        return true;
    }

    private void abortHopeless() {
        for (int k : AbortRule.hopeless(candidates, config.abort(), config.statisticalDelta(), cma.mu())) {
            CandidateState c = candidates[k];
            c.abort();
            ledger.aborted();
            droppedSpecs.put(c.id, c.spec);
            book.tellWorkersOf(k, new EvaluatorActor.Abort(run, c.id));
        }
    }

    /**
     * CMA-ES is told -accuracy for a fully scored candidate and -upper for a dropped one (why that
     * leaves its update exact: see the class comment).
     */
    private void finishGeneration() {
        double[] fitness = new double[candidates.length];
        for (int k = 0; k < candidates.length; k++) {
            CandidateState c = candidates[k];
            fitness[k] = switch (c.status()) {
                case DONE -> -c.lower();
                case ABORTED -> -c.upper();
                case RUNNING -> throw new IllegalStateException("generation finished with candidate " + k + " still running");
            };
        }
        cma.tell(xs, fitness);
        double[] mean = cma.mean();
        GenerationStats stats = ledger.generationDone(generation + 1, candidates, xs, mean, cma.sigma(),
                space.subspaceWeights(mean));
        candidates = null;
        book.endGeneration();
        generation++;
        long t0 = System.nanoTime();
        listener.onGeneration(stats);
        journal.generationDone(ledger.checkpoint(generation, cma.toProto()));
        ledger.outside(System.nanoTime() - t0);
        if (generation == config.generations()) {
            finish();
        }
    }

    private void finish() {
        finished = true;
        result.complete(ledger.result(config.seed(), generation, cma.lambda()));
    }

    // ------------------------------------------------------------------ work

    private void dispatch() {
        book.dispatch();
        reportDemand();
    }

    /** Tells a subscribed scheduler how many evaluators this run can use now, when that changed. */
    private void reportDemand() {
        if (demandTo == null || finished) {
            return;
        }
        int d = book.demand(demandLimit);
        if (d != lastDemand) {
            lastDemand = d;
            demandTo.tell(SchedulerMessage.newBuilder().setDemand(RunDemand.newBuilder().setRun(run).setSlots(d)
                    .addAllIdle(book.idle())).build());
        }
    }

    private void fail(String message) {
        if (!finished) {
            finished = true;
            result.completeExceptionally(new SearchException(message));
        }
    }
}
