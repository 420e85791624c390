package dev.nps.run;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * A small event-sourced actor for the journal tests: every {@code Add} persists an {@link Added}
 * event; the state is a count and an order-sensitive checksum of every payload, so a recovered
 * state equals the written one only if every event came back, in order. It also reports how many
 * events recovery replayed (the tail after the snapshot) and the last snapshot written.
 */
final class Counter extends EventSourcedBehavior<Counter.Command, Counter.Added, Counter.Tally> {
    sealed interface Command {
    }

    /** Persist one event; replies with its sequence number. */
    record Add(String payload, ActorRef<Long> replyTo) implements Command {
    }

    record Get(ActorRef<Status> replyTo) implements Command {
    }

    record Added(long n, String payload) {
    }

    record Tally(long count, long checksum) {
        static final Tally EMPTY = new Tally(0, 17);

        Tally plus(Added e) {
            return new Tally(count + 1, checksum * 1_000_003L + e.n() * 31 + e.payload().hashCode());
        }
    }

    /** State after recovery and since; replayed = events applied before RecoveryCompleted; recoveryNanos = setup to RecoveryCompleted. */
    record Status(Tally state, long replayed, long lastSnapshot, long recoveryNanos, long sequenceNr) {
    }

    private final int snapshotEvery;
    private final long started = System.nanoTime();
    private boolean recovering = true;
    private long replayed;
    private long lastSnapshot = -1;
    private long recoveryNanos = -1;
    private long sequenceNr;

    private Counter(String persistenceId, int snapshotEvery) {
        super(PersistenceId.ofUniqueId(persistenceId));
        this.snapshotEvery = snapshotEvery;
    }

    /** {@code snapshotEvery} 0: no snapshots, recovery replays every event. */
    static Behavior<Command> create(String persistenceId, int snapshotEvery) {
        return Behaviors.setup(ctx -> new Counter(persistenceId, snapshotEvery));
    }

    /** The state {@code n} events of {@link #payload} give. */
    static Tally expected(int n, int payloadBytes) {
        Tally t = Tally.EMPTY;
        for (int i = 1; i <= n; i++) {
            t = t.plus(new Added(i, payload(i, payloadBytes)));
        }
        return t;
    }

    /**
     * {@code bytes} printable ASCII characters, pseudo-random per event (seeded by i): about 6.5 bits
     * per byte, so neither H2 nor PostgreSQL's TOAST compression shrinks it much, like real payloads.
     */
    static String payload(int i, int bytes) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(i);
        char[] c = new char[bytes];
        for (int j = 0; j < bytes; j++) {
            c[j] = (char) (33 + random.nextInt(94));
        }
        return new String(c);
    }

    @Override
    public Tally emptyState() {
        return Tally.EMPTY;
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return snapshotEvery > 0 ? RetentionCriteria.snapshotEvery(snapshotEvery, 2) : RetentionCriteria.disabled();
    }

    @Override
    public CommandHandler<Command, Added, Tally> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Add.class, (state, c) -> Effect().persist(new Added(state.count() + 1, c.payload()))
                        .thenRun(s -> c.replyTo().tell(s.count())))
                .onCommand(Get.class, (state, c) -> {
                    c.replyTo().tell(new Status(state, replayed, lastSnapshot, recoveryNanos, sequenceNr));
                    return Effect().none();
                })
                .build();
    }

    @Override
    public EventHandler<Tally, Added> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onEvent(Added.class, (state, e) -> {
            if (recovering) {
                replayed++;
            }
            sequenceNr = e.n();
            return state.plus(e);
        }).build();
    }

    @Override
    public SignalHandler<Tally> signalHandler() {
        return newSignalHandlerBuilder()
                .onSignal(RecoveryCompleted.instance(), state -> {
                    recovering = false;
                    recoveryNanos = System.nanoTime() - started;
                    sequenceNr = state.count();
                })
                .onSignal(SnapshotCompleted.class, (state, s) -> lastSnapshot = s.metadata().sequenceNr())
                .build();
    }
}
