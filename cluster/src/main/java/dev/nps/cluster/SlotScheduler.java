package dev.nps.cluster;

import dev.nps.evaluator.actor.EvaluatorActor;
import dev.nps.protocol.Attach;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.DemandSubscription;
import dev.nps.protocol.RegisterRun;
import dev.nps.protocol.ReleaseRun;
import dev.nps.protocol.RunDemand;
import dev.nps.protocol.RunUsage;
import dev.nps.protocol.SchedulerMessage;
import dev.nps.protocol.SchedulerTick;
import dev.nps.protocol.SlotLease;
import dev.nps.protocol.SlotServing;
import dev.nps.protocol.SlotUsage;
import dev.nps.protocol.UsageQuery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Leases the cluster's evaluator slots ({@link EvaluatorEntity} ids {@code slot-0 ..}) to the active
 * runs: a Pekko cluster singleton on the oldest evaluator node. Runs register (their host repeats
 * it every second) with a weight and a cap; their coordinators report demand (evaluators they can
 * use now, {@link RunDemand}); each slot reports the run it serves ({@link SlotServing}).
 *
 * <p>On every change, and every {@value #TICK_MILLIS} ms, it computes each run's weighted fair
 * share given the demands ({@link FairShare}) and moves the fewest slots needed to reach it: a
 * slot told to serve another run ({@link Attach}) switches at its next unit boundary, so a slot
 * whose run has nothing to hand out (a generation's tail) serves another run meanwhile and comes
 * back when its run's demand does. It prefers to move the slots a run reports idle. Every second
 * it re-sends every lease, which (re)starts entities on nodes that joined or replaced lost ones.
 *
 * <p>Accounts: per run, slot time served (from each slot's SlotServing to the next) and its fair
 * share of the same time; {@link UsageQuery} returns them. When a run ends (its host says so, or
 * its coordinator stops) every slot is told {@link ReleaseRun} and its slots go to the others at
 * once. Should the scheduler's node leave, the singleton restarts on the next oldest evaluator node
 * and learns the runs again from their hosts within a second; accounts restart there.
 */
final class SlotScheduler extends AbstractBehavior<SchedulerMessage> {
    static final String NAME = "nps-slot-scheduler";
    static final long TICK_MILLIS = 100;
    private static final int PING_EVERY = 10;                        // ticks: leases re-sent every second
    private static final double QUANTUM_NANOS = 500e6;              // hysteresis of rotating extras: 0.5 slot-seconds
    private static final int ENDED_REMEMBERED = 1024;

    private final IntSupplier clusterSlots;
    private final ClusterSharding sharding;
    private final ActorRefResolver resolver;
    private final String self;
    private final Map<String, Run> runs = new LinkedHashMap<>();     // active, in registration order
    private final LinkedHashSet<String> ended = new LinkedHashSet<>(); // late registrations of these are ignored
    private final TreeMap<Integer, Slot> slots = new TreeMap<>();
    private final Map<ActorRef<?>, String> watchedEvaluators = new HashMap<>();
    private long lastAccount = System.nanoTime();
    private int ticks;
    private final SchedulerMeters meters;
    private int tableSize = -1;
    private long moves;

    private static final class Run {
        final String id;
        final ActorRef<CoordinatorMessage> coordinator;
        final String coordinatorPath;
        final dev.nps.protocol.RunSpec spec;
        final double weight;
        final int cap;                      // 0 = none
        int demand = -1;                    // -1 until the coordinator's first report: all it may get
        Set<String> idle = Set.of();        // evaluators it reported idle
        int limitSent = -1;
        double share;                       // fluid share at the last rebalance
        long usedNanos;
        double fairNanos;

        Run(RegisterRun r, ActorRef<CoordinatorMessage> coordinator) {
            this.id = r.getRun();
            this.coordinator = coordinator;
            this.coordinatorPath = r.getCoordinator();
            this.spec = r.getSpec();
            this.weight = r.getSpec().getWeight() > 0 ? r.getSpec().getWeight() : 1;
            this.cap = Math.max(0, r.getSpec().getCap());
        }
    }

    private static final class Slot {
        final int number;
        String leased;                      // run it is told to serve; null = none
        String serving;                     // run it last said it serves; null = unknown
        long since;
        String evaluatorPath;
        ActorRef<EvaluatorActor.Command> evaluator;

        Slot(int number) {
            this.number = number;
        }

        String id() {
            return EvaluatorEntity.entityId(number);
        }
    }

    static Behavior<SchedulerMessage> create(IntSupplier clusterSlots) {
        return Behaviors.<SchedulerMessage>supervise(Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                        new SlotScheduler(ctx, timers, clusterSlots))))
                .onFailure(SupervisorStrategy.restart());
    }

    private SlotScheduler(ActorContext<SchedulerMessage> ctx, TimerScheduler<SchedulerMessage> timers, IntSupplier clusterSlots) {
        super(ctx);
        this.clusterSlots = clusterSlots;
        this.sharding = ClusterSharding.get(ctx.getSystem());
        this.resolver = ActorRefResolver.get(ctx.getSystem());
        this.self = resolver.toSerializationFormat(ctx.getSelf());
        this.meters = new SchedulerMeters(NodeMetrics.of(ctx.getSystem()).registry());
        timers.startTimerWithFixedDelay(SchedulerMessage.newBuilder().setTick(SchedulerTick.getDefaultInstance()).build(),
                Duration.ofMillis(TICK_MILLIS));
    }

    @Override
    public Receive<SchedulerMessage> createReceive() {
        return newReceiveBuilder()
                .onMessage(SchedulerMessage.class, this::onMessage)
                .onSignal(Terminated.class, this::onTerminated)
                .onSignal(org.apache.pekko.actor.typed.PostStop.class, p -> {
                    meters.close(); // the singleton moves: its meters go with it
                    return this;
                })
                .onSignal(org.apache.pekko.actor.typed.PreRestart.class, p -> {
                    meters.close(); // a restarted scheduler registers its own (the registry would keep these otherwise)
                    return this;
                })
                .build();
    }

    private Behavior<SchedulerMessage> onMessage(SchedulerMessage m) {
        switch (m.getKindCase()) {
            case REGISTER -> register(m.getRegister());
            case ENDED -> end(m.getEnded().getRun());
            case DEMAND -> demand(m.getDemand());
            case SERVING -> serving(m.getServing());
            case QUERY -> query(m.getQuery());
            case TICK -> tick();
            case KIND_NOT_SET -> getContext().getLog().warn("ignoring an empty scheduler message");
        }
        return this;
    }

    private Behavior<SchedulerMessage> onTerminated(Terminated t) {
        for (Run r : runs.values()) {
            if (r.coordinator.equals(t.getRef())) {
                end(r.id); // its host may be gone with it
                return this;
            }
        }
        String path = watchedEvaluators.remove(t.getRef());
        if (path != null) {
            account(System.nanoTime());
            for (Slot s : slots.values()) {
                if (path.equals(s.evaluatorPath)) {
                    s.serving = null; // lost: not served until its entity restarts and says so
                    s.evaluatorPath = null;
                    s.evaluator = null;
                }
            }
        }
        return this;
    }

    // ------------------------------------------------------------------ messages

    private void register(RegisterRun r) {
        if (runs.containsKey(r.getRun()) || ended.contains(r.getRun())) {
            return;
        }
        ActorRef<CoordinatorMessage> c = resolver.resolveActorRef(r.getCoordinator());
        Run run = new Run(r, c);
        account(System.nanoTime());
        runs.put(run.id, run);
        getContext().watch(c);
        getContext().getLog().info("run {} registered (weight {}, cap {})", run.id, run.weight, run.cap == 0 ? "none" : run.cap);
        refreshTable();
        subscribe(run);
        rebalance();
    }

    private void end(String id) {
        Run run = runs.get(id);
        if (run == null) {
            return;
        }
        account(System.nanoTime());
        runs.remove(id);
        ended.add(id);
        if (ended.size() > ENDED_REMEMBERED) {
            ended.removeFirst();
        }
        getContext().unwatch(run.coordinator);
        EvaluatorActor.Command release = new EvaluatorActor.Release(id);
        for (Slot s : slots.values()) {
            if (id.equals(s.leased)) {
                s.leased = null;
            }
            tellSlot(s, release); // every slot: any may keep a backend for it
        }
        getContext().getLog().info("run {} ended after {} slot-seconds", id, String.format(java.util.Locale.ROOT, "%.1f",
                run.usedNanos / 1e9));
        rebalance();
    }

    private void demand(RunDemand d) {
        Run run = runs.get(d.getRun());
        if (run == null) {
            return;
        }
        run.demand = Math.max(0, d.getSlots());
        run.idle = d.getIdleCount() == 0 ? Set.of() : new HashSet<>(d.getIdleList());
        rebalance();
    }

    private void serving(SlotServing s) {
        int number = slotNumber(s.getSlot());
        if (number < 0) {
            return;
        }
        long now = System.nanoTime();
        account(now);
        Slot slot = slots.computeIfAbsent(number, Slot::new);
        String run = s.getRun().isEmpty() ? null : s.getRun();
        if (!java.util.Objects.equals(run, slot.serving)) {
            slot.serving = run;
            slot.since = now;
        }
        if (!s.getEvaluator().equals(slot.evaluatorPath)) {
            if (slot.evaluator != null) {
                getContext().unwatch(slot.evaluator);
                watchedEvaluators.remove(slot.evaluator);
            }
            slot.evaluatorPath = s.getEvaluator();
            slot.evaluator = resolver.resolveActorRef(s.getEvaluator());
            watchedEvaluators.put(slot.evaluator, slot.evaluatorPath);
            getContext().watch(slot.evaluator);
        }
    }

    private void query(UsageQuery q) {
        account(System.nanoTime());
        SlotUsage.Builder u = SlotUsage.newBuilder().setAtNanos(lastAccount).setMoves(moves);
        for (Run r : runs.values()) {
            u.addRuns(RunUsage.newBuilder().setRun(r.id).setWeight(r.weight).setCap(r.cap)
                    .setDemand(r.demand < 0 ? tableSize : r.demand).setLeased(count(r.id, true)).setServing(count(r.id, false))
                    .setSlotNanos(r.usedNanos).setFairNanos((long) r.fairNanos));
        }
        for (Slot s : slots.values()) {
            u.addSlots(SlotLease.newBuilder().setSlot(s.id()).setLeased(s.leased == null ? "" : s.leased)
                    .setServing(s.serving == null ? "" : s.serving));
        }
        ActorRef<SlotUsage> reply = resolver.resolveActorRef(q.getReplyTo());
        reply.tell(u.build());
    }

    private void tick() {
        account(System.nanoTime());
        if (refreshTable()) {
            runs.values().forEach(this::subscribe);
        }
        rebalance();
        publish();
        if (++ticks % PING_EVERY == 0) {
            for (Slot s : slots.values()) {
                if (s.leased != null) {
                    tellSlot(s, attach(runs.get(s.leased), s));
                }
            }
        }
    }

    /** Queue depth (runs that want slots and hold none), slots held and fair share per tenant, for the meters. */
    private void publish() {
        Map<String, Integer> held = new HashMap<>();
        for (Slot s : slots.values()) {
            if (s.leased != null) {
                held.merge(s.leased, 1, Integer::sum);
            }
        }
        Map<String, double[]> perTenant = new HashMap<>();
        int waiting = 0;
        for (Run r : runs.values()) {
            int h = held.getOrDefault(r.id, 0);
            if (h == 0 && r.demand != 0) {
                waiting++;
            }
            String tenant = r.spec.getTenant().isEmpty() ? "none" : r.spec.getTenant();
            double[] v = perTenant.computeIfAbsent(tenant, t -> new double[2]);
            v[0] += h;
            v[1] += r.share;
        }
        meters.publish(waiting, perTenant);
    }

    // ------------------------------------------------------------------ accounting and leases

    /** Books served and fair slot time up to {@code now}. */
    private void account(long now) {
        long dt = now - lastAccount;
        if (dt <= 0) {
            return;
        }
        for (Slot s : slots.values()) {
            Run r = s.serving == null ? null : runs.get(s.serving);
            if (r != null) {
                r.usedNanos += now - s.since;
            }
            s.since = now;
        }
        for (Run r : runs.values()) {
            r.fairNanos += r.share * dt;
        }
        lastAccount = now;
    }

    /** Slots 0..S-1 of the cluster's membership, plus any beyond that still serve; true if the count changed. */
    private boolean refreshTable() {
        int s = clusterSlots.getAsInt();
        for (int i = 0; i < s; i++) {
            slots.computeIfAbsent(i, Slot::new);
        }
        slots.values().removeIf(slot -> slot.number >= s && slot.evaluator == null);
        boolean changed = slots.size() != tableSize;
        tableSize = slots.size();
        return changed;
    }

    private void subscribe(Run r) {
        int limit = Math.max(1, r.cap > 0 ? Math.min(r.cap, tableSize) : tableSize);
        if (limit != r.limitSent) {
            r.limitSent = limit;
            r.coordinator.tell(CoordinatorMessage.newBuilder()
                    .setSubscribe(DemandSubscription.newBuilder().setScheduler(self).setLimit(limit)).build());
        }
    }

    /** Moves the fewest slots that bring every run to its fair target; tells the slots that change. */
    private void rebalance() {
        if (runs.isEmpty() || slots.isEmpty()) {
            return;
        }
        account(System.nanoTime());
        int n = slots.size();
        List<Run> active = new ArrayList<>(runs.values());
        int k = active.size();
        double[] weights = new double[k];
        int[] limits = new int[k];
        int[] held = new int[k];
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < k; i++) {
            Run r = active.get(i);
            index.put(r.id, i);
            weights[i] = r.weight;
            int limit = r.demand < 0 ? n : r.demand;
            limits[i] = Math.min(n, r.cap > 0 ? Math.min(r.cap, limit) : limit);
        }
        for (Slot s : slots.values()) {
            Integer i = s.leased == null ? null : index.get(s.leased);
            if (i != null) {
                held[i]++;
            }
        }
        double[] fluid = FairShare.fluid(n, weights, limits);
        double[] lag = new double[k];
        boolean[] holdsExtra = new boolean[k];
        for (int i = 0; i < k; i++) {
            Run r = active.get(i);
            r.share = fluid[i];
            lag[i] = r.fairNanos - r.usedNanos;
            holdsExtra[i] = held[i] > Math.floor(fluid[i] + 1e-9);
        }
        int[] target = FairShare.targets(fluid, lag, holdsExtra, QUANTUM_NANOS);

        Map<Slot, String> before = new HashMap<>();
        slots.values().forEach(s -> before.put(s, s.leased));
        List<Slot> pool = new ArrayList<>();
        for (Slot s : slots.values()) {
            if (s.leased == null || !index.containsKey(s.leased)) {
                s.leased = null;
                pool.add(s);
            }
        }
        for (int i = 0; i < k; i++) {
            Run r = active.get(i);
            if (held[i] > target[i]) {
                List<Slot> mine = new ArrayList<>(slots.values().stream().filter(s -> r.id.equals(s.leased)).toList());
                // Give up idle evaluators first, then slots not yet switched to it, then the highest numbers.
                mine.sort(Comparator.<Slot>comparingInt(s -> r.id.equals(s.serving) && idle(s) ? 0 : 1)
                        .thenComparingInt(s -> r.id.equals(s.serving) ? 1 : 0)
                        .thenComparing(Comparator.comparingInt((Slot s) -> s.number).reversed()));
                for (Slot s : mine.subList(0, held[i] - target[i])) {
                    s.leased = null;
                    pool.add(s);
                }
                held[i] = target[i];
            }
        }
        List<Integer> under = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            if (held[i] < target[i]) {
                under.add(i);
            }
        }
        under.sort(Comparator.comparingDouble(i -> -lag[i]));
        for (int i : under) {
            Run r = active.get(i);
            while (held[i] < target[i] && !pool.isEmpty()) {
                // Prefer a slot already serving it, then an idle one, then one serving nothing, then the lowest number.
                Slot best = pool.stream().min(Comparator.<Slot>comparingInt(s -> r.id.equals(s.serving) ? 0 : idle(s) ? 1
                                : s.serving == null ? 2 : 3)
                        .thenComparingInt(s -> s.number)).orElseThrow();
                pool.remove(best);
                best.leased = r.id;
                held[i]++;
            }
        }
        for (Slot s : pool) {
            // Nobody needs it: it stays where it was; a slot with no (active) run goes where it is most likely wanted
            // next; never beyond a run's cap (then it serves nothing).
            Integer was = before.get(s) == null ? null : index.get(before.get(s));
            boolean stays = was != null && belowCap(active.get(was), held[was]);
            int best = stays ? was : -1;
            for (int i = 0; !stays && i < k; i++) {
                if (belowCap(active.get(i), held[i]) && (best < 0 || held[i] / weights[i] < held[best] / weights[best])) {
                    best = i;
                }
            }
            if (best >= 0) {
                s.leased = active.get(best).id;
                held[best]++;
            }
        }
        for (Slot s : slots.values()) {
            String was = before.get(s);
            if (!java.util.Objects.equals(was, s.leased)) {
                moves += was != null ? 1 : 0;
                tellSlot(s, attach(runs.get(s.leased), s));
            }
        }
    }

    private static boolean belowCap(Run r, int held) {
        return r.cap == 0 || held < r.cap;
    }

    /** Whether the slot's evaluator waits for work from the run it serves (by that run's last report). */
    private boolean idle(Slot s) {
        Run r = s.serving == null ? null : runs.get(s.serving);
        return r != null && s.evaluatorPath != null && r.idle.contains(s.evaluatorPath);
    }

    private EvaluatorActor.Command attach(Run r, Slot s) {
        return new EvaluatorActor.Lease(Attach.newBuilder().setCoordinator(r.coordinatorPath).setRun(r.id)
                .setSpec(r.spec).setScheduler(self).setSlot(s.id()).addAllActive(runs.keySet()).build());
    }

    private void tellSlot(Slot s, EvaluatorActor.Command m) {
        sharding.entityRefFor(EvaluatorEntity.KEY, s.id()).tell(m);
    }

    private int count(String run, boolean leased) {
        int c = 0;
        for (Slot s : slots.values()) {
            c += run.equals(leased ? s.leased : s.serving) ? 1 : 0;
        }
        return c;
    }

    private static int slotNumber(String id) {
        if (!id.startsWith("slot-")) {
            return -1;
        }
        try {
            return Integer.parseInt(id.substring(5));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
