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
import dev.nps.protocol.Attach;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.EvaluatorMessage;
import dev.nps.protocol.RunSpec;
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
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Runs searches on a cluster: the coordinator (the same {@code CoordinatorActor} as an embedded
 * search) lives on this node, evaluators are the sharded entities on evaluator nodes. Every
 * {@code recruitEvery} it sends an Attach with the run's {@link RunSpec} to entities
 * {@code slot-0 .. slot-(C-1)}, C the cluster's current slot count: that starts entities on
 * nodes that joined and restarts those whose node was lost; entities already serving the run
 * ignore it. Lost evaluators' batches are handed out again by the coordinator (DeathWatch), so the
 * result is the one an undisturbed or embedded run gives.
 *
 * <p>One search at a time per cluster: entities serve the run that attached them last.
 */
public final class ClusterSearch implements SearchRunner {
    private final ClusterNode node;
    private final Path spec;
    private final ScorerOptions scorer;
    private final UnsharedPolicy unshared;
    private final long simulatedMicros;
    private final Duration recruitEvery;
    private final long minBatchMicros;

    /**
     * @param spec            the spec file, under the node's storage root (nodes resolve it against their own)
     * @param simulatedMicros &gt; 0: evaluators simulate every batch with this latency instead of scoring it
     */
    public ClusterSearch(ClusterNode node, Path spec, ScorerOptions scorer, UnsharedPolicy unshared, long simulatedMicros,
                         Duration recruitEvery) {
        this(node, spec, scorer, unshared, simulatedMicros, recruitEvery, 0);
    }

    private ClusterSearch(ClusterNode node, Path spec, ScorerOptions scorer, UnsharedPolicy unshared, long simulatedMicros,
                          Duration recruitEvery, long minBatchMicros) {
        this.node = node;
        this.minBatchMicros = minBatchMicros;
        this.spec = spec;
        this.scorer = scorer;
        this.unshared = unshared;
        this.simulatedMicros = simulatedMicros;
        this.recruitEvery = recruitEvery;
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
        return new ClusterSearch(node, spec, scorer, unshared, simulatedMicros, recruitEvery, micros);
    }

    /** What every evaluator node needs to rebuild this search's data. */
    RunSpec runSpec(SearchSetup setup, SearchConfig config) {
        return RunSpec.newBuilder()
                .setSpec(relativeSpec())
                .setSpecSha256(simulatedMicros > 0 ? "" : NodeData.sha256(spec))
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
                .build();
    }

    @Override
    public SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener, SearchJournal journal) {
        String run = UUID.randomUUID().toString();
        CompletableFuture<SearchResult> result = new CompletableFuture<>();
        RunSpec runSpec = runSpec(setup, config);
        Behavior<CoordinatorMessage> coordinator = NpsSearch.coordinator(setup, config, run, listener, journal, result);
        ClusterSharding sharding = ClusterSharding.get(node.system());
        Behavior<Void> host = Behaviors.setup(ctx -> {
            ActorRef<CoordinatorMessage> c = ctx.spawn(coordinator, "coordinator");
            ctx.watch(c);
            Attach attach = Attach.newBuilder().setCoordinator(ActorRefResolver.get(ctx.getSystem()).toSerializationFormat(c))
                    .setRun(run).setSpec(runSpec).build();
            EvaluatorMessage poke = EvaluatorMessage.newBuilder().setAttach(attach).build();
            Cancellable recruiter = ctx.getSystem().scheduler().scheduleAtFixedRate(Duration.ZERO, recruitEvery, () -> {
                int slots = node.clusterSlots();
                for (int i = 0; i < slots; i++) {
                    sharding.entityRefFor(EvaluatorEntity.KEY, EvaluatorEntity.entityId(i)).tell(poke);
                }
            }, ctx.getExecutionContext());
            return Behaviors.receive(Void.class)
                    .onSignal(Terminated.class, t -> {
                        recruiter.cancel();
                        result.completeExceptionally(new SearchException("search coordinator stopped before the end"));
                        return Behaviors.stopped();
                    })
                    .build();
        });
        // The coordinator stops itself once the result is in (or the search failed); the host then stops too.
        node.system().systemActorOf(host, "search-" + run, Props.empty());
        // A node downed by the split-brain resolver (on the minority side of a partition) shuts down: say so.
        return SearchCompletion.await(result, node.system(),
                "this node left the cluster before the search ended (downed or stopped); rerun with the same seed");
    }
}
