package dev.nps.run;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.nps.coordinator.NpsSearch;
import dev.nps.protocol.RunOpened;
import dev.nps.protocol.RunStatus;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A run executed by one process over a journal of its own (the CLI: an H2 file journal in the
 * output folder): a small actor system holding the run's {@link RunEntity}, opened before the
 * first search and closed after the last.
 */
public final class LocalRun implements AutoCloseable {
    /** The run id of a CLI command: one run per output folder. */
    public static final String CLI_RUN = "cli";

    private final ActorSystem<RunEntity.Command> system;
    private final DurableRun run;
    private boolean ended;

    private LocalRun(ActorSystem<RunEntity.Command> system, DurableRun run) {
        this.system = system;
        this.run = run;
    }

    /**
     * @param persistence Pekko settings naming the journal and snapshot plugins and their database
     *                    (its schema already migrated)
     */
    public static LocalRun open(Config persistence, String runId, RunOpened opened) {
        Config config = persistence.withFallback(ConfigFactory.parseString("""
                pekko {
                  jvm-exit-on-fatal-error = off
                  jvm-shutdown-hooks = off
                  coordinated-shutdown.run-by-jvm-shutdown-hook = off
                  actor.provider = local
                }
                """)).withFallback(NpsSearch.sharedPekkoConfig("nps-run-unused-dispatcher", 1)).withFallback(ConfigFactory.load());
        ActorSystem<RunEntity.Command> system = ActorSystem.create(Behaviors.setup(ctx -> RunEntity.create(runId)), "nps-run", config);
        try {
            return new LocalRun(system, DurableRun.open(system, system, opened));
        } catch (RuntimeException e) {
            terminate(system);
            throw e;
        }
    }

    public DurableRun run() {
        return run;
    }

    /** Keeps one generation directly (benchmarks, tools): what a search's journal does after each generation. */
    public void keep(dev.nps.protocol.GenerationKept generation) {
        system.tell(new RunEntity.KeepGeneration(generation));
    }

    /** Records the end (succeeded, failed or cancelled) and closes. */
    public void end(RunStatus status, String reason) {
        if (!ended) {
            ended = true;
            run.end(status, reason);
        }
    }

    @Override
    public void close() {
        terminate(system);
    }

    private static void terminate(ActorSystem<?> system) {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // the journal has what it was told; a slow shutdown changes nothing
        }
    }

}
