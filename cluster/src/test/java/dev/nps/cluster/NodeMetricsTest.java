package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.nps.coordinator.AbortMode;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.experiment.Experiment;
import dev.nps.storage.UnsharedPolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * One node with its management endpoint on a free port: {@code GET /metrics} answers in Prometheus'
 * text format with the node tag on every series, the JVM's meters, the cluster's membership, and,
 * after a short search on simulated slots, the slot and scheduler meters with their values.
 */
class NodeMetricsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void metricsAreServedOnTheManagementPortWithTheNodeTag() throws Exception {
        int port = TestCluster.freePort();
        NodeSettings s = new NodeSettings("127.0.0.1", port, List.of("127.0.0.1:" + port), List.of(Roles.COORDINATOR, Roles.EVALUATOR),
                TestCluster.ROOT, List.of(), true, 2, Duration.ofSeconds(2), Optional.empty(), ConfigFactory.empty(), Optional.empty(),
                OptionalInt.of(0));
        try (Experiment ex = TestCluster.digits(); ClusterNode node = ClusterNode.start(s, TestCluster.STRICT)) {
            assertTrue(node.awaitSlots(2, Duration.ofSeconds(30)));
            int mgmt = node.managementPort().orElseThrow();
            assertTrue(mgmt > 0 && mgmt != port, "a free port was bound: " + mgmt);
            new ClusterSearch(node, TestCluster.DIGITS, ScorerOptions.defaults(), UnsharedPolicy.CARRY, 500, Duration.ofMillis(500))
                    .withTenant("alice")
                    .run(SearchSetup.of(ex, SearchKind.FUSION, List.of(0, 2)), SearchConfig.defaults().withSeed(1).withGenerations(2)
                            .withPopulation(4).withAbort(AbortMode.OFF), SearchListener.NONE);
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mgmt + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), r.headers().toString());
            String text = r.body();
            String tag = "node=\"127.0.0.1:" + port + "\"";
            for (String line : text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).toList()) {
                assertTrue(line.contains(tag), "every series carries the node tag: " + line);
            }
            assertTrue(value(text, "nps_cluster_members\\{node=\"[^\"]+\",status=\"up\"\\}") == 1, text);
            assertTrue(value(text, "nps_cluster_unreachable\\{[^}]*\\}") == 0, text);
            assertTrue(text.contains("jvm_memory_used_bytes{area=\"heap\""), "JVM meters");
            assertTrue(text.contains("process_uptime_seconds{"), "uptime");
            // 2 generations x 4 candidates x 2 tasks' batches, scored on the node's two slots
            double batches = value(text, "nps_slot_batch_latency_seconds_count\\{node=\"[^\"]+\",slot=\"cpu0\"\\}")
                    + value(text, "nps_slot_batch_latency_seconds_count\\{node=\"[^\"]+\",slot=\"cpu1\"\\}");
            assertTrue(batches >= 8, "batches timed on the slots: " + batches);
            assertTrue(text.contains("nps_slot_batch_latency_seconds_bucket{"), "a percentile histogram");
            assertTrue(value(text, "nps_slot_busy_seconds_total\\{node=\"[^\"]+\",slot=\"cpu0\"\\}") > 0, text);
            assertTrue(text.contains("nps_scheduler_slots{node=\"127.0.0.1:" + port + "\",tenant=\"alice\"}"), "the run's tenant");
            assertTrue(text.contains("nps_scheduler_queue_depth{"), text);
            assertTrue(value(text, "nps_cluster_rebalances_total\\{[^}]*\\}") >= 2, "both shards allocated");
            assertEquals(404, HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mgmt + "/nothing")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode());
        }
    }

    /** The value of the one series matching {@code series} (a regex over name and labels). */
    static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + series + " (\\S+)$").matcher(text);
        assertTrue(m.find(), "no series " + series);
        return Double.parseDouble(m.group(1));
    }
}
