package dev.nps.cli;

import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.NodeSettings;
import dev.nps.cluster.ServedRuns;
import dev.nps.protocol.RunControl;
import dev.nps.protocol.RunReport;
import dev.nps.protocol.RunRequest;
import dev.nps.protocol.RunStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code nps submit | status | cancel}: the local, unauthenticated control interface of
 * {@code nps serve}. Each joins the cluster at {@code --cluster} for the call, asks the run's
 * coordinator (a sharded entity on a node with a journal), prints one line and leaves.
 */
final class RunControlCommands {
    private static final Duration ASK = Duration.ofSeconds(30);

    private RunControlCommands() {
    }

    static RunReport call(String cluster, String run, RunControl.Builder control) {
        if (!run.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new IllegalArgumentException("run id '" + run + "' must be 1-128 letters, digits, '.', '_' or '-'");
        }
        ClusterNode node = ClusterNode.start(NodeSettings.client("127.0.0.1", cluster, Path.of("").toAbsolutePath()),
                com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = ERROR"));
        try {
            if (!node.awaitUp(SearchBackend.JOIN_TIMEOUT)) {
                throw new IllegalArgumentException("could not join the cluster at " + cluster + " within "
                        + SearchBackend.JOIN_TIMEOUT.toSeconds() + " s (is `nps serve` running there?)");
            }
            try {
                return ServedRuns.ask(node.system(), run, control, ASK).toCompletableFuture().get(ASK.toSeconds() + 5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("no node of the cluster at " + cluster + " answered for run " + run + " within "
                        + ASK.toSeconds() + " s (does a node have a journal, nps.node.journal?)");
            }
        } finally {
            node.close();
        }
    }

    static String describe(RunReport r) {
        if (!r.getKnown()) {
            return "run " + r.getRun() + ": unknown";
        }
        String status = switch (r.getStatus()) {
            case RUN_RUNNING -> "running";
            case RUN_SUCCEEDED -> "succeeded";
            case RUN_CANCELLED -> "cancelled";
            case RUN_FAILED -> "failed";
            case UNRECOGNIZED -> "?";
        };
        return String.format(Locale.ROOT, "run %s: %s%s; %d searches finished, %d generations kept; node %s; %s", r.getRun(),
                status, r.getReason().isEmpty() ? "" : " (" + r.getReason() + ")", r.getSearchesFinished(), r.getGenerationsKept(),
                r.getNode(), r.getDescription());
    }

    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = "Submit a run to `nps serve`: a merge, prune, transfer or compress command line whose --spec and --out"
                    + " are relative to the serving nodes' storage root. It survives node crashes and resumes where it stopped.")
    static final class Submit implements Callable<Integer> {
        @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT", description = "a node of the cluster")
        String cluster;

        @Option(names = "--run", required = true, paramLabel = "ID", description = "the run's id (letters, digits, . _ -)")
        String run;

        @Option(names = "--weight", defaultValue = "1", paramLabel = "W", description = "fair-share weight among concurrent runs")
        double weight;

        @Option(names = "--max-slots", defaultValue = "0", paramLabel = "N", description = "cap on the run's slots (0: none)")
        int maxSlots;

        @Parameters(paramLabel = "COMMAND", arity = "1..*", description = "the command line, e.g. merge --method nps --spec s.conf --out o")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("--weight must be a positive number, got " + weight);
            }
            if (maxSlots < 0) {
                throw new IllegalArgumentException("--max-slots must be >= 0, got " + maxSlots);
            }
            ServedCommands.confined(command, Path.of("/storage-root")); // refuses a bad command line before it travels
            RunReport r = RunControlCommands.call(cluster, run, RunControl.newBuilder().setSubmit(RunRequest.newBuilder().addAllArgs(command)
                    .setWeight(weight).setMaxSlots(maxSlots)));
            if (!r.getRefusal().isEmpty()) {
                throw new IllegalArgumentException("run " + run + " refused: " + r.getRefusal());
            }
            System.out.println(describe(r));
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Where a submitted run stands (one line).")
    static final class Status implements Callable<Integer> {
        @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT", description = "a node of the cluster")
        String cluster;

        @Parameters(paramLabel = "ID", description = "the run's id")
        String run;

        @Override
        public Integer call() {
            RunReport r = RunControlCommands.call(cluster, run, RunControl.newBuilder().setStatus(true));
            System.out.println(describe(r));
            return r.getKnown() ? 0 : Main.EXIT_BAD_INPUT;
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = "Cancel a submitted run: its evaluators stop within seconds; its history so far is kept.")
    static final class Cancel implements Callable<Integer> {
        @Option(names = "--cluster", required = true, paramLabel = "HOST:PORT", description = "a node of the cluster")
        String cluster;

        @Parameters(paramLabel = "ID", description = "the run's id")
        String run;

        @Override
        public Integer call() {
            RunReport r = RunControlCommands.call(cluster, run, RunControl.newBuilder().setCancel(true));
            System.out.println(describe(r));
            return r.getKnown() ? 0 : Main.EXIT_BAD_INPUT;
        }
    }

    static boolean ended(RunReport r) {
        return r.getKnown() && r.getStatus() != RunStatus.RUN_RUNNING;
    }
}
