package dev.nps.cluster;

import dev.nps.coordinator.SearchCancelledException;
import dev.nps.protocol.RunControl;
import dev.nps.protocol.RunOpened;
import dev.nps.protocol.RunReport;
import dev.nps.protocol.RunRequest;
import dev.nps.protocol.RunStatus;
import dev.nps.run.DurableRun;
import dev.nps.run.RunEntity;
import dev.nps.run.RunState;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Runs submitted to {@code nps serve}: one sharded run coordinator per run id, on nodes with the
 * {@link #ROLE} role (nodes with a journal). The entity's durable record is its {@link RunEntity}
 * child; sharding remembers the entity in the same journal (remember-entities, event-sourced), so
 * a run whose node dies restarts on another node (or on the same node, restarted) and resumes
 * from its last kept generation. It executes the run's command on a thread of its own, with the
 * node's cluster evaluators and its journal, through the node's {@link Executor}.
 */
public final class ServedRuns {
    /** Cluster role of the nodes that host run coordinators (those started with a journal). */
    public static final String ROLE = "runs";
    public static final EntityTypeKey<Object> KEY = EntityTypeKey.create(Object.class, "nps-run");

    /**
     * Executes a run's command line on {@code node}, its searches through {@code durable.runner(...)}
     * over the node's cluster evaluators; throws, saying why, if the command fails.
     */
    @FunctionalInterface
    public interface Executor {
        void execute(RunRequest request, ClusterNode node, DurableRun durable) throws Exception;
    }

    private ServedRuns() {
    }

    /** Starts the run entities on a node with the runs role, or a proxy to them elsewhere. */
    static void init(ActorSystem<?> system, ClusterNode node, Executor executor) {
        ClusterShardingSettings settings = ClusterShardingSettings.create(system).withRememberEntities(true)
                .withRememberEntitiesStoreMode(ClusterShardingSettings.rememberEntitiesStoreModeEventSourced());
        // The run id in the MDC of everything its coordinator logs (JSON lines carry it: nps.node.log).
        ClusterSharding.get(system).init(Entity.of(KEY, ctx -> Behaviors.withMdc(Object.class, Map.of("run", ctx.getEntityId()),
                        Behaviors.<Object>withStash(1000, stash -> Behaviors.setup(c -> new Coordinator(c, stash, ctx.getEntityId(),
                                node, executor, ctx.getShard()).loading()))))
                .withRole(ROLE).withSettings(settings));
    }

    /**
     * Wakes, every {@code every}, the coordinator of each run the journal holds: sharding's
     * remembered entities restart a running run after its node died, and this sweep makes sure of
     * it (a coordinator that finds its run finished passivates again at once), so no run is left
     * "running" without a coordinator.
     */
    static void sweep(ActorSystem<?> system, dev.nps.run.JournalStore store, Duration every) {
        system.scheduler().scheduleWithFixedDelay(Duration.ofSeconds(3), every, () -> {
            String table = "\"" + store.schema() + "\".\"event_journal\"";
            try (java.sql.Connection c = store.dataSource().getConnection(); java.sql.Statement st = c.createStatement();
                 java.sql.ResultSet r = st.executeQuery("SELECT DISTINCT \"persistence_id\" FROM " + table
                         + " WHERE \"persistence_id\" LIKE '" + RunEntity.TYPE + "|%'")) {
                ClusterSharding sharding = ClusterSharding.get(system);
                while (r.next()) {
                    String id = r.getString(1).substring(RunEntity.TYPE.length() + 1);
                    sharding.entityRefFor(KEY, id).tell(RunControl.newBuilder().setRun(id).setStatus(true).build());
                }
            } catch (java.sql.SQLException | RuntimeException e) {
                system.log().warn("run sweep over the {} failed: {}", store.describe(), e.getMessage());
            }
        }, system.executionContext());
    }

    /** Asks the run coordinator of {@code run} (from any node of the cluster). */
    public static CompletionStage<RunReport> ask(ActorSystem<?> system, String run, RunControl.Builder control, Duration timeout) {
        ActorRefResolver resolver = ActorRefResolver.get(system);
        return AskPattern.ask(ClusterSharding.get(system).entityRefFor(KEY, run),
                (ActorRef<RunReport> replyTo) -> control.setRun(run).setReplyTo(resolver.toSerializationFormat(replyTo)).build(),
                timeout, system.scheduler());
    }

    /** The fingerprint of a submitted run: its command line and share settings. */
    static String fingerprint(RunRequest r) {
        return dev.nps.storage.Sha256.hex(r.toByteArray());
    }

    private record Loaded(RunState state) {
    }

    private record OpenedForSubmit(RunEntity.Opened opened, ActorRef<RunReport> replyTo) {
    }

    private record Ended(RunStatus status, String reason) {
    }

    private record EndKept(RunState state) {
    }

    private static final class Coordinator {
        private final ActorContext<Object> ctx;
        private final StashBuffer<Object> stash;
        private final String run;
        private final ClusterNode node;
        private final Executor executor;
        private final ActorRef<RunEntity.Command> record;
        private final ActorRefResolver resolver;
        private RunState state = RunState.EMPTY;
        private volatile DurableRun executing;
        private volatile boolean cancelRequested;
        private volatile boolean stopped;    // handed off or the node is going down: the run goes on elsewhere
        private Thread thread;
        private final ActorRef<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard;

        /** A run not executing here needs no live coordinator: passivated (and no longer remembered) until asked again. */
        private void passivateIfIdle() {
            if (thread == null && state.status() != RunStatus.RUN_RUNNING) {
                shard.tell(new org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.Passivate<>(ctx.getSelf()));
            }
        }

        Coordinator(ActorContext<Object> ctx, StashBuffer<Object> stash, String run, ClusterNode node, Executor executor,
                    ActorRef<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard) {
            this.shard = shard;
            this.ctx = ctx;
            this.stash = stash;
            this.run = run;
            this.node = node;
            this.executor = executor;
            this.record = ctx.spawn(RunEntity.create(run, NodeMetrics.of(ctx.getSystem()).registry()), "record");
            this.resolver = ActorRefResolver.get(ctx.getSystem());
        }

        Behavior<Object> loading() {
            ctx.ask(RunState.class, record, Duration.ofSeconds(60), RunEntity.Get::new,
                    (s, e) -> s != null ? new Loaded(s) : new Ended(RunStatus.RUN_FAILED, "journal unreadable: " + e));
            return Behaviors.receive(Object.class)
                    .onMessage(Loaded.class, l -> {
                        state = l.state();
                        // A run that was executing when its node died: resume it here (no zombie left "running").
                        if (state.opened() != null && state.opened().hasRequest() && state.status() == RunStatus.RUN_RUNNING) {
                            say("run %s: resuming after %d kept generations (%d searches finished)", run, state.generationsKept(),
                                    state.finished().size());
                            start(state.opened(), dev.nps.run.RunMeters.Event.RESUMED);
                        }
                        if (stash.isEmpty()) { // woken by a message it must still answer: stays until asked no more
                            passivateIfIdle();
                        }
                        return stash.unstashAll(active());
                    })
                    .onMessage(Ended.class, e -> {
                        ctx.getLog().error("run {}: {}", run, e.reason());
                        return Behaviors.stopped();
                    })
                    .onAnyMessage(m -> {
                        stash.stash(m);
                        return Behaviors.same();
                    })
                    .build();
        }

        Behavior<Object> active() {
            return Behaviors.receive(Object.class)
                    .onSignal(org.apache.pekko.actor.typed.PostStop.class, signal -> {
                        // This entity moves (rebalance, graceful leave) or its node stops: the local execution stops
                        // without recording an end, and the run resumes wherever the entity starts next. Never
                        // two executions of one run.
                        stopped = true;
                        DurableRun d = executing;
                        if (d != null) {
                            d.cancel();
                        }
                        return Behaviors.same();
                    })
                    .onMessage(RunControl.class, this::onControl)
                    .onMessage(OpenedForSubmit.class, o -> {
                        RunEntity.Opened opened = o.opened();
                        state = opened.state();
                        if (opened.refusal() == null && thread == null && state.status() == RunStatus.RUN_RUNNING) {
                            say("run %s: started: %s", run, state.opened().getDescription());
                            start(state.opened(), state.generationsKept() > 0 ? dev.nps.run.RunMeters.Event.RESUMED
                                    : dev.nps.run.RunMeters.Event.STARTED);
                        }
                        o.replyTo().tell(report(opened.refusal()));
                        return Behaviors.same();
                    })
                    .onMessage(Ended.class, e -> {
                        say("run %s: %s%s", run, e.status().name().substring(4).toLowerCase(java.util.Locale.ROOT),
                                e.reason().isEmpty() ? "" : " (" + e.reason() + ")");
                        thread = null;
                        executing = null;
                        ctx.ask(RunState.class, record, Duration.ofSeconds(60), RunEntity.Get::new,
                                (s, err) -> new EndKept(s == null ? state : s));
                        return Behaviors.same();
                    })
                    .onMessage(EndKept.class, k -> {
                        state = k.state();
                        passivateIfIdle();
                        return Behaviors.same();
                    })
                    .onMessage(Loaded.class, l -> Behaviors.same())
                    .build();
        }

        private Behavior<Object> onControl(RunControl c) {
            // No reply_to: the journal sweep waking this coordinator (a status nobody waits for).
            ActorRef<RunReport> replyTo = c.getReplyTo().isEmpty() ? ctx.getSystem().ignoreRef() : resolver.resolveActorRef(c.getReplyTo());
            switch (c.getKindCase()) {
                case SUBMIT -> {
                    RunRequest request = c.getSubmit();
                    RunOpened opened = RunOpened.newBuilder().setFingerprint(fingerprint(request))
                            .setDescription("nps " + String.join(" ", request.getArgsList()))
                            .setOpenedEpochMillis(System.currentTimeMillis()).setRequest(request).build();
                    cancelRequested = false;
                    ctx.ask(RunEntity.Opened.class, record, Duration.ofSeconds(60), r -> new RunEntity.Open(opened, r),
                            (o, e) -> o != null ? new OpenedForSubmit(o, replyTo)
                                    : new OpenedForSubmit(new RunEntity.Opened(state, "journal: " + e.getMessage()), replyTo));
                }
                case STATUS -> ctx.ask(RunState.class, record, Duration.ofSeconds(60), RunEntity.Get::new, (s, e) -> {
                    if (s != null) {
                        state = s;
                    }
                    replyTo.tell(report(null));
                    return new Loaded(state);
                });
                case CANCEL -> {
                    cancelRequested = true;
                    DurableRun d = executing;
                    if (d != null) {
                        d.cancel();
                    }
                    replyTo.tell(report(null).toBuilder().setReason(thread != null ? "cancelling" : state.reason()).build());
                }
                case KIND_NOT_SET -> ctx.getLog().warn("run {}: ignoring an empty control message", run);
            }
            return Behaviors.same();
        }

        private RunReport report(String refusal) {
            RunReport.Builder b = RunReport.newBuilder().setRun(run).setKnown(state.opened() != null)
                    .setStatus(state.status()).setReason(state.reason()).setSearchesFinished(state.finished().size())
                    .setGenerationsKept(state.generationsKept()).setNode(node.address());
            if (state.opened() != null) {
                b.setDescription(state.opened().getDescription()).setOpenedEpochMillis(state.opened().getOpenedEpochMillis());
            }
            progress(state, b);
            if (refusal != null) {
                b.setRefusal(refusal);
            }
            return b.build();
        }

        /** The latest kept generation: of the search in progress, else of the last finished search. */
        static void progress(RunState state, RunReport.Builder b) {
            int search;
            dev.nps.protocol.SearchCheckpoint cp;
            if (state.current() != null) {
                search = state.current().getSearch();
                cp = state.current().getCheckpoint();
            } else if (!state.finished().isEmpty()) {
                search = java.util.Collections.max(state.finished().keySet());
                cp = state.finished().get(search).getOutcome().getLast();
            } else {
                return;
            }
            if (cp.getHistoryCount() == 0) {
                return;
            }
            var g = cp.getHistory(cp.getHistoryCount() - 1);
            b.setHasProgress(true).setSearch(search).setGeneration(g.getGeneration()).setBestAccuracy(cp.getBestAccuracy())
                    .setMeanAccuracy(g.getMeanAccuracy()).setSkippedShare(g.getSkippedShare());
        }

        /** One line on the node's console: what its operator watches. */
        private static void say(String format, Object... args) {
            Console.say(format, args);
        }

        /** Executes the run's command on a thread of its own: a command blocks until its searches end. */
        private void start(RunOpened opened, dev.nps.run.RunMeters.Event how) {
            ActorSystem<?> system = ctx.getSystem();
            ActorRef<Object> self = ctx.getSelf();
            var args = opened.getRequest().getArgsList();
            String tenant = dev.nps.run.RunMeters.tenantOf(opened.getRequest());
            String kind = dev.nps.run.RunMeters.kindOf(args);
            dev.nps.run.RunMeters runMeters = NodeMetrics.of(system).runs();
            thread = Thread.ofPlatform().name("nps-run-" + run).daemon().start(() -> {
                org.slf4j.MDC.put("run", run);
                org.slf4j.MDC.put("tenant", tenant);
                RunStatus status = RunStatus.RUN_SUCCEEDED;
                String reason = "";
                runMeters.event(tenant, kind, how);
                try (dev.nps.run.RunMeters.Run meters = runMeters.open(run, tenant, kind)) {
                    DurableRun durable = DurableRun.open(system, record, opened, meters);
                    executing = durable;
                    if (cancelRequested) {
                        durable.cancel();
                    }
                    executor.execute(opened.getRequest(), node, durable);
                } catch (SearchCancelledException e) {
                    status = RunStatus.RUN_CANCELLED;
                    reason = "cancelled: " + e.getMessage();
                } catch (Exception e) {
                    Throwable c = e.getCause() instanceof SearchCancelledException sc ? sc : e;
                    status = c instanceof SearchCancelledException ? RunStatus.RUN_CANCELLED : RunStatus.RUN_FAILED;
                    reason = (status == RunStatus.RUN_CANCELLED ? "cancelled: " : "")
                            + (c.getMessage() == null ? c.toString() : c.getMessage());
                }
                boolean goingDown = stopped || org.apache.pekko.actor.CoordinatedShutdown.get(system).getShutdownReason().isPresent();
                if (!goingDown) { // a run that moves away is not over: it resumes (and counts resumed) where it starts next
                    runMeters.event(tenant, kind, switch (status) {
                        case RUN_SUCCEEDED -> dev.nps.run.RunMeters.Event.SUCCEEDED;
                        case RUN_CANCELLED -> dev.nps.run.RunMeters.Event.CANCELLED;
                        default -> dev.nps.run.RunMeters.Event.FAILED;
                    });
                }
                try {
                    DurableRun d = executing;
                    if (d != null && !goingDown) {
                        d.end(status, reason);
                    }
                } catch (RuntimeException e) {
                    // the node is going down: the run stays RUNNING in the journal and resumes on restart
                }
                if (goingDown) {
                    say("run %s: stopped on this node (%s); it resumes where it starts next", run, reason);
                    return;
                }
                self.tell(new Ended(status, reason));
            });
        }
    }
}
