package dev.nps.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.NodeSettings;
import dev.nps.cluster.ServedRuns;
import dev.nps.run.JournalStore;
import dev.nps.service.HttpService;
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
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;

/**
 * By hand (BENCHMARKS.md, "Service"): submissions per second until the first refusal, and status
 * and list latency (p50, p99) with 1,000 runs stored, over loopback HTTP against an in-JVM node
 * (H2 journal). Runs execute an empty command, so what is measured is the service, the run
 * coordinators and the journal, not a search.
 *
 * <pre>{@code
 * java ... -cp <launcher test classpath> dev.nps.cli.ServiceBenchmark /tmp/nps-service-bench
 * }</pre>
 */
public final class ServiceBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ServiceBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/nps-service-bench");
        Files.createDirectories(dir);
        Path root = dir.resolve("root");
        int port = ServeChild.freePort();
        int httpPort = ServeChild.freePort();
        NodeSettings settings = NodeSettings.fromConfig(ConfigFactory.parseString("""
                nps.node { host = "127.0.0.1", port = %d, seeds = ["127.0.0.1:%d"], roles = [coordinator],
                           storage-root = "%s", stable-after = 2s }
                """.formatted(port, port, root)), dir);
        JournalStore journal = JournalStore.h2(dir.resolve("journal-" + System.nanoTime()));
        ServedRuns.Executor empty = (request, node, durable) -> { };
        ClusterNode node = ClusterNode.start(settings, ConfigFactory.parseString("pekko.loglevel = WARNING"), Optional.of(journal), empty);
        node.awaitUp(Duration.ofSeconds(60));
        String token;
        try (TenantStore store = TenantStore.open(journal)) {
            token = store.add(new TenantStore.Tenant("bench", 1, 0, 0, 0, 600, false, 0));
        }
        Path area = root.resolve("tenants/bench");
        Files.createDirectories(area);
        Files.writeString(area.resolve("spec.conf"), "name = bench");
        HttpService.start(node, journal, new ServiceSettings("127.0.0.1", httpPort, 65536), line -> Optional.empty());
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + httpPort + "/v1/runs";
        String body = "{\"command\": \"prune\", \"spec\": \"spec.conf\", \"args\": [\"--task\", \"t\"]}";

        List<String> ids = new ArrayList<>();
        long t0 = System.nanoTime();
        int refusedAt = -1;
        while (ids.size() < 1000) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base)).header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 429) {
                refusedAt = ids.size();
                break;
            }
            if (r.statusCode() != 201) {
                throw new IllegalStateException(r.statusCode() + " " + r.body());
            }
            ids.add(JSON.readTree(r.body()).get("id").asText());
        }
        double submitSeconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "submissions: %d in %.1f s = %.0f/s, first refusal (429, submissions-per-minute 600) after %d%n",
                ids.size(), submitSeconds, ids.size() / submitSeconds, refusedAt);
        // More runs stored, straight into the service's index and the journal, until 1,000.
        while (ids.size() < 1000) {
            Thread.sleep(60_000);
            for (int i = 0; i < 600 && ids.size() < 1000; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base)).header("Authorization", "Bearer " + token)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 201) {
                    break;
                }
                ids.add(JSON.readTree(r.body()).get("id").asText());
            }
        }
        Random random = new Random(1);
        for (String what : List.of("status", "list")) {
            long[] micros = new long[2000];
            for (int i = -200; i < micros.length; i++) {
                String url = what.equals("status") ? base + "/" + ids.get(random.nextInt(ids.size())) : base + "?limit=50&offset="
                        + 50 * random.nextInt(20);
                long s = System.nanoTime();
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                        .build(), HttpResponse.BodyHandlers.ofString());
                long us = (System.nanoTime() - s) / 1000;
                if (r.statusCode() != 200) {
                    throw new IllegalStateException(r.statusCode() + " " + r.body());
                }
                if (i >= 0) {
                    micros[i] = us;
                }
            }
            Arrays.sort(micros);
            System.out.printf(Locale.ROOT, "%s with %d runs stored: p50 %.2f ms, p99 %.2f ms (%d sequential requests)%n", what,
                    ids.size(), micros[micros.length / 2] / 1000.0, micros[micros.length * 99 / 100] / 1000.0, micros.length);
        }
        node.close();
        System.exit(0);
    }
}
