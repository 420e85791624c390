package dev.nps.cluster;

import dev.nps.coordinator.NpsSearch;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchCompletion;
import dev.nps.coordinator.SearchException;
import dev.nps.coordinator.SearchJournal;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchRunner;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.protocol.CancelSearch;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.RegisterRun;
import dev.nps.protocol.RunEnded;
import dev.nps.protocol.RunSpec;
import dev.nps.protocol.SchedulerMessage;
import dev.nps.storage.UnsharedPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Runs searches on a cluster: the coordinator (the same {@code CoordinatorActor} as an embedded
 * search) lives on this node, evaluators are the sharded entities on evaluator nodes. The run
 * registers with the cluster's {@link SlotScheduler} (again every {@code recruitEvery}, so a
 * scheduler that moved learns it), which leases it slots by weighted fair share against the other
 * runs and attaches them; when the coordinator stops (done, failed or cancelled) the run is
 * unregistered and its slots go to the others. Evaluators that are lost or leave for another run
 * have their batches handed out again by the coordinator, so the result is the one an undisturbed
 * or embedded run gives, whatever else runs on the cluster.
 */
public final class ClusterSearch implements SearchRunner {
    private final ClusterNode node;
    private final Path spec;
    private final ScorerOptions scorer;
    private final UnsharedPolicy unshared;
    private final long simulatedMicros;
    private final Duration recruitEvery;
    private final long minBatchMicros;
    private final double weight;
    private final int cap;
    private final String tenant;

    /**
     * @param spec            the spec file, under the node's storage root (nodes resolve it against their own)
     * @param simulatedMicros &gt; 0: evaluators simulate every batch with this latency instead of scoring it
     * @param recruitEvery    how often the run re-registers with the slot scheduler
     */
    public ClusterSearch(ClusterNode node, Path spec, ScorerOptions scorer, UnsharedPolicy unshared, long simulatedMicros,
                         Duration recruitEvery) {
        this(node, spec, scorer, unshared, simulatedMicros, recruitEvery, 0, 1, 0, "");
    }

    private ClusterSearch(ClusterNode node, Path spec, ScorerOptions scorer, UnsharedPolicy unshared, long simulatedMicros,
                          Duration recruitEvery, long minBatchMicros, double weight, int cap, String tenant) {
        this.node = node;
        this.tenant = tenant;
        this.minBatchMicros = minBatchMicros;
        this.spec = spec;
        this.scorer = scorer;
        this.unshared = unshared;
        this.simulatedMicros = simulatedMicros;
        this.recruitEvery = recruitEvery;
        this.weight = weight;
        this.cap = cap;
        relativeSpec(); // fails now if the spec lies outside the storage root
    }

    public ClusterSearch(ClusterNode node, Path spec, ScorerOptions scorer, UnsharedPolicy unshared) {
        this(node, spec, scorer, unshared, 0, Duration.ofSeconds(1));
    }

    private String relativeSpec() {
        return StorageRoot.relativize(node.settings().storageRoot(), spec);
    }

    /** Scored batches take at least {@code micros} each (tests: a short search that lasts long enough to disturb). */
    public ClusterSearch withMinBatchMicros(long micros) {
        return new ClusterSearch(node, spec, scorer, unshared, simulatedMicros, recruitEvery, micros, weight, cap, tenant);
    }

    /**
     * This runner's share of the cluster's slots against concurrent runs: {@code weight} (default 1)
     * relative to theirs, at most {@code cap} slots at once (0 = no cap, the default).
     */
    public ClusterSearch withShare(double weight, int cap) {
        if (!(weight > 0) || !Double.isFinite(weight)) {
            throw new IllegalArgumentException("a run's weight must be a positive number, got " + weight);
        }
        if (cap < 0) {
            throw new IllegalArgumentException("a run's slot cap must be >= 0 (0 = no cap), got " + cap);
        }
        return new ClusterSearch(node, spec, scorer, unshared, simulatedMicros, recruitEvery, minBatchMicros, weight, cap, tenant);
    }

    /** The served run's tenant, carried to the slot scheduler's meters only (empty = none). */
    public ClusterSearch withTenant(String t) {
        return new ClusterSearch(node, spec, scorer, unshared, simulatedMicros, recruitEvery, minBatchMicros, weight, cap, t);
    }

