package dev.nps.run;

import com.google.protobuf.Message;
import dev.nps.protocol.GenerationKept;
import dev.nps.protocol.RunClosed;
import dev.nps.protocol.RunOpened;
import dev.nps.protocol.RunSnapshot;
import dev.nps.protocol.RunStatus;
import dev.nps.protocol.SearchFinished;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * A run's durable record, event-sourced: the run opened with its fingerprint, every finished
 * generation of the search in progress (CMA-ES's full state), every finished search, and how the
 * run ended. Snapshots every {@link #SNAPSHOT_EVERY} events keep recovery short. Events and
 * snapshots are the protobuf messages of {@code run.proto}.
 */
public final class RunEntity extends EventSourcedBehavior<RunEntity.Command, Message, RunState> {
    /** Persistence ids are {@code nps-run|<run id>}. */
    public static final String TYPE = "nps-run";
    static final int SNAPSHOT_EVERY = 25;

    /** What the run's record is told; local to the JVM that executes the run. */
    public sealed interface Command {
    }

    /** Opens the run, or reopens it to resume; refused if the journal holds another run. */
    public record Open(RunOpened opened, ActorRef<Opened> replyTo) implements Command {
    }

    /** @param refusal null when accepted; else why not, in one line */
    public record Opened(RunState state, String refusal) {
    }

    public record KeepGeneration(GenerationKept kept) implements Command {
    }

    public record FinishSearch(SearchFinished finished, ActorRef<Done> replyTo) implements Command {
    }

    public record End(RunClosed ended, ActorRef<Done> replyTo) implements Command {
    }

    public record Get(ActorRef<RunState> replyTo) implements Command {
    }

    private final String runId;
    private final Timer persistTimer;
    private final Timer recoveryTimer;
    private final long startedNanos = System.nanoTime();

    private RunEntity(String runId, MeterRegistry registry) {
        super(PersistenceId.of(TYPE, runId));
        this.runId = runId;
        this.persistTimer = Timer.builder("nps.journal.persist").description("one run event persisted in the journal")
                .publishPercentileHistogram().register(registry);
        this.recoveryTimer = Timer.builder("nps.journal.recovery").description("a run entity's recovery from the journal")
                .register(registry);
    }

    public static Behavior<Command> create(String runId) {
        return create(runId, RunMeters.NONE.registry());
    }

    /** As above, timing persists and recovery into {@code registry} (nps.journal.persist, nps.journal.recovery). */
    public static Behavior<Command> create(String runId, MeterRegistry registry) {
        return new RunEntity(runId, registry);
    }

    /** Persists {@code event}; its latency (command to stored) goes to nps.journal.persist. */
    private Effect<Message, RunState> persist(Message event, java.util.function.Consumer<RunState> then) {
        long t0 = System.nanoTime();
        return Effect().persist(event).thenRun(s -> {
            persistTimer.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
            then.accept(s);
        });
    }

    @Override
    public SignalHandler<RunState> signalHandler() {
        return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(),
                s -> recoveryTimer.record(System.nanoTime() - startedNanos, java.util.concurrent.TimeUnit.NANOSECONDS)).build();
    }

    @Override
    public RunState emptyState() {
        return RunState.EMPTY;
    }

    @Override
    public CommandHandler<Command, Message, RunState> commandHandler() {
        return newCommandHandlerBuilder().forAnyState().onAnyCommand(this::onCommand);
    }

    private Effect<Message, RunState> onCommand(RunState state, Command c) {
        return switch (c) {
            case Open o -> open(state, o);
            case KeepGeneration k -> persist(k.kept(), s -> { });
            case FinishSearch f -> persist(f.finished(), s -> f.replyTo().tell(Done.getInstance()));
            case End e -> persist(e.ended(), s -> e.replyTo().tell(Done.getInstance()));
            case Get g -> Effect().none().thenRun(s -> g.replyTo().tell(s));
        };
    }

    private Effect<Message, RunState> open(RunState state, Open o) {
        if (state.opened() == null) {
            return persist(o.opened(), s -> o.replyTo().tell(new Opened(s, null)));
        }
        if (!state.opened().getFingerprint().equals(o.opened().getFingerprint())) {
            String refusal = "run " + runId + " was started as " + state.opened().getDescription()
                    + " with other inputs or options (fingerprint " + abbrev(state.opened().getFingerprint()) + ", now "
                    + abbrev(o.opened().getFingerprint()) + "); it is not mixed with this one";
            return Effect().none().thenRun(s -> o.replyTo().tell(new Opened(s, refusal)));
        }
        if (state.status() == RunStatus.RUN_RUNNING || state.status() == RunStatus.RUN_SUCCEEDED) {
            return Effect().none().thenRun(s -> o.replyTo().tell(new Opened(s, null)));
        }
        // cancelled or failed: reopening resumes it
        return persist(state.opened(), s -> o.replyTo().tell(new Opened(s, null)));
    }

    private static String abbrev(String sha) {
        return sha.length() > 12 ? sha.substring(0, 12) : sha;
    }

    @Override
    public EventHandler<RunState, Message> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onAnyEvent(RunEntity::apply);
    }

    static RunState apply(RunState state, Message event) {
        return switch (event) {
            case RunOpened o -> state.opened(o);
            case GenerationKept g -> state.kept(g);
            case SearchFinished f -> state.finished(f);
            case RunClosed e -> state.ended(e.getStatus(), e.getReason());
            default -> throw new IllegalStateException("unknown event in the journal of a run: " + event.getClass().getName());
        };
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
    }

    @Override
    public SnapshotAdapter<RunState> snapshotAdapter() {
        return new SnapshotAdapter<>() {
            @Override
            public Object toJournal(RunState state) {
                return state.toSnapshot();
            }

            @Override
            public RunState fromJournal(Object from) {
                return RunState.fromSnapshot((RunSnapshot) from);
            }
        };
    }
}
