package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

/**
 * Cluster formation without seeds: two nodes find each other through pekko-management's cluster
 * bootstrap (Pekko's {@code config} discovery: the same code path as Kubernetes API discovery, with a
 * fixed list of contact points), and the health checks Kubernetes probes answer over real HTTP.
 */
class ClusterBootstrapTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static NodeSettings node(int port, int mgmt, int otherMgmt, String roles) {
        return NodeSettings.fromConfig(ConfigFactory.parseString("""
                nps.node {
                  port = %d
                  roles = [%s]
                  gpus = []
                  cpu-slots = 1
                  stable-after = 2s
                  discovery {
                    method = config
                    contact-points = ["127.0.0.1:%d", "127.0.0.1:%d"]
                    required-contact-points = 2
                    management-port = %d
                  }
                }
                # bootstrap waits for the contact points to be stable this long (5 s by default)
                pekko.management.cluster.bootstrap.contact-point-discovery.stable-margin = 1s
                """.formatted(port, roles, mgmt, otherMgmt, mgmt)), TestCluster.ROOT);
    }

    private static int status(int port, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean awaitStatus(int port, String path, int expected, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (status(port, path) == expected) {
                return true;
            }
            ClusterNode.sleep(200);
        }
        return false;
    }

    @Test
    void twoNodesFormAClusterThroughBootstrapAndReportReadyOnceUp() {
        int mgmtA = TestCluster.freePort();
        int mgmtB = TestCluster.freePort();
        try (ClusterNode a = ClusterNode.start(node(TestCluster.freePort(), mgmtA, mgmtB, "coordinator, evaluator"), TestCluster.STRICT)) {
            // Alive at once, but not ready: one of the two required contact points answers, so no cluster forms.
            assertEquals(200, status(mgmtA, "/alive"));
            assertEquals(200, status(mgmtA, "/metrics"), "the same endpoint serves the node's metrics");
            ClusterNode.sleep(3000);
            assertTrue(status(mgmtA, "/ready") >= 500, "a node alone must not be ready: " + status(mgmtA, "/ready"));
            assertTrue(Cluster.get(a.system()).selfMember().status() != MemberStatus.up());
            try (ClusterNode b = ClusterNode.start(node(TestCluster.freePort(), mgmtB, mgmtA, "evaluator"), TestCluster.STRICT)) {
                assertTrue(a.awaitUp(Duration.ofSeconds(30)), "node A never came Up through bootstrap");
                assertTrue(b.awaitUp(Duration.ofSeconds(30)), "node B never came Up through bootstrap");
                assertTrue(a.awaitSlots(2, Duration.ofSeconds(10)), "the cluster should count both nodes' slots");
                assertEquals(2, Cluster.get(b.system()).state().members().size());
                assertTrue(awaitStatus(mgmtA, "/ready", 200, Duration.ofSeconds(10)), "node A Up but /ready is not 200");
                assertTrue(awaitStatus(mgmtB, "/ready", 200, Duration.ofSeconds(10)), "node B Up but /ready is not 200");
                assertEquals(200, status(mgmtB, "/alive"));
            }
        }
    }
}
