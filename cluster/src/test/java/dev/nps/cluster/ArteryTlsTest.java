package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.coordinator.NpsSearch;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Artery over TLS 1.3 with mutual authentication, switched on by node configuration, with
 * certificates made for this test by the JDK's keytool: nodes sharing a trust store form a cluster
 * and run a search; a node whose certificate is not trusted never becomes a member.
 */
@Tag("slow")
@Timeout(120)
class ArteryTlsTest {
    private static final String PASSWORD = "test-only-secret";
    @TempDir
    Path dir;
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.reversed().forEach(ClusterNode::close);
    }

    private static void keytool(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool hung");
        assertEquals(0, p.exitValue(), "keytool " + String.join(" ", args) + ": " + out);
    }

    /** A PKCS12 key store with a fresh self-signed EC key, and a trust store holding its certificate. */
    private static NodeSettings.Tls makeCertificate(Path dir, String name) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        keytool(dir, "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                "-validity", "2", "-keystore", "keys.p12", "-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool(dir, "-exportcert", "-alias", name, "-keystore", "keys.p12", "-storepass", PASSWORD, "-file", name + ".cer");
        keytool(dir, "-importcert", "-noprompt", "-alias", name, "-file", name + ".cer", "-keystore", "trust.p12",
                "-storetype", "PKCS12", "-storepass", PASSWORD);
        return new NodeSettings.Tls(dir.resolve("keys.p12"), dir.resolve("trust.p12"), PASSWORD);
    }

    private boolean isMember(ClusterNode of, ClusterNode other) {
        for (Member m : Cluster.get(of.system()).state().getMembers()) {
            if (m.address().equals(Cluster.get(other.system()).selfMember().address())) {
                return true;
            }
        }
        return false;
    }

    @Test
    void nodesWithTrustedCertificatesSearchOverTlsAndAStrangerCannotJoin() throws Exception {
        long t0 = System.nanoTime();
        NodeSettings.Tls cluster = makeCertificate(dir.resolve("cluster"), "nps-cluster");
        NodeSettings.Tls stranger = makeCertificate(dir.resolve("stranger"), "stranger");
        System.err.printf("TLS test: certificates made in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        int seedPort = TestCluster.freePort();
        String seed = "127.0.0.1:" + seedPort;
        ClusterNode coordinator = ClusterNode.start(TestCluster.node(seedPort, seed, List.of(Roles.COORDINATOR, Roles.EVALUATOR), 0)
                .withTls(Optional.of(cluster)), TestCluster.STRICT);
        nodes.add(coordinator);
        nodes.add(ClusterNode.start(TestCluster.node(TestCluster.freePort(), seed, List.of(Roles.EVALUATOR), 1)
                .withTls(Optional.of(cluster)), TestCluster.STRICT));
        assertEquals("tls-tcp", coordinator.system().settings().config().getString("pekko.remote.artery.transport"));
        assertTrue(coordinator.awaitSlots(1, Duration.ofSeconds(30)), "the TLS cluster never formed");

        ClusterNode outsider = ClusterNode.start(TestCluster.node(TestCluster.freePort(), seed, List.of(Roles.EVALUATOR), 1)
                .withTls(Optional.of(stranger)), TestCluster.STRICT);
        nodes.add(outsider);

        try (Experiment ex = TestCluster.digits()) {
            SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(1));
            SearchConfig config = SearchConfig.defaults().withSeed(3).withGenerations(3).withSubspaces(4);
            SearchResult embedded = NpsSearch.run(setup, config, SearchListener.NONE);
            SearchResult overTls = new ClusterSearch(coordinator, TestCluster.DIGITS, ScorerOptions.defaults(), UnsharedPolicy.CARRY)
                    .run(setup, config, SearchListener.NONE);
            assertEquals(embedded.trajectorySha256(), overTls.trajectorySha256());
        }
        System.err.printf("TLS test: search done at %.1f s%n", (System.nanoTime() - t0) / 1e9);
        // The search took seconds; the outsider has been trying to join all along.
        assertFalse(isMember(coordinator, outsider), "a node with an untrusted certificate joined");
        assertEquals(1, coordinator.clusterSlots());
    }
}
