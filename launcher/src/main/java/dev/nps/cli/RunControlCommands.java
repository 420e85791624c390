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
        @picocli.CommandLine.Mixin
        Target target;

        @Option(names = "--run", paramLabel = "ID", description = "with --cluster: the run's id (letters, digits, . _ -)")
        String run;

        @Option(names = "--weight", paramLabel = "W", description = "with --cluster: fair-share weight among concurrent runs; default 1")
        Double weightOption;

        @Option(names = "--max-slots", paramLabel = "N", description = "with --cluster: cap on the run's slots (0: none)")
        Integer maxSlotsOption;

        @Option(names = "--upload", paramLabel = "DIR", description = "with --server: first upload this folder (the spec and its files)"
                + " to the folder of its name in your area, e.g. --upload examples/digits ... --spec digits/spec.conf")
        Path upload;

        @Parameters(paramLabel = "COMMAND", arity = "1..*", description = "the command line, e.g. merge --method nps --spec s.conf --out o"
                + " (with --server: no --out; --spec relative to your area)")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            if (target.server() != null) {
                if (run != null || weightOption != null || maxSlotsOption != null) {
                    throw new IllegalArgumentException("--run, --weight and --max-slots apply to --cluster only: the server chooses the"
                            + " id, and the weight and slot cap are your tenant's");
                }
                dev.nps.service.ServiceClient client = target.client();
                if (upload != null) {
                    Path name = upload.toAbsolutePath().normalize().getFileName();
                    List<String> sent = client.upload(upload, name == null ? "" : name.toString());
                    System.err.printf("nps: uploaded %d files of %s to %s/ of your area%n", sent.size(), upload, name);
                }
                System.out.println(client.submit(command).get("id").asText());
                return 0;
            }
            if (upload != null) {
                throw new IllegalArgumentException("--upload applies to --server only (with --cluster the spec is on the nodes' storage)");
            }
            String cluster = target.cluster();
            if (run == null) {
                throw new IllegalArgumentException("--run ID is required with --cluster");
            }
            double weight = weightOption == null ? 1 : weightOption;
            int maxSlots = maxSlotsOption == null ? 0 : maxSlotsOption;
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
        @picocli.CommandLine.Mixin
        Target target;

        @Parameters(paramLabel = "ID", arity = "0..1", description = "the run's id (with --server: none lists your runs)")
        String run;

        @Override
        public Integer call() {
            if (target.server() != null) {
                if (run != null) {
                    System.out.println(describe(target.client().run(run)));
                } else {
                    for (com.fasterxml.jackson.databind.JsonNode r : target.client().runs()) {
                        System.out.printf(Locale.ROOT, "%s %s best %s %s %s%n", r.get("id").asText(), r.get("state").asText(),
                                r.get("bestAccuracy").isNull() ? "-" : String.format(Locale.ROOT, "%.4f", r.get("bestAccuracy").asDouble()),
                                r.get("created").asText(), r.get("command").asText());
                    }
                }
                return 0;
            }
            String cluster = target.cluster();
            if (run == null) {
                throw new IllegalArgumentException("give the run's ID");
            }
            RunReport r = RunControlCommands.call(cluster, run, RunControl.newBuilder().setStatus(true));
            System.out.println(describe(r));
            return r.getKnown() ? 0 : Main.EXIT_BAD_INPUT;
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = "Cancel a submitted run: its evaluators stop within seconds; its history so far is kept.")
    static final class Cancel implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target;

        @Parameters(paramLabel = "ID", description = "the run's id")
        String run;

        @Override
        public Integer call() {
            if (target.server() != null) {
                System.out.println(target.client().cancel(run).get("message").asText());
                return 0;
            }
            String cluster = target.cluster();
            RunReport r = RunControlCommands.call(cluster, run, RunControl.newBuilder().setCancel(true));
            System.out.println(describe(r));
            return r.getKnown() ? 0 : Main.EXIT_BAD_INPUT;
        }
    }

    /** Where a control command goes: a cluster node (local, unauthenticated) or the HTTP service with a token. */
    static final class Target {
        @Option(names = "--cluster", paramLabel = "HOST:PORT", description = "a node of the cluster (local control interface)")
        String cluster;

        @Option(names = "--server", paramLabel = "URL", description = "the HTTP service, e.g. http://127.0.0.1:8080 (README \"Service\")")
        String server;

        @Option(names = "--token-file", paramLabel = "FILE", description = "with --server: the file holding your tenant's token")
        Path tokenFile;

        @Option(names = "--trust-store", paramLabel = "FILE", description = "with an https --server: a PKCS12 trust store holding its"
                + " certificate (password in NPS_TRUST_STORE_PASSWORD); default: the JDK's")
        Path trustStore;

        String cluster() {
            if (cluster == null) {
                throw new IllegalArgumentException("give --cluster HOST:PORT or --server URL --token-file FILE");
            }
            return cluster;
        }

        String server() {
            if (server != null && cluster != null) {
                throw new IllegalArgumentException("give --cluster or --server, not both");
            }
            return server;
        }

        dev.nps.service.ServiceClient client() {
            if (tokenFile == null) {
                throw new IllegalArgumentException("--server needs --token-file FILE (the token `nps tenant add` printed)");
            }
            return new dev.nps.service.ServiceClient(server, dev.nps.service.ServiceClient.readToken(tokenFile), trustStore == null ? null
                    : dev.nps.service.ServiceClient.trusting(trustStore, System.getenv().getOrDefault("NPS_TRUST_STORE_PASSWORD", "")));
        }
    }

    /** One line for a run the HTTP service describes. */
    static String describe(com.fasterxml.jackson.databind.JsonNode r) {
        StringBuilder b = new StringBuilder("run ").append(r.get("id").asText()).append(": ").append(r.get("state").asText());
        if (r.has("reason")) {
            b.append(" (").append(r.get("reason").asText()).append(')');
        }
        if (r.has("progress")) {
            var p = r.get("progress");
            b.append(String.format(Locale.ROOT, "; search %d, generation %d, best %.4f, mean %.4f, skipped %.0f%%",
                    p.get("search").asInt() + 1, p.get("generation").asInt(), p.get("bestAccuracy").asDouble(),
                    p.get("meanAccuracy").asDouble(), 100 * p.get("skippedShare").asDouble()));
        }
        return b.append("; ").append(r.get("command").asText()).toString();
    }

    @Command(name = "watch", mixinStandardHelpOptions = true,
            description = "Follow a run of the HTTP service until it ends: one live line on a terminal, else a line per change;"
                    + " reconnects if the connection drops. Exit 0 if it succeeded, 1 otherwise.")
    static final class Watch implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target;

        @Parameters(paramLabel = "ID", description = "the run's id")
        String run;

        @Override
        public Integer call() {
            if (target.server() == null) {
                throw new IllegalArgumentException("watch needs --server URL --token-file FILE");
            }
            java.io.Console console = System.console();
            if (console == null || !console.isTerminal()) { // a log or a pipe: one line per change
                com.fasterxml.jackson.databind.JsonNode end = target.client().watch(run, r -> {
                    System.out.println(describe(r));
                    System.out.flush();
                }, Duration.ofMinutes(5));
                return end.get("state").asText().equals("succeeded") ? 0 : Main.EXIT_FAILURE;
            }
            // A terminal: the embedded commands' live line per search, fed by the event stream, then the run's line.
            com.fasterxml.jackson.databind.JsonNode end;
            try (WatchedProgress progress = new WatchedProgress(System.out)) {
                end = target.client().watch(run, progress::accept, Duration.ofMinutes(5));
            }
            System.out.println(describe(end));
            return end.get("state").asText().equals("succeeded") ? 0 : Main.EXIT_FAILURE;
        }
    }

    /** The run's events as the generations of its searches, shown by {@link SearchProgress} on stdout. */
    static final class WatchedProgress implements java.util.function.Consumer<com.fasterxml.jackson.databind.JsonNode>, AutoCloseable {
        private final java.io.PrintStream out;
        private SearchProgress bars;
        private int search = -1;
        private int generation;

        WatchedProgress(java.io.PrintStream out) {
            this.out = out;
        }

        @Override
        public void accept(com.fasterxml.jackson.databind.JsonNode run) {
            if (!run.has("progress")) {
                return;
            }
            var p = run.get("progress");
            if (bars == null) {
                bars = new SearchProgress(generations(run.get("command").asText()), true, out);
            }
            if (p.get("search").asInt() != search) {
                bars.close(); // the previous search ended: its line stays
                search = p.get("search").asInt();
                generation = 0;
            }
            if (p.get("generation").asInt() <= generation) {
                return; // the same generation again (another field of the run changed)
            }
            generation = p.get("generation").asInt();
            bars.onGeneration(new dev.nps.coordinator.GenerationStats(p.get("generation").asInt(), new double[0], Double.NaN,
                    new double[0], p.get("bestAccuracy").asDouble(), p.get("meanAccuracy").asDouble(), new double[0], 0, 0, 0,
                    p.get("skippedShare").asDouble(), 0, 0));
        }

        /** The run's --generations, as its command line says (else the CLI's default, 20). */
        static int generations(String command) {
            var m = java.util.regex.Pattern.compile("--generations[ =](\\d+)").matcher(command);
            return m.find() ? Integer.parseInt(m.group(1)) : 20;
        }

        @Override
        public void close() {
            if (bars != null) {
                bars.close();
            }
        }
    }

    @Command(name = "results", mixinStandardHelpOptions = true,
            description = "Download a finished run's files from the HTTP service (result.json last), each checked against its SHA-256.")
    static final class Results implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target;

        @Parameters(paramLabel = "ID", description = "the run's id")
        String run;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "where to write them")
        Path out;

        @Override
        public Integer call() {
            if (target.server() == null) {
                throw new IllegalArgumentException("results needs --server URL --token-file FILE");
            }
            List<Path> files = target.client().download(run, out);
            System.out.printf("nps: %d files of run %s in %s, each matching its SHA-256%n", files.size(), run, out);
            return 0;
        }
    }

    @Command(name = "upload", mixinStandardHelpOptions = true,
            description = "Upload a folder (a spec and its checkpoints and data) into your area of the HTTP service, each file"
                    + " written whole or not at all and checked against its SHA-256; then submit with --spec REMOTE_DIR/spec.conf.")
    static final class Upload implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target;

        @Parameters(index = "0", paramLabel = "LOCAL_DIR", description = "the folder to upload (hidden files skipped)")
        Path local;

        @Parameters(index = "1", paramLabel = "REMOTE_DIR", description = "where in your area, e.g. digits")
        String remote;

        @Override
        public Integer call() {
            if (target.server() == null) {
                throw new IllegalArgumentException("upload needs --server URL --token-file FILE");
            }
            List<String> sent = target.client().upload(local, remote);
            System.out.printf("nps: uploaded %d files of %s to %s/ of your area, each matching its SHA-256%n", sent.size(), local,
                    remote.replaceAll("/+$", ""));
            return 0;
        }
    }

    static boolean ended(RunReport r) {
        return r.getKnown() && r.getStatus() != RunStatus.RUN_RUNNING;
    }
}