    /** What every evaluator node needs to rebuild this search's data, and the run's share. */
    RunSpec runSpec(SearchSetup setup, SearchConfig config) {
        return RunSpec.newBuilder()
                .setSpec(relativeSpec())
                .setSpecSha256(simulatedMicros > 0 ? "" : dev.nps.storage.Sha256.ofFile(spec, "spec"))
                .setUnshared(unshared.name())
                .setFeed(scorer.feedMode().name())
                .setThreads(scorer.intraOpThreads())
                .addAllPartitionTasks(setup.tasks())
                .addAllEvalTasks(setup.calibration().keySet())
                .setSubspaces(config.subspaces())
                .setKeep(config.keep())
                .setPartition(config.partition().name())
                .setBandFactor(config.bandFactor())
                .setSimulatedMicros(simulatedMicros)
                .setMinBatchMicros(minBatchMicros)
                .setSignElection(config.signElection())
                .addAllFusedMasks(config.signElection() ? NpsSearch.fusedMasks(setup, config) : List.of())
                .setWeight(weight)
                .setTenant(tenant)
                .setCap(cap)
                .build();
    }

    @Override
    public SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener, SearchJournal journal) {
        return start(setup, config, listener, journal).await();
    }

    /** Starts a search and returns at once; the handle waits for it or cancels it. */
    public Handle start(SearchSetup setup, SearchConfig config, SearchListener listener) {
        return start(setup, config, listener, SearchJournal.NONE);
    }

    /** As above, resuming from and keeping its state in {@code journal}. */
    public Handle start(SearchSetup setup, SearchConfig config, SearchListener listener, SearchJournal journal) {
        String run = UUID.randomUUID().toString();
        CompletableFuture<SearchResult> result = new CompletableFuture<>();
        CompletableFuture<ActorRef<CoordinatorMessage>> coordinatorRef = new CompletableFuture<>();
        RunSpec runSpec = runSpec(setup, config);
        Behavior<CoordinatorMessage> coordinator = NpsSearch.coordinator(setup, config, run, listener, journal, result);
        ActorRef<SchedulerMessage> scheduler = node.scheduler();
        Behavior<Void> host = Behaviors.setup(ctx -> {
            ActorRef<CoordinatorMessage> c = ctx.spawn(once(coordinator), "coordinator");
            ctx.watch(c);
            coordinatorRef.complete(c);
            SchedulerMessage register = SchedulerMessage.newBuilder().setRegister(RegisterRun.newBuilder().setRun(run)
                    .setCoordinator(ActorRefResolver.get(ctx.getSystem()).toSerializationFormat(c)).setSpec(runSpec)).build();
            Cancellable reRegister = ctx.getSystem().scheduler().scheduleAtFixedRate(Duration.ZERO, recruitEvery,
                    () -> scheduler.tell(register), ctx.getExecutionContext());
            return Behaviors.receive(Void.class)
                    .onSignal(Terminated.class, t -> {
                        reRegister.cancel();
                        scheduler.tell(SchedulerMessage.newBuilder().setEnded(RunEnded.newBuilder().setRun(run)).build());
                        result.completeExceptionally(new SearchException("search coordinator stopped before the end"));
                        return Behaviors.stopped();
                    })
                    .onSignal(PostStop.class, t -> {
                        reRegister.cancel();
                        // The node's actor system stopped under the search (downed, or a fatal error): say so.
                        result.completeExceptionally(new SearchException(STOPPED));
                        return Behaviors.same();
                    })
                    .build();
        });
        // The coordinator stops itself once the result is in (or the search failed); the host then stops too.
        node.system().systemActorOf(once(host), "search-" + run, Props.empty());
        return new Handle(run, result, coordinatorRef, node);
    }

    private static final String STOPPED =
            "this node left the cluster before the search ended (downed or stopped); rerun with the same seed";

    static <T> Behavior<T> once(Behavior<T> b) {
        return NpsSearch.once(b);
    }

    /** A running cluster search. */
    public static final class Handle {
        private final String run;
        private final CompletableFuture<SearchResult> result;
        private final CompletableFuture<ActorRef<CoordinatorMessage>> coordinator;
        private final ClusterNode node;

        private Handle(String run, CompletableFuture<SearchResult> result,
                       CompletableFuture<ActorRef<CoordinatorMessage>> coordinator, ClusterNode node) {
            this.run = run;
            this.result = result;
            this.coordinator = coordinator;
            this.node = node;
        }

        /** The run id, as the slot scheduler's accounts name it. */
        public String run() {
            return run;
        }

        /** Completes with the result, or exceptionally (a {@link dev.nps.coordinator.SearchCancelledException} once cancelled). */
        public CompletableFuture<SearchResult> result() {
            return result;
        }

        /**
         * Stops the search at once: its result fails with a {@code SearchCancelledException} that
         * holds the generations finished so far, and its slots go to the other runs. No effect once
         * the search has ended.
         */
        public void cancel(String reason) {
            coordinator.thenAccept(c -> c.tell(CoordinatorMessage.newBuilder()
                    .setCancel(CancelSearch.newBuilder().setReason(reason)).build()));
        }

        /** Waits for the result; see {@link SearchCompletion#await}. */
        public SearchResult await() {
            // A node downed by the split-brain resolver (on the minority side of a partition) shuts down: say so.
            return SearchCompletion.await(result, node.system(), STOPPED);
        }
    }
}
