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
}
