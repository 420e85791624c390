package dev.nps.coordinator;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.nps.evaluator.actor.EvaluatorActor;
import dev.nps.evaluator.actor.ProtoSerializer;
import dev.nps.evaluator.actor.SearchData;
import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.TaskMask;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.subspace.SubspacePartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Runs an NPS search on this JVM: an embedded actor system (no network), one coordinator and N
 * evaluator actors sharing the node's {@link SearchData}; returns when the last generation is told.
 *
 * <pre>{@code
 * SearchResult r = NpsSearch.run(SearchSetup.of(experiment, SearchKind.PRUNE, List.of(0)),
 *         SearchConfig.defaults().withSeed(7).withEvaluators(4), stats -> log(stats));
 * }</pre>
 */
public final class NpsSearch {
    private static final String EVALUATOR_DISPATCHER = "nps-evaluator-dispatcher";

    private NpsSearch() {
    }

    /**
     * @param listener told after every generation, on the coordinator's thread
     * @throws SearchException if an evaluator fails or the search cannot run; IllegalArgumentException on bad settings
     */
    public static SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener) {
        return run(setup, config, listener, SearchJournal.NONE);
    }

    /** As above, resuming from and keeping its state in {@code journal}. */
    public static SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener, SearchJournal journal) {
        return run(setup, config, listener, journal, ConfigFactory.empty());
    }

    /** As {@link #run(SearchSetup, SearchConfig, SearchListener)}, with Pekko settings that take precedence (tests). */
    static SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener, Config pekkoOverrides) {
        return run(setup, config, listener, SearchJournal.NONE, pekkoOverrides);
    }

    static SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener, SearchJournal journal,
                            Config pekkoOverrides) {
        SearchData data = searchData(setup, config);
        SearchSpace space = space(setup, config, data);
        checkResume(journal, space, config);
        BatchOrder order = new BatchOrder(data.evalTasks(), setup.scoreWeights());
        CompletableFuture<SearchResult> result = new CompletableFuture<>();
        String run = UUID.randomUUID().toString();
        Behavior<Void> guardian = host(data, space, order, config, listener, journal, result, run);
        ActorSystem<Void> system = ActorSystem.create(guardian, "nps-search",
                pekkoOverrides.withFallback(pekkoConfig(config.evaluators())).withFallback(ConfigFactory.load()));
        try {
            return SearchCompletion.await(result, system,
                    "the search's actor system stopped before the search ended (a fatal error on one of its threads)")
                    .withEvaluatorCost(data.cost().snapshot());
        } finally {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                // the result is already known; a slow shutdown does not change it
            }
        }
    }

    /**
     * The actors of one embedded search: evaluators on {@link #EVALUATOR_DISPATCHER} and the
     * coordinator, under a host that watches them (any stop before the result is a failure) and
     * stops, stopping them, once the coordinator has stopped.
     */
    static Behavior<Void> host(SearchData data, SearchSpace space, BatchOrder order, SearchConfig config,
                               SearchListener listener, SearchJournal journal, CompletableFuture<SearchResult> result,
                               String run) {
        return Behaviors.setup(ctx -> {
            List<ActorRef<EvaluatorActor.Command>> evaluators = new ArrayList<>();
            for (int i = 0; i < config.evaluators(); i++) {
                evaluators.add(ctx.spawn(FatalErrorGuard.guard(EvaluatorActor.Command.class, EvaluatorActor.create(data), result,
                                "evaluator-" + i), "evaluator-" + i,
                        DispatcherSelector.fromConfig(EVALUATOR_DISPATCHER)));
            }
            ActorRef<CoordinatorMessage> coordinator = ctx.spawn(FatalErrorGuard.guard(CoordinatorMessage.class,
                    CoordinatorActor.create(space, config, order, evaluators, run, listener, journal, result), result,
                    "the coordinator"),
                    "coordinator");
            // The coordinator stops once the result is complete; any earlier stop is a failure.
            ctx.watch(coordinator);
            evaluators.forEach(ctx::watch);
            return Behaviors.receive(Void.class)
                    .onSignal(Terminated.class, signal -> {
                        result.completeExceptionally(new SearchException("search actor " + signal.getRef().path().name()
                                + " stopped unexpectedly"));
                        return Behaviors.stopped();
                    })
                    .build();
        });
    }

    /**
     * {@code b}, reachable from its actor's props only until it starts. Pekko keeps resolved actor
     * references in per-thread caches (bounded, but 1024 per thread), and a cached reference keeps
     * its stopped actor's cell and props; the props would otherwise keep the whole search state (its
     * partitions, the size of the model) of every recent search alive in a long-lived actor system.
     */
    public static <T> Behavior<T> once(Behavior<T> b) {
        java.util.concurrent.atomic.AtomicReference<Behavior<T>> ref = new java.util.concurrent.atomic.AtomicReference<>(b);
        return Behaviors.setup(ctx -> {
            Behavior<T> started = ref.getAndSet(null);
            if (started == null) {
                throw new IllegalStateException("a search actor cannot be restarted");
            }
            return started;
        });
    }

    /**
     * The coordinator of one search, for an actor system the caller runs (a cluster node). It has
     * no evaluators of its own: they join by asking for work with {@code run}, after an Attach
     * naming this coordinator, and are watched from then on. It stops once {@code result} is
     * complete; a caller should watch it and fail {@code result} if it stops earlier.
     */
    public static Behavior<CoordinatorMessage> coordinator(SearchSetup setup, SearchConfig config, String run,
                                                           SearchListener listener, CompletableFuture<SearchResult> result) {
        return coordinator(setup, config, run, listener, SearchJournal.NONE, result);
    }

    /** As above, resuming from and keeping its state in {@code journal}. */
    public static Behavior<CoordinatorMessage> coordinator(SearchSetup setup, SearchConfig config, String run,
                                                           SearchListener listener, SearchJournal journal,
                                                           CompletableFuture<SearchResult> result) {
        SearchData data = searchData(setup, config);
        SearchSpace space = space(setup, config, data);
        checkResume(journal, space, config);
        return FatalErrorGuard.guard(CoordinatorMessage.class, CoordinatorActor.create(space, config,
                new BatchOrder(data.evalTasks(), setup.scoreWeights()), List.of(), run, listener, journal, result), result,
                "the coordinator");
    }

    /** A checkpoint of another search is refused before any actor starts. */
    static void checkResume(SearchJournal journal, SearchSpace space, SearchConfig config) {
        var resume = journal.resumeFrom();
        if (resume != null) {
            CoordinatorActor.checkResume(resume, space, config);
        }
    }

    /** Pekko for an embedded search: local provider and no JVM-wide hooks, over the shared settings. */
    static Config pekkoConfig(int evaluators) {
        return ConfigFactory.parseString("""
                pekko {
                  jvm-exit-on-fatal-error = off
                  jvm-shutdown-hooks = off
                  coordinated-shutdown.run-by-jvm-shutdown-hook = off
                  actor.provider = local
                }
                """).withFallback(sharedPekkoConfig(EVALUATOR_DISPATCHER, evaluators));
    }

    /**
     * What every NPS actor system shares, embedded or cluster node: logging through SLF4J,
     * protobuf messages through {@code ProtoSerializer} (Java serialization off), and evaluators
     * on their own pool of {@code threads} so blocking inference never starves the coordinator.
     */
    public static Config sharedPekkoConfig(String evaluatorDispatcher, int threads) {
        return ConfigFactory.parseString("""
                pekko {
                  loglevel = "WARNING"
                  stdout-loglevel = "OFF"
                  loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
                  logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
                  log-dead-letters = off
                  log-dead-letters-during-shutdown = off
                }
                %s {
                  type = Dispatcher
                  executor = "thread-pool-executor"
                  thread-pool-executor.fixed-pool-size = %d
                  throughput = 1
                }
                """.formatted(evaluatorDispatcher, threads)).withFallback(ConfigFactory.parseString(ProtoSerializer.CONFIG));
    }

    /**
     * The node's shared data: the setup plus each searched task's partition, built from the config.
     * With sign election (FUSION), each task vector's entries whose sign disagrees with the elected
     * sign are zeroed once here, so every node's evaluators materialize the same sign-filtered
     * models from the same few numbers; partitions stay those of the unfiltered vectors.
     */
    static SearchData searchData(SearchSetup setup, SearchConfig config) {
        Map<Integer, SubspacePartition> partitions = new HashMap<>();
        for (int t : setup.tasks()) {
            ParameterSet tau = setup.taus().get(t);
            long n = tau.elementCount();
            long keepCount = (long) Math.ceil(config.keep() * n);
            long region = config.partition() == SubspacePartition.Kind.ALL ? n
                    : Math.min(n, (long) Math.ceil(config.bandFactor() * keepCount));
            if (config.subspaces() > region) {
                throw new IllegalArgumentException("--subspaces " + config.subspaces() + " exceeds the " + region
                        + " entries the searched region of task " + t + "'s vector holds (" + n + " entries, keep " + config.keep()
                        + ", partition " + config.partition().name().toLowerCase(java.util.Locale.ROOT) + "); at most " + region);
            }
            partitions.put(t, SubspacePartition.build(tau.flatView(), config.subspaces(), keepCount,
                    config.partition(), config.bandFactor()));
        }
        List<ParameterSet> taus = setup.taus();
        if (config.signElection()) {
            if (setup.kind() != SearchKind.FUSION) {
                throw new IllegalArgumentException("sign election applies to FUSION searches, not " + setup.kind());
            }
            taus = SignElection.filter(taus, fusionMasks(setup, config, partitions), partitions);
        }
        return new SearchData(setup.base(), taus, setup.carried(), setup.scorer(), partitions, setup.calibration());
    }

    /**
     * The fixed masks of a FUSION search (what its candidates fuse), for nodes that must rebuild
     * its sign-elected task vectors.
     */
    public static List<TaskMask> fusedMasks(SearchSetup setup, SearchConfig config) {
        if (setup.kind() != SearchKind.FUSION) {
            throw new IllegalArgumentException("fused masks belong to FUSION searches, not " + setup.kind());
        }
        return fusionMasks(setup, config, searchData(setup, config.withSignElection(false)).partitions());
    }

    /** The task vectors with TIES' sign election over {@code masks} applied (see {@link SignElection}). */
    public static List<ParameterSet> signElected(List<ParameterSet> taus, List<TaskMask> masks,
                                                 Map<Integer, SubspacePartition> partitions) {
        return SignElection.filter(taus, masks, partitions);
    }

    static SearchSpace space(SearchSetup setup, SearchConfig config, SearchData data) {
        int task = setup.tasks().getFirst();
        return switch (setup.kind()) {
            case PRUNE -> new PruneSpace(task, data.partition(task), config.values(), config.weightLower(),
                    config.weightUpper());
            case TRANSFER -> new TransferSpace(task, data.partition(task), config.values(), config.weightLower(),
                    config.weightUpper(), config.lambdaStart(SearchKind.TRANSFER), config.lambdaLower(), config.lambdaUpper());
            case FUSION -> new FusionSpace(fusionMasks(setup, config, data.partitions()), config.lambdaStart(SearchKind.FUSION),
                    config.lambdaLower(), config.lambdaUpper());
        };
    }

    /** Each fused task's fixed mask: the given kept counts (and scales), else its plain top-k entries. */
    private static List<TaskMask> fusionMasks(SearchSetup setup, SearchConfig config,
                                             Map<Integer, SubspacePartition> partitions) {
        List<TaskMask> masks = new ArrayList<>();
        for (int t : setup.tasks().stream().sorted().toList()) {
            SubspacePartition part = partitions.get(t);
            SearchSetup.FixedMask fixed = setup.fixedMasks().get(t);
            TaskMask.Builder b = TaskMask.newBuilder().setTask(t);
            if (fixed == null) {
                for (long k : part.maskFor(SearchSpace.filled(part.subspaces(), 1.0)).keptPerSubspace()) {
                    b.addKept(k);
                }
            } else {
                part.maskFromCounts(fixed.kept()); // fails with the subspace that does not fit
                if (fixed.kept().length != part.subspaces() + 1) {
                    throw new IllegalArgumentException("task " + t + ": fixed mask has " + fixed.kept().length
                            + " kept counts, the partition has " + (part.subspaces() + 1) + " subspaces");
                }
                for (long k : fixed.kept()) {
                    b.addKept(k);
                }
                if (fixed.scales() != null) {
                    if (config.values() != ValueMode.REWEIGHT) {
                        throw new IllegalArgumentException("task " + t + ": fixed mask has scales but the value mode is "
                                + config.values());
                    }
                    if (fixed.scales().length != part.subspaces() + 1) {
                        throw new IllegalArgumentException("task " + t + ": fixed mask has " + fixed.scales().length
                                + " scales, expected " + (part.subspaces() + 1));
                    }
                    for (double s : fixed.scales()) {
                        b.addScales(s);
                    }
                }
            }
            masks.add(b.build());
        }
        return masks;
    }
}
