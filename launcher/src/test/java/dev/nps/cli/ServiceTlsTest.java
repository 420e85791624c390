package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.NodeSettings;
import dev.nps.run.JournalStore;
import dev.nps.service.HttpService;
import dev.nps.service.ServiceClient;
import dev.nps.service.ServiceSettings;
import dev.nps.service.TenantStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS by configuration: a PKCS12 key store made here by keytool; a client trusting it talks, others cannot. */
@Tag("slow")
class ServiceTlsTest {
    private static final String PASSWORD = "test-only-secret";

    @TempDir
    Path tmp;

    private static void keytool(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool hung");
        assertEquals(0, p.exitValue(), "keytool " + String.join(" ", args) + ": " + out);
    }

    @Test
    void theServiceSpeaksHttpsWithTheConfiguredKeyOnly() throws Exception {
        keytool(tmp, "-genkeypair", "-alias", "service", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-keystore", "keys.p12", "-storetype", "PKCS12", "-storepass", PASSWORD,
                "-keypass", PASSWORD);
        keytool(tmp, "-exportcert", "-alias", "service", "-keystore", "keys.p12", "-storepass", PASSWORD, "-file", "service.cer");
        keytool(tmp, "-importcert", "-noprompt", "-alias", "service", "-file", "service.cer", "-keystore", "trust.p12",
                "-storetype", "PKCS12", "-storepass", PASSWORD);
        Path conf = tmp.resolve("node.conf");
        int httpPort = ServeChild.freePort();
        Files.writeString(conf, "nps.node { journal { folder = j }, service { port = %d, tls { key-store = keys.p12, password = \"%s\" } } }"
                .formatted(httpPort, PASSWORD));
        ServiceSettings settings = ServiceSettings.load(conf).orElseThrow();
        assertEquals(tmp.resolve("keys.p12"), settings.tls().orElseThrow().keyStore());

        int port = ServeChild.freePort();
        NodeSettings node = NodeSettings.fromConfig(ConfigFactory.parseString("""
                nps.node { host = "127.0.0.1", port = %d, seeds = ["127.0.0.1:%d"], roles = [coordinator], storage-root = "%s" }
                """.formatted(port, port, tmp.resolve("root"))), tmp);
        JournalStore journal = JournalStore.h2(tmp.resolve("j"));
        ClusterNode n = ClusterNode.start(node, ConfigFactory.parseString("pekko.loglevel = WARNING"), Optional.of(journal),
                ServedCommands::execute);
        try {
            assertTrue(n.awaitUp(Duration.ofSeconds(60)));
            String token;
            try (TenantStore store = TenantStore.open(journal)) {
                token = store.add(new TenantStore.Tenant("alice", 1, 0, 0, 0, 0, false, 0));
            }
            HttpService.start(n, journal, settings, ServedCommands::problem);
            // A second service on the port in use: one line naming it (serve exits 2 with it).
            IllegalArgumentException inUse = assertThrows(IllegalArgumentException.class, () -> HttpService.start(n, journal,
                    new ServiceSettings("127.0.0.1", httpPort, 65536), ServedCommands::problem));
            assertTrue(inUse.getMessage().startsWith("nps.node.service: cannot listen on 127.0.0.1:" + httpPort + " ("),
                    inUse.getMessage());
            String https = "https://127.0.0.1:" + httpPort;
            ServiceClient trusting = new ServiceClient(https, token, ServiceClient.trusting(tmp.resolve("trust.p12"), PASSWORD));
            assertEquals(List.of(), trusting.runs());
            assertEquals("server: no run r1 (404)", assertThrows(IllegalArgumentException.class, () -> trusting.run("r1")).getMessage());
            // A client that does not trust the certificate fails the handshake; plain HTTP gets no answer.
            IllegalStateException untrusted = assertThrows(IllegalStateException.class, () -> new ServiceClient(https, token).runs());
            assertTrue(untrusted.getMessage().contains("SSLHandshakeException"), untrusted.getMessage());
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            assertThrows(java.io.IOException.class, () -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                    + "/v1/runs")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
        } finally {
            n.close();
        }
    }
}
