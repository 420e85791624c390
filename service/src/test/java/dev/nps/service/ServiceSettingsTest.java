package dev.nps.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceSettingsTest {
    @TempDir
    Path tmp;

    private Path conf(String text) throws Exception {
        Path f = tmp.resolve("node.conf");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void theBlockIsReadWithDefaultsAndNeedsAJournal() throws Exception {
        assertEquals(Optional.empty(), ServiceSettings.load(conf("nps.node { port = 1 }")));
        assertEquals(Optional.of(new ServiceSettings("0.0.0.0", 9090, 65536)),
                ServiceSettings.load(conf("nps.node { journal { folder = j }, service { host = \"0.0.0.0\", port = 9090 } }")));
        assertEquals(1024, ServiceSettings.load(conf("nps.node { journal { folder = j }, service { max-body-bytes = 1k } }"))
                .orElseThrow().maxBodyBytes());
        ServiceSettings.Limits limits = ServiceSettings.load(conf("nps.node { journal { folder = j }, service { max-upload-bytes = 2m,"
                + " tenant-requests-per-second = 0.5, idle-timeout = 5s, request-timeout = 2m, max-connections = 10 } }")).orElseThrow().limits();
        assertEquals(new ServiceSettings.Limits(2 << 20, 0.5, java.time.Duration.ofSeconds(5), java.time.Duration.ofMinutes(2), 10), limits);
        Path rate = conf("nps.node { journal { folder = j }, service { tenant-requests-per-second = -1 } }");
        assertEquals("nps.node.service.tenant-requests-per-second must be >= 0 (0: no limit), got -1.0",
                assertThrows(IllegalArgumentException.class, () -> ServiceSettings.load(rate)).getMessage());
        Path f = conf("nps.node { service { port = 9090 } }");
        assertEquals("node config " + f + ": nps.node.service needs nps.node.journal (the service keeps its tenants and runs there)",
                assertThrows(IllegalArgumentException.class, () -> ServiceSettings.load(f)).getMessage());
        Path typo = conf("nps.node { journal { folder = j }, service { prot = 9090 } }");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ServiceSettings.load(typo)).getMessage()
                .contains("prot"));
        Path port = conf("nps.node { journal { folder = j }, service { port = 70000 } }");
        assertEquals("nps.node.service.port must lie in [0, 65535], got 70000",
                assertThrows(IllegalArgumentException.class, () -> ServiceSettings.load(port)).getMessage());
    }
}
