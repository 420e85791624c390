package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Node config files: defaults, what they turn into for Pekko, and one-line errors. */
class NodeSettingsTest {
    @TempDir
    Path dir;

    private NodeSettings load(String text) throws Exception {
        Path f = dir.resolve("node.conf");
        Files.writeString(f, text);
        return NodeSettings.load(f);
    }

    @Test
    void aFileBecomesAClusterNodeWithSbrTlsAndNoJavaSerialization() throws Exception {
        NodeSettings s = load("""
                nps.node {
                  port = 2600
                  seeds = ["127.0.0.1:2600"]
                  roles = [coordinator, evaluator]
                  storage-root = data
                  gpus = []
                  cpu-slots = 3
                  tls { enabled = true, key-store = certs/keys.p12, trust-store = certs/trust.p12, password = pw }
                }
                pekko.cluster.split-brain-resolver.stable-after = 7s
                """);
        assertEquals(dir.resolve("data"), s.storageRoot());
        assertEquals(3, Slot.of(s).size());
        assertTrue(Slot.of(s).stream().noneMatch(Slot::gpu));
        Config c = s.pekkoConfig(List.of("coordinator", "evaluator", "slots-3"), 3);
        assertEquals("cluster", c.getString("pekko.actor.provider"));
        assertEquals("off", c.getString("pekko.actor.allow-java-serialization"));
        assertEquals("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider", c.getString("pekko.cluster.downing-provider-class"));
        assertEquals("keep-majority", c.getString("pekko.cluster.split-brain-resolver.active-strategy"));
        assertEquals("7s", c.getString("pekko.cluster.split-brain-resolver.stable-after")); // the file's pekko block wins
        assertEquals("tls-tcp", c.getString("pekko.remote.artery.transport"));
        assertEquals(dir.resolve("certs/keys.p12").toString(), c.getString("pekko.remote.artery.ssl.config-ssl-engine.key-store"));
        assertEquals(List.of("pekko://nps@127.0.0.1:2600"), c.getStringList("pekko.cluster.seed-nodes"));
        assertEquals(List.of("coordinator", "evaluator", "slots-3"), c.getStringList("pekko.cluster.roles"));
        assertEquals(3, Roles.slotsOf(java.util.Set.of("evaluator", "slots-3")));
        assertEquals(0, Roles.slotsOf(java.util.Set.of("coordinator", "slots-3")));
    }

    @Test
    void gpusFromConfigAreSlotsWithTheirCudaDeviceIds() throws Exception {
        NodeSettings s = load("nps.node.gpus = [0, 2]");
        List<Slot> slots = Slot.of(s);
        assertEquals(List.of(new Slot(0, 0), new Slot(1, 2)), slots);
        var cuda = slots.get(1).options(dev.nps.evaluator.ScorerOptions.defaults());
        assertEquals(dev.nps.evaluator.ScorerOptions.Device.CUDA, cuda.device());
        assertEquals(2, cuda.deviceId());
    }

