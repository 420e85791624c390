package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.NodeSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code prune --cluster}: the command joins a cluster (an evaluator node started here from a node
 * config file, as {@code nps serve} would) and writes the result the embedded command writes.
 */
@Timeout(120)
class CliClusterTest {
    @TempDir
    Path tmp;

    private static JsonNode read(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void pruneOnAClusterWritesTheEmbeddedResult() throws IOException {
        Path spec = CliFixture.copyDigits(Files.createDirectories(tmp.resolve("data/digits")));
        int port = freePort();
        Path serve = tmp.resolve("serve.conf");
        Files.writeString(serve, """
                nps.node { port = %d, seeds = ["127.0.0.1:%d"], roles = [evaluator], storage-root = data, gpus = [], cpu-slots = 2 }
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                """.formatted(port, port));
        Path client = tmp.resolve("client.conf");
        Files.writeString(client, """
                nps.node { port = 0, roles = [coordinator], storage-root = data }
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                """);
        try (ClusterNode node = ClusterNode.start(NodeSettings.load(serve))) {
            assertTrue(node.awaitSlots(2, Duration.ofSeconds(30)));
            Path embedded = tmp.resolve("embedded");
            Path onCluster = tmp.resolve("cluster");
            String[] common = {"prune", "-q", "--spec", spec.toString(), "--task", "rot90", "--keep", "0.1", "--generations", "3",
                    "--seed", "2"};
            CliFixture.Run a = CliFixture.run(concat(common, "--out", embedded.toString()));
            assertEquals(0, a.exitCode(), a.err());
            CliFixture.Run b = CliFixture.run(concat(common, "--cluster", "127.0.0.1:" + port, "--node-config", client.toString(),
                    "--out", onCluster.toString()));
            assertEquals(0, b.exitCode(), b.err());
            JsonNode x = read(embedded.resolve("result.json")).get("search");
            JsonNode y = read(onCluster.resolve("result.json")).get("search");
            assertEquals(x.get("trajectorySha256"), y.get("trajectorySha256"));
            assertEquals(x.get("bestWeights"), y.get("bestWeights"));
            assertEquals(0, y.get("duplicateBatches").asLong());
            assertTrue(y.get("evaluatorsUsed").asInt() >= 1 && y.get("evaluatorsUsed").asInt() <= 2, y.toString());
            assertEquals(read(embedded.resolve("result.json")).get("tasks"), read(onCluster.resolve("result.json")).get("tasks"));
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
