package dev.nps.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import dev.nps.protocol.SchedulerMessage;
import dev.nps.protocol.SlotUsage;
import dev.nps.protocol.UsageQuery;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * One NPS cluster node: a Pekko Cluster member whose roles say what it does. An evaluator node
 * hosts evaluator entities, one per slot; a coordinator node runs searches against them (see
 * {@link ClusterSearch}). Every node starts evaluator sharding (a proxy where it has no
 * evaluator role), so any node can reach any entity, and the {@link SlotScheduler} singleton (on
 * the oldest evaluator node; a proxy elsewhere) that leases the slots to the runs.
 */
public final class ClusterNode implements AutoCloseable {
    /** Actor system name: all nodes of one cluster must use it. */
    public static final String SYSTEM = "nps";
    static final String EVALUATOR_DISPATCHER = "nps-evaluator-dispatcher";

    private final NodeSettings settings;
    private final ActorSystem<Void> system;
    private final List<Slot> slots;
    private final NodeData data;
    private final SlotPool pool;
    private final ActorRef<SchedulerMessage> scheduler;
    private int managementPort = -1;

    private ClusterNode(NodeSettings settings, ActorSystem<Void> system, List<Slot> slots, NodeData data, SlotPool pool,
                        ActorRef<SchedulerMessage> scheduler) {
        this.settings = settings;
        this.system = system;
        this.slots = slots;
        this.data = data;
        this.pool = pool;
        this.scheduler = scheduler;
    }

    /** Starts the node and joins its seeds; returns at once (membership follows within seconds). */
    public static ClusterNode start(NodeSettings settings) {
        return start(settings, ConfigFactory.empty());
    }

    /** As {@link #start(NodeSettings)}, with Pekko settings that take precedence (tests). */
    public static ClusterNode start(NodeSettings settings, Config overrides) {
        return start(settings, overrides, java.util.Optional.empty(), null);
    }

