package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.protocol.RunControl;
import dev.nps.protocol.RunReport;
import dev.nps.protocol.RunRequest;
import dev.nps.protocol.RunStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator killed outright: three {@code nps serve} nodes in child JVMs share a PostgreSQL
 * journal (started by .ci/run, tools/postgres-test-server.sh). The JVM that hosts a run's
 * coordinator is SIGKILLed mid-search; the run restarts on another node by itself and finishes
 * with the trajectory digests and model bytes of an undisturbed embedded run.
 */
@Tag("slow")
class ServedRunFailoverTest {

    @TempDir
    Path tmp;

    @Test
    void aRunWhoseCoordinatorNodeIsKilledFinishesOnAnotherNodeAsAnUndisturbedRun() throws Exception {
        failover(true);
    }

    /** A graceful leave (SIGTERM) hands the run's entity off: the run stops there unrecorded and resumes on another node. */
    @Test
    void aRunWhoseCoordinatorNodeLeavesGracefullyFinishesOnAnotherNode() throws Exception {
        failover(false);
    }

    private void failover(boolean sigkill) throws Exception {
        String url = System.getenv("NPS_TEST_POSTGRES_URL");
        if (url == null) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("CI=true but NPS_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL");
            }
            Assumptions.abort("no PostgreSQL (eval \"$(tools/postgres-test-server.sh start)\" to run this test)");
        }
        String journal = "journal { url = \"%s\", user = \"%s\", password = \"%s\", schema = \"failover_%d\" }".formatted(url,
                System.getenv("NPS_TEST_POSTGRES_USER"), System.getenv("NPS_TEST_POSTGRES_PASSWORD"), System.nanoTime());
        Path root = tmp.resolve("root");
        CliFixture.copyDigits(root.resolve("digits"));
        List<String> merge = List.of("merge", "--method", "nps", "--keep", "0.1", "--generations", "20", "--subspaces", "4",
                "--no-baselines", "--seed", "9");
        List<String> embedded = new ArrayList<>(merge);
        embedded.addAll(List.of("--spec", root.resolve("digits/spec.conf").toString(), "--out", tmp.resolve("ref").toString()));
        CliFixture.Run ref = CliFixture.run(embedded.toArray(String[]::new));
        assertEquals(0, ref.exitCode(), ref.err());

        Map<String, ServeChild> nodes = new LinkedHashMap<>();
        dev.nps.cluster.ClusterNode client = null;
        try {
            int seedPort = ServeChild.freePort();
            for (String name : List.of("a", "b", "c")) {
                int port = name.equals("a") ? seedPort : ServeChild.freePort();
                nodes.put("127.0.0.1:" + port, ServeChild.start(tmp, name, port, seedPort, root, journal));
            }
            for (ServeChild n : nodes.values()) {
                n.awaitUp();
            }
            // One client node polls all along (a fourth member: killing one node leaves the majority up).
            client = dev.nps.cluster.ClusterNode.start(dev.nps.cluster.NodeSettings.client("127.0.0.1", "127.0.0.1:" + seedPort,
                    root), com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = ERROR"));
            assertTrue(client.awaitUp(java.time.Duration.ofSeconds(30)));
            List<String> served = new ArrayList<>(merge);
            served.addAll(List.of("--spec", "digits/spec.conf", "--out", "out/r1"));
            // Submitted through the joined client: a client of its own (RunControlCommands.call) joins and leaves in
            // seconds, while the run goes on.
            RunReport submitted = dev.nps.cluster.ServedRuns.ask(client.system(), "r1",
                    RunControl.newBuilder().setSubmit(RunRequest.newBuilder().addAllArgs(served)), java.time.Duration.ofSeconds(30))
                    .toCompletableFuture().get(40, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(submitted.getRefusal().isEmpty(), submitted.getRefusal());
            RunReport mid = poll(client, nodes, r -> r.getGenerationsKept() >= 30 || RunControlCommands.ended(r));
            assertEquals(RunStatus.RUN_RUNNING, mid.getStatus(), "the run ended before it could be killed: " + mid);
            String host = mid.getNode();
            ServeChild victim = nodes.remove(host);
            assertTrue(victim != null, "no node " + host + " among " + nodes.keySet());
            if (sigkill) {
                victim.kill();
            } else {
                victim.terminate();
            }
            long killed = System.nanoTime();
            int before = mid.getGenerationsKept();
            RunReport next = poll(client, nodes, r -> r.getGenerationsKept() > before || RunControlCommands.ended(r));
            double firstKept = (System.nanoTime() - killed) / 1e9;
            RunReport end = poll(client, nodes, RunControlCommands::ended);
            assertEquals(RunStatus.RUN_SUCCEEDED, end.getStatus(), end + "\n" + logs(nodes));
            assertNotEquals(host, end.getNode());
            // BENCHMARKS.md: the first generation kept after the kill bounds the time to the resumed run's next scored batch
            System.out.printf("failover (" + (sigkill ? "SIGKILL" : "SIGTERM") + "): node %s stopped at %d generations kept (report lag included); the run's next generation"
                            + " kept after %.1f s (%d kept, on %s); finished after %.1f s%n", host, before, firstKept,
                    next.getGenerationsKept(), next.getNode(), (System.nanoTime() - killed) / 1e9);
        } finally {
            if (client != null) {
                client.close();
            }
            for (ServeChild n : nodes.values()) {
                n.close();
            }
        }
        Path out = root.resolve("out/r1");
        assertEquals(CliFixture.trajectoryDigests(tmp.resolve("ref")), CliFixture.trajectoryDigests(out));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("ref/model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")));
    }

    private static String logs(Map<String, ServeChild> nodes) {
        StringBuilder b = new StringBuilder();
        nodes.forEach((k, v) -> b.append("--- ").append(k).append('\n').append(v.logTail()).append('\n'));
        return b.toString();
    }

    /** Asks the live nodes in turn (one may be gone) until the run's report passes {@code until}. */
    private static RunReport poll(dev.nps.cluster.ClusterNode client, Map<String, ServeChild> nodes, Predicate<RunReport> until)
            throws InterruptedException {
        long deadline = System.nanoTime() + 240_000_000_000L;
        RunReport r = null;
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                r = dev.nps.cluster.ServedRuns.ask(client.system(), "r1", RunControl.newBuilder().setStatus(true),
                        java.time.Duration.ofSeconds(2)).toCompletableFuture().get(3, java.util.concurrent.TimeUnit.SECONDS);
                if (until.test(r)) {
                    return r;
                }
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                last = String.valueOf(e.getMessage()); // no answer while the cluster moves the run: ask again
            }
            Thread.sleep(50);
        }
        throw new AssertionError("run r1 did not get there in 240 s: " + r + " / " + last + "\n" + logs(nodes));
    }

}