    @Test
    void badFilesFailWithOneLine() throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> load("nps.node.roles = [worker]"));
        assertEquals("nps.node.roles must be a non-empty subset of [coordinator, evaluator], got [worker]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> load("nps.node.seeds = [\"nohost\"]"));
        assertEquals("expected HOST:PORT, got 'nohost'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> load("nps.node.gpus = some"));
        assertEquals("nps.node.gpus must be auto or a list of CUDA device ids, got some", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NodeSettings.load(dir.resolve("missing.conf")));
        assertTrue(e.getMessage().endsWith("missing.conf does not exist"));
    }

    @Test
    void unknownKeysAreRefusedWithTheKeyMeant() throws Exception {
        String m = assertThrows(IllegalArgumentException.class, () -> load("nps.node { seed = [\"127.0.0.1:2600\"] }")).getMessage();
        assertTrue(m.contains("unknown key 'seed' in nps.node (did you mean 'seeds'?"), m);
        m = assertThrows(IllegalArgumentException.class, () -> load("nps.node { storage_root = data }")).getMessage();
        assertTrue(m.contains("did you mean 'storage-root'?"), m);
        m = assertThrows(IllegalArgumentException.class, () -> load("nps.node.tls { enabld = true }")).getMessage();
        assertTrue(m.contains("unknown key 'enabld' in nps.node.tls (did you mean 'enabled'?"), m);
    }

    @Test
    void serveNeedsASeed() throws Exception {
        NodeSettings s = load("nps.node { port = 2601, seeds = [] }");
        String m = assertThrows(IllegalArgumentException.class, s::requireSeeds).getMessage();
        assertTrue(m.startsWith("nps.node.seeds is empty") && m.contains("seeds = [\"127.0.0.1:2601\"]"), m);
        assertThrows(IllegalArgumentException.class, () -> ServeMain.serve(s));
        assertEquals(List.of("127.0.0.1:2601"), load("nps.node { port = 2601, seeds = [\"127.0.0.1:2601\"] }").requireSeeds().seeds());
    }

    @Test
    void aPortInUseIsOneLineAtOnce() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            NodeSettings s = load("nps.node { port = " + port + ", seeds = [\"127.0.0.1:" + port + "\"], roles = [coordinator] }");
            long t0 = System.nanoTime();
            String m = assertThrows(IllegalArgumentException.class, () -> ClusterNode.start(s)).getMessage();
            assertTrue(m.startsWith("cannot listen on 127.0.0.1:" + port + ": "), m);
            assertTrue(!m.contains("\n"), m);
            assertTrue(System.nanoTime() - t0 < 30_000_000_000L);
        }
    }

    @Test
    void aNodeWhoseSystemStopsUnaskedExitsNonZeroAndAGracefulStopExitsZero() throws Exception {
        int port = TestCluster.freePort();
        NodeSettings s = load("nps.node { port = " + port + ", seeds = [\"127.0.0.1:" + port + "\"], roles = [coordinator] }");
        ClusterNode crashed = ClusterNode.start(s);
        // what a fatal error on one of its threads does: the actor system terminates, nobody asked
        crashed.system().terminate();
        crashed.system().getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(1, ServeMain.exitCode(crashed));
        crashed.close();

        int port2 = TestCluster.freePort();
        ClusterNode asked = ClusterNode.start(load("nps.node { port = " + port2 + ", seeds = [\"127.0.0.1:" + port2 + "\"], roles = [coordinator] }"));
        org.apache.pekko.actor.CoordinatedShutdown.get(asked.system())
                .runAll(org.apache.pekko.actor.CoordinatedShutdown.jvmExitReason())
                .toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(0, ServeMain.exitCode(asked));
        asked.close();
    }

    @Test
    void theKubernetesNodeConfigsParseIntoBootstrapThroughTheKubernetesApi() {
        // The files k8s/base ships in its ConfigMap, as a pod reads them (no POD_IP etc. here: their defaults apply).
        Path dir = TestCluster.ROOT.resolve("k8s/base/config");
        NodeSettings coordinator = NodeSettings.load(dir.resolve("coordinator.conf")).requireSeeds();
        NodeSettings evaluator = NodeSettings.load(dir.resolve("evaluator.conf")).requireSeeds();
        assertEquals(List.of(Roles.COORDINATOR), coordinator.roles());
        assertEquals(List.of(Roles.EVALUATOR), evaluator.roles());
        assertEquals(Path.of("/data"), evaluator.storageRoot());
        assertTrue(evaluator.noGpu() && evaluator.cpuSlots() == 1, "CPU slots unless the gpu overlay sets NPS_GPUS");
        assertEquals(java.util.Optional.of(new Discovery.Kubernetes("app.kubernetes.io/name=nps", 2, 8558)), evaluator.discovery());
        assertEquals(evaluator.discovery(), coordinator.discovery());
        assertTrue(NodeSettings.journal(dir.resolve("coordinator.conf")).orElseThrow() instanceof dev.nps.run.JournalStore.Postgres);
        assertTrue(NodeSettings.journal(dir.resolve("evaluator.conf")).isEmpty());
        Config c = evaluator.pekkoConfig(List.of("evaluator", "slots-1"), 1);
        assertEquals("kubernetes-api", c.getString("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
        assertEquals("management", c.getString("pekko.management.cluster.bootstrap.contact-point-discovery.port-name"));
        assertEquals(2, c.getInt("pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"));
        assertEquals("app.kubernetes.io/name=nps", c.getString("pekko.discovery.kubernetes-api.pod-label-selector"));
        assertEquals(8558, c.getInt("pekko.management.http.port"));
        assertEquals(List.of(), c.getStringList("pekko.cluster.seed-nodes"));
        assertEquals("keep-majority", c.getString("pekko.cluster.split-brain-resolver.active-strategy"));
        assertEquals("20000ms", c.getString("pekko.cluster.split-brain-resolver.stable-after"));
    }

    @Test
    void aBadDiscoveryBlockFailsWithOneLine() throws Exception {
        String both = assertThrows(IllegalArgumentException.class, () -> load("""
                nps.node { seeds = ["127.0.0.1:2551"], discovery { method = kubernetes } }""")).getMessage();
        assertEquals("nps.node: give either seeds or discovery, not both", both);
        String method = assertThrows(IllegalArgumentException.class, () -> load("nps.node.discovery.method = dns")).getMessage();
        assertTrue(method.endsWith("nps.node.discovery.method must be kubernetes or config, got dns"), method);
        String typo = assertThrows(IllegalArgumentException.class,
                () -> load("nps.node.discovery { method = kubernetes, label-selector = \"app=nps\" }")).getMessage();
        assertTrue(typo.contains("label-selector"), typo);
        String empty = assertThrows(IllegalArgumentException.class, () -> load("nps.node.discovery.method = config")).getMessage();
        assertTrue(empty.contains("contact-points is empty"), empty);
        String port = assertThrows(IllegalArgumentException.class,
                () -> load("nps.node.discovery { method = kubernetes, management-port = 70000 }")).getMessage();
        assertTrue(port.endsWith("management-port must lie in [1, 65535], got 70000"), port);
    }

    @Test
    void theManagementEndpointIsOptionalDefaultsTo8558AndFollowsDiscovery() throws Exception {
        assertTrue(load("nps.node { seeds = [\"127.0.0.1:2551\"] }").management().isEmpty(), "no block, no discovery: no endpoint");
        assertEquals(8558, load("nps.node.management {}").management().getAsInt());
        assertEquals(0, load("nps.node.management.port = 0").management().getAsInt());
        assertEquals(9100, load("nps.node.discovery { method = kubernetes, management-port = 9100 }").management().getAsInt());
        assertEquals("dev.nps.cluster.MetricsRoute", load("nps.node.management.port = 9200").pekkoConfig(List.of("evaluator"), 1)
                .getString("pekko.management.http.routes.nps-metrics"));
        String range = assertThrows(IllegalArgumentException.class, () -> load("nps.node.management.port = -1")).getMessage();
        assertTrue(range.endsWith("nps.node.management.port must lie in [0, 65535], got -1"), range);
        String typo = assertThrows(IllegalArgumentException.class, () -> load("nps.node.management.prot = 1")).getMessage();
        assertTrue(typo.contains("prot"), typo);
        String both = assertThrows(IllegalArgumentException.class,
                () -> load("nps.node { management.port = 9000, discovery { method = kubernetes } }")).getMessage();
        assertTrue(both.endsWith("nps.node.management.port (9000) differs from nps.node.discovery.management-port (8558): one endpoint serves both"), both);
    }
}