    /**
     * As above; with a journal, the node also hosts run coordinators ({@link ServedRuns}, role
     * {@code runs}) that execute submitted runs through {@code executor}. The journal's schema is
     * migrated before the node starts.
     */
    public static ClusterNode start(NodeSettings settings, Config overrides, java.util.Optional<dev.nps.run.JournalStore> journal,
                                    ServedRuns.Executor executor) {
        boolean evaluator = settings.hasRole(Roles.EVALUATOR);
        List<Slot> slots = evaluator ? Slot.of(settings) : List.of();
        List<String> roles = new ArrayList<>(settings.roles());
        if (evaluator) {
            roles.add(Roles.slots(slots.size()));
        }
        Config persistence = ConfigFactory.empty();
        if (journal.isPresent()) {
            if (executor == null) {
                throw new IllegalArgumentException("a node with a journal needs an executor for its runs");
            }
            journal.get().migrate();
            persistence = journal.get().pekkoConfig();
            roles.add(ServedRuns.ROLE);
        }
        // pekko-http's request parser recurses once per pipelined request of a read: unbounded reads let one client
        // pipeline thousands of GETs into a StackOverflowError that ends the JVM (ServiceFilesTest). 16 KiB reads bound it.
        Config config = overrides.withFallback(persistence).withFallback(settings.pekkoConfig(roles, slots.size()))
                .withFallback(ConfigFactory.parseString("pekko.io.tcp.max-received-message-size = 16k"))
                .withFallback(ConfigFactory.load());
        ActorSystem<Void> system;
        // Pekko starts silent and gets its configured level once it is up: a bind failure (port in use) is then
        // one line from bindFailure, not Pekko's stack trace before it.
        int level = logLevel(config.getString("pekko.loglevel"));
        try {
            system = ActorSystem.create(Behaviors.empty(), SYSTEM,
                    ConfigFactory.parseString("pekko.loglevel = OFF").withFallback(config));
        } catch (RuntimeException e) {
            throw bindFailure(settings, e);
        }
        setLogLevel(system, level);
        NodeData data = evaluator ? new NodeData(settings.storageRoot()) : null;
        SlotPool pool = evaluator ? new SlotPool(slots) : null;
        ActorRef<SchedulerMessage> scheduler;
        try {
            EvaluatorEntity.init(system, pool, data);
            // The slot scheduler: one per cluster, on the oldest evaluator node; a proxy to it everywhere.
            scheduler = ClusterSingleton.get(system).init(SingletonActor.of(SlotScheduler.create(() -> clusterSlots(system)),
                    SlotScheduler.NAME).withSettings(ClusterSingletonSettings.create(system).withRole(Roles.EVALUATOR)));
        } catch (RuntimeException e) {
            system.terminate();
            throw e;
        }
        if (data != null) { // a spec no run has used for its linger time is freed
            system.scheduler().scheduleAtFixedRate(Duration.ofSeconds(5), Duration.ofSeconds(5),
                    () -> data.expire(System.nanoTime()), system.executionContext());
        }
        ClusterNode node = new ClusterNode(settings, system, List.copyOf(slots), data, pool, scheduler);
        try {
            ServedRuns.init(system, node, executor != null ? executor : (r, n, d) -> {
                throw new IllegalStateException("this node executes no runs");
            });
            journal.ifPresent(j -> ServedRuns.sweep(system, j, Duration.ofSeconds(30)));
            NodeMetrics.of(system); // JVM and cluster meters from the start
            if (settings.management().isPresent()) {
                node.managementPort = startManagement(system, settings);
            }
            if (settings.discovery().isPresent()) {
                org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap.get(
                        org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system)).start();
            }
        } catch (RuntimeException e) {
            system.terminate();
            throw e;
        }
        return node;
    }

    /**
     * pekko-management's HTTP endpoint, one per node: health checks, bootstrap's contact point
     * (cluster bootstrap then joins the node through its discovery method instead of seeds) and
     * {@code /metrics}. Returns the port it listens on.
     */
    private static int startManagement(ActorSystem<Void> system, NodeSettings settings) {
        var classic = org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system);
        int port = settings.management().getAsInt();
        try {
            return org.apache.pekko.management.javadsl.PekkoManagement.get(classic).start().toCompletableFuture()
                    .get(30, TimeUnit.SECONDS).port();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            throw new IllegalArgumentException("cannot start the management endpoint on " + settings.host() + ":" + port + ": "
                    + rootMessage(e) + " (another node on this port?)", e);
        }
    }

    /** Pekko's classic log level (what its remoting and cluster log through), changeable while running. */
    public static void setLogLevel(ActorSystem<?> system, int level) {
        org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system).eventStream().setLogLevel(level);
    }

    static int logLevel(String name) {
        return switch (name.toUpperCase(java.util.Locale.ROOT)) {
            case "OFF" -> Integer.MIN_VALUE; // Pekko's OffLevel (private in Logging)
            case "ERROR" -> org.apache.pekko.event.Logging.ErrorLevel();
            case "INFO" -> org.apache.pekko.event.Logging.InfoLevel();
            case "DEBUG" -> org.apache.pekko.event.Logging.DebugLevel();
            default -> org.apache.pekko.event.Logging.WarningLevel();
        };
    }

    /** Artery's bind failure (port in use, address not local) as one line; anything else unchanged. */
    private static RuntimeException bindFailure(NodeSettings settings, RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException || (t.getMessage() != null && t.getMessage().contains("Failed to bind"))) {
                String why = t instanceof java.net.BindException && t.getMessage() != null ? t.getMessage() : rootMessage(e);
                return new IllegalArgumentException("cannot listen on " + settings.host() + ":" + settings.port() + ": " + why
                        + " (another node on this port? or a host that is not this machine's address?)", e);
            }
        }
        return e;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage()).replaceAll("\\s*\\R\\s*", " ");
    }

    public ActorSystem<Void> system() {
        return system;
    }

    public NodeSettings settings() {
        return settings;
    }

    /** This node's evaluator slots (empty on a coordinator-only node). */
    public List<Slot> slots() {
        return slots;
    }

    /** Slots held by evaluator entities on this node now. */
    int busySlots() {
        return pool == null ? 0 : slots.size() - pool.freeCount();
    }

    /** host:port others reach this node at (the real port when 0 was asked for). */
    public String address() {
        Address a = Cluster.get(system).selfMember().address();
        return a.host().get() + ":" + a.port().get();
    }

    /** The port of this node's management endpoint (health checks, /metrics); empty when it has none. */
    public java.util.OptionalInt managementPort() {
        return managementPort < 0 ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(managementPort);
    }

    /** This node's meters. */
    public NodeMetrics metrics() {
        return NodeMetrics.of(system);
    }

    /** Slots of all Up evaluator members, as Pekko's membership reports them. */
    public int clusterSlots() {
        return clusterSlots(system);
    }

    /** The cluster's slot scheduler (a proxy to the singleton). */
    ActorRef<SchedulerMessage> scheduler() {
        return scheduler;
    }

    /**
     * The slot scheduler's accounts now: per active run its weight, cap, demand, slots leased and
     * serving, slot time served and its fair share of it; per slot its lease.
     */
    public SlotUsage slotUsage(Duration timeout) {
        ActorRefResolver resolver = ActorRefResolver.get(system);
        try {
            return AskPattern.<SchedulerMessage, SlotUsage>ask(scheduler, replyTo -> SchedulerMessage.newBuilder()
                            .setQuery(UsageQuery.newBuilder().setReplyTo(resolver.toSerializationFormat(replyTo))).build(),
                    timeout, system.scheduler()).toCompletableFuture().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("the slot scheduler did not answer within " + timeout.toMillis() + " ms", e);
        }
    }

    /** What this node's data holds now (tests); empty stats on a node without the evaluator role. */
    NodeData.Stats dataStats() {
        return data == null ? new NodeData.Stats(0, 0, 0, 0, 0) : data.stats();
    }

    static int clusterSlots(ActorSystem<?> system) {
        int n = 0;
        for (Member m : Cluster.get(system).state().getMembers()) {
            if (m.status() == MemberStatus.up()) {
                n += Roles.slotsOf(m.getRoles());
            }
        }
        return n;
    }

    /** Waits until this node is Up; false after {@code timeout}. */
    public boolean awaitUp(Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (Cluster.get(system).selfMember().status() == MemberStatus.up()) {
                return true;
            }
            sleep(50);
        }
        return false;
    }

    /** Waits until the cluster counts at least {@code slots} evaluator slots; false after {@code timeout}. */
    public boolean awaitSlots(int slots, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (clusterSlots() >= slots) {
                return true;
            }
            sleep(50);
        }
        return false;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Leaves the cluster gracefully (its entities move elsewhere) and stops; bounded to 30 s. */
    @Override
    public void close() {
        system.terminate(); // runs coordinated shutdown: leave, hand shards off, stop
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            // stopping anyway
        } finally {
            if (data != null) {
                data.close();
            }
        }
    }
}
