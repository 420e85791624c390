package dev.nps.run;

import dev.nps.coordinator.SearchJournal;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchRecords;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchRunner;
import dev.nps.protocol.GenerationKept;
import dev.nps.protocol.RunClosed;
import dev.nps.protocol.RunOpened;
import dev.nps.protocol.RunStatus;
import dev.nps.protocol.SearchCheckpoint;
import dev.nps.protocol.SearchFinished;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * One run executed by this JVM over its journal: {@link #runner} wraps the searches of a
 * workflow so that, in the order the workflow runs them, a search the journal holds as finished
 * is not run again (its recorded result is returned), the search in progress resumes from its
 * last kept generation, and every generation and finished search is kept. Workflows are
 * deterministic given their searches' results, so a rerun walks the same searches in the same
 * order and ends with the result of an undisturbed run.
 */
public final class DurableRun {
    private static final Duration ASK = Duration.ofSeconds(60);

    private final ActorSystem<?> system;
    private final ActorRef<RunEntity.Command> record;
    private final RunState atOpen;
    private final RunMeters.Run meters;
    private int nextSearch;
    private volatile boolean keptNew;
    private volatile boolean cancelled;   // this attempt told the journal a generation or a finished search

    private DurableRun(ActorSystem<?> system, ActorRef<RunEntity.Command> record, RunState atOpen, RunMeters.Run meters) {
        this.system = system;
        this.record = record;
        this.atOpen = atOpen;
        this.meters = meters;
    }

    /**
     * Opens (or reopens, to resume) the run whose record is {@code record}.
     *
     * @throws RunRefusedException if the journal holds another run under this id (other inputs or options)
     */
    public static DurableRun open(ActorSystem<?> system, ActorRef<RunEntity.Command> record, RunOpened opened) {
        return open(system, record, opened, null);
    }

    /** As above; the run's progress also goes to {@code meters} (null: none), which the caller closes. */
    public static DurableRun open(ActorSystem<?> system, ActorRef<RunEntity.Command> record, RunOpened opened, RunMeters.Run meters) {
        RunEntity.Opened o = await(system, AskPattern.ask(record, (ActorRef<RunEntity.Opened> r) -> new RunEntity.Open(opened, r),
                ASK, system.scheduler()), "open the run's journal");
        if (o.refusal() != null) {
            throw new RunRefusedException(o.refusal());
        }
        return new DurableRun(system, record, o.state(), meters);
    }

    /** The journal's state when this run was opened. */
    public RunState atOpen() {
        return atOpen;
    }

    /** True when the journal held work of an earlier attempt: finished searches or kept generations. */
    public boolean resumed() {
        return atOpen.generationsKept() > 0;
    }

    /** Cancels the run: no further search starts, the one in progress ends within a unit of work. */
    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /** True when the journal holds any work of this run: a failed run that kept nothing may drop its journal. */
    public boolean keptAnything() {
        return keptNew || resumed();
    }

    /** {@code inner} with this run's journal: finished searches skipped, the one in progress resumed, all kept. */
    public SearchRunner runner(SearchRunner inner) {
        return (setup, config, listener, ignored) -> {
            if (cancelled) {
                throw new dev.nps.coordinator.SearchCancelledException("the run was cancelled");
            }
            int search = nextSearch++;
            String key = SearchKeys.of(setup, config);
            SearchFinished done = atOpen.finished().get(search);
            if (done != null) {
                if (!done.getSearchKey().equals(key)) {
                    throw new RunRefusedException("search " + search + " of this run differs from the one its journal holds"
                            + " (another setup or setting); the run is not mixed with it");
                }
                if (meters != null) {
                    meters.searchSkipped(search);
                }
                return SearchRecords.fromProto(done.getOutcome());
            }
            SearchCheckpoint resume = atOpen.checkpointOf(search, key);
            SearchListener observed = listener;
            if (meters != null) {
                meters.searchStarted(search, config.generations());
                observed = stats -> {
                    meters.generation(stats, config.population());
                    listener.onGeneration(stats);
                };
            }
            SearchResult r = inner.run(setup, config, observed, new SearchJournal() {
                @Override
                public SearchCheckpoint resumeFrom() {
                    return resume;
                }

                @Override
                public boolean cancelled() {
                    return cancelled;
                }

                @Override
                public void generationDone(SearchCheckpoint cp) {
                    keptNew = true;
                    SearchCheckpoint last = cp.toBuilder().clearHistory().addHistory(cp.getHistory(cp.getHistoryCount() - 1)).build();
                    record.tell(new RunEntity.KeepGeneration(GenerationKept.newBuilder().setSearch(search).setSearchKey(key)
                            .setCheckpoint(last).build()));
                }
            });
            SearchFinished finished = SearchFinished.newBuilder().setSearch(search).setSearchKey(key)
                    .setOutcome(SearchRecords.toProto(r, false)).build();
            keptNew = true;
            await(system, AskPattern.ask(record, (ActorRef<org.apache.pekko.Done> a) -> new RunEntity.FinishSearch(finished, a),
                    ASK, system.scheduler()), "keep a finished search");
            if (meters != null) {
                meters.searchFinished(search);
            }
            return r;
        };
    }

    /** Records how the run ended; waits until it is kept. */
    public void end(RunStatus status, String reason) {
        RunClosed ended = RunClosed.newBuilder().setStatus(status).setReason(reason == null ? "" : reason)
                .setEndedEpochMillis(System.currentTimeMillis()).build();
        await(system, AskPattern.ask(record, (ActorRef<org.apache.pekko.Done> a) -> new RunEntity.End(ended, a), ASK,
                system.scheduler()), "record the run's end");
    }

    static <T> T await(ActorSystem<?> system, CompletionStage<T> stage, String what) {
        try {
            return stage.toCompletableFuture().get(ASK.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to " + what);
        } catch (ExecutionException | TimeoutException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException("could not " + what + ": " + (c.getMessage() == null ? c : c.getMessage()), c);
        }
    }

    /** A run the journal cannot continue: another run under this id, or a search that diverged. */
    public static final class RunRefusedException extends IllegalArgumentException {
        public RunRefusedException(String message) {
            super(message);
        }
    }
}
