package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.NodeSettings;
import dev.nps.cluster.ServedRuns;
import dev.nps.protocol.RunControl;
import dev.nps.protocol.RunReport;
import dev.nps.protocol.RunRequest;
import dev.nps.protocol.RunStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs submitted to a single {@code nps serve} node journaling into H2: one is SIGKILLed with its
 * node mid-run and resumes when the node is started again, finishing with the result of an
 * embedded, undisturbed run; one is cancelled and says so, keeping its history.
 */
@Tag("slow")
class ServedRunTest {

    @TempDir
    Path tmp;

    private List<String> merge(String spec, String out) {
        return new ArrayList<>(List.of("merge", "--method", "nps", "--keep", "0.1", "--spec", spec, "--generations", "40",
                "--subspaces", "4", "--no-baselines", "--seed", "5", "--out", out));
    }

    private static List<String> longer(List<String> args) {
        args.set(args.indexOf("40"), "80");
        return args;
    }

    @Test
    void aRunWhoseNodeIsKilledResumesWhenTheNodeIsBackAndEndsAsAnUndisturbedRun() throws Exception {
        Path root = tmp.resolve("root");
        CliFixture.copyDigits(root.resolve("digits"));
        Path ref = tmp.resolve("ref");
        // 80 generations a search: long enough that the kill lands mid-run (status lags the search by the
        // journal's write queue), short enough for the suite.
        CliFixture.Run embedded = CliFixture.run(longer(merge(root.resolve("digits/spec.conf").toString(), ref.toString()))
                .toArray(String[]::new));
        assertEquals(0, embedded.exitCode(), embedded.err());

        int port = ServeChild.freePort();
        String seed = "127.0.0.1:" + port;
        try (ServeChild node = ServeChild.start(tmp, "node", port, root, "journal { folder = " + tmp.resolve("journal") + " }")) {
            node.awaitUp();
            // One client node joined before the submission submits and polls every 50 ms: the whole run takes
            // seconds, and a client joining per call (seconds each) let it finish before the kill (nothing resumed).
            ClusterNode client = ClusterNode.start(NodeSettings.client("127.0.0.1", seed, root),
                    com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = ERROR"));
            try {
                assertTrue(client.awaitUp(java.time.Duration.ofSeconds(30)), "the client did not join");
                // Submitted through the joined client too: RunControlCommands.call joins and leaves a client of its own (seconds).
                RunReport submitted = ServedRuns.ask(client.system(), "r1", RunControl.newBuilder().setSubmit(RunRequest.newBuilder()
                        .addAllArgs(longer(merge("digits/spec.conf", "out/r1")))), java.time.Duration.ofSeconds(30))
                        .toCompletableFuture().get(40, java.util.concurrent.TimeUnit.SECONDS);
                assertTrue(submitted.getRefusal().isEmpty(), submitted.getRefusal());
                RunReport mid;
                do {
                    Thread.sleep(50);
                    mid = ServedRuns.ask(client.system(), "r1", RunControl.newBuilder().setStatus(true),
                            java.time.Duration.ofSeconds(5)).toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } while (mid.getGenerationsKept() < 5 && !RunControlCommands.ended(mid));
                assertEquals(RunStatus.RUN_RUNNING, mid.getStatus(), "the run ended before it could be killed: " + mid);
                node.kill();
            } finally {
                client.close();
            }
            assertTrue(!node.logContains("run r1: succeeded"), "the run ended before the kill landed: " + node.logTail());
        }
        long restart = System.nanoTime();
        int management = ServeChild.freePort();
        try (ServeChild again = ServeChild.start(tmp, "node-again", port, root, "journal { folder = " + tmp.resolve("journal") + " }\n"
                + "management { port = " + management + " }")) {
            again.awaitUp();
            double up = (System.nanoTime() - restart) / 1e9;
            // Nobody asks: the node restarts the run by itself (sharding remembers it in the journal).
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!again.logContains("run r1: succeeded") && System.nanoTime() < deadline) {
                assertTrue(System.nanoTime() < restart + 60_000_000_000L || again.logContains("run r1: resuming after"),
                        "the run did not resume within 60 s of the restart: " + again.logTail());
                assertTrue(!again.logContains("run r1: failed"), again.logTail());
                Thread.sleep(200);
            }
            assertTrue(again.logContains("run r1: resuming after"), again.logTail());
            // The dashboard's "resumed" annotation reads this counter: the restarted node counted one resume, no start.
            String scrape = new String(java.net.URI.create("http://127.0.0.1:" + management + "/metrics").toURL().openStream()
                    .readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(scrape.lines().anyMatch(l -> l.startsWith("nps_run_events_total{") && l.contains("event=\"resumed\"")
                    && l.contains("kind=\"merge\"") && l.endsWith(" 1.0")), scrape);
            assertTrue(scrape.lines().anyMatch(l -> l.startsWith("nps_run_events_total{") && l.contains("event=\"started\"")
                    && l.contains("kind=\"merge\"") && l.endsWith(" 0.0")), scrape);
            System.out.println("single node: " + again.logLine("run r1: resuming after"));
            System.out.printf("single node: restarted JVM up after %.1f s; the run finished %.1f s after the restart%n", up,
                    (System.nanoTime() - restart) / 1e9);
            RunReport end = poll(seed, "r1", RunControlCommands::ended);
            assertEquals(RunStatus.RUN_SUCCEEDED, end.getStatus(), end + "\n" + again.logTail());
        }
        Path out = root.resolve("out/r1");
        assertEquals(CliFixture.trajectoryDigests(ref), CliFixture.trajectoryDigests(out));
        assertArrayEquals(Files.readAllBytes(ref.resolve("model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")));
    }

    @Test
    void aCancelledRunStopsWithinSecondsKeepsItsHistoryAndSaysSo() throws Exception {
        Path root = tmp.resolve("root");
        CliFixture.copyDigits(root.resolve("digits"));
        int port = ServeChild.freePort();
        String seed = "127.0.0.1:" + port;
        try (ServeChild node = ServeChild.start(tmp, "node", port, root, "journal { folder = " + tmp.resolve("journal") + " }")) {
            node.awaitUp();
            List<String> args = merge("digits/spec.conf", "out/c1");
            args.set(args.indexOf("40"), "400"); // far longer than the test
            RunControlCommands.call(seed, "c1", RunControl.newBuilder().setSubmit(RunRequest.newBuilder().addAllArgs(args)));
            poll(seed, "c1", r -> r.getGenerationsKept() >= 3);
            long t0 = System.nanoTime();
            RunControlCommands.call(seed, "c1", RunControl.newBuilder().setCancel(true));
            RunReport end = poll(seed, "c1", RunControlCommands::ended);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(RunStatus.RUN_CANCELLED, end.getStatus(), end.toString());
            assertTrue(end.getReason().startsWith("cancelled"), end.getReason());
            assertTrue(end.getGenerationsKept() >= 3, end.toString());
            assertTrue(seconds < 15, "cancel took " + seconds + " s");
            assertTrue(!Files.exists(root.resolve("out/c1/result.json")));
            // an unknown run is said to be unknown; another command under a used id is refused
            assertTrue(!RunControlCommands.call(seed, "nope", RunControl.newBuilder().setStatus(true)).getKnown());
            RunReport refused = RunControlCommands.call(seed, "c1", RunControl.newBuilder().setSubmit(RunRequest.newBuilder()
                    .addAllArgs(merge("digits/spec.conf", "out/other"))));
            assertTrue(refused.getRefusal().contains("with other inputs or options"), refused.toString());
        }
    }

    @Test
    void twoRunsSubmittedTogetherShareTheNodeAndEachEndsAsItWouldAlone() throws Exception {
        Path root = tmp.resolve("root");
        CliFixture.copyDigits(root.resolve("digits"));
        List<String> a = merge("digits/spec.conf", "out/a");
        List<String> b = merge("digits/spec.conf", "out/b");
        b.set(b.indexOf("5"), "6"); // another seed
        for (List<String> args : List.of(a, b)) {
            args.set(args.indexOf("40"), "8");
        }
        int port = ServeChild.freePort();
        String seed = "127.0.0.1:" + port;
        try (ServeChild node = ServeChild.start(tmp, "node", port, root, "journal { folder = " + tmp.resolve("journal") + " }")) {
            node.awaitUp();
            RunControlCommands.call(seed, "a", RunControl.newBuilder().setSubmit(RunRequest.newBuilder().addAllArgs(a)));
            RunControlCommands.call(seed, "b", RunControl.newBuilder().setSubmit(RunRequest.newBuilder().addAllArgs(b)
                    .setWeight(3)));
            assertEquals(RunStatus.RUN_SUCCEEDED, poll(seed, "a", RunControlCommands::ended).getStatus(), node.logTail());
            assertEquals(RunStatus.RUN_SUCCEEDED, poll(seed, "b", RunControlCommands::ended).getStatus(), node.logTail());
        }
        for (var entry : java.util.Map.of("a", a, "b", b).entrySet()) {
            List<String> alone = new ArrayList<>(entry.getValue());
            alone.set(alone.indexOf("digits/spec.conf"), root.resolve("digits/spec.conf").toString());
            alone.set(alone.indexOf("out/" + entry.getKey()), tmp.resolve("alone-" + entry.getKey()).toString());
            CliFixture.Run r = CliFixture.run(alone.toArray(String[]::new));
            assertEquals(0, r.exitCode(), r.err());
            assertEquals(CliFixture.trajectoryDigests(tmp.resolve("alone-" + entry.getKey())),
                    CliFixture.trajectoryDigests(root.resolve("out/" + entry.getKey())));
        }
    }

    private static RunReport poll(String seed, String run, Predicate<RunReport> until) throws InterruptedException {
        long deadline = System.nanoTime() + 180_000_000_000L;
        RunReport r = null;
        while (System.nanoTime() < deadline) {
            r = RunControlCommands.call(seed, run, RunControl.newBuilder().setStatus(true));
            if (until.test(r)) {
                return r;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("run " + run + " did not get there in 180 s: " + r);
    }

}
