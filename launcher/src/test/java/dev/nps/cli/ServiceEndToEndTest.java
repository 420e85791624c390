package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code nps serve} child JVM with the service on loopback, two tenants added with
 * {@code nps tenant add}: each submits a merge over real HTTP, watches it through server-sent
 * events, downloads result.json, report.html and the model (SHA-256 checked); neither sees the
 * other's run. Bob uses the CLI as the client ({@code nps submit|status|cancel|results --server}).
 */
@Tag("slow")
class ServiceEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    private HttpResponse<String> send(String method, String url, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token);
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void twoTenantsSubmitWatchAndDownloadTheirOwnRunsOverHttp() throws Exception {
        Path root = tmp.resolve("root");
        Path journal = tmp.resolve("journal");
        int port = ServeChild.freePort();
        int httpPort = ServeChild.freePort();
        Path conf = tmp.resolve("admin.conf");
        Files.writeString(conf, "nps.node { storage-root = \"%s\", journal { folder = \"%s\" } }".formatted(root, journal));
        String alice = CliFixture.stdout("tenant", "add", "alice", "--config", conf.toString(), "--weight", "2");
        String bob = CliFixture.stdout("tenant", "add", "bob", "--config", conf.toString(), "--max-runs", "1");
        assertTrue(alice.matches("[A-Za-z0-9_-]{43}"), alice);
        for (String t : List.of("alice", "bob")) {
            CliFixture.copyDigits(root.resolve("tenants").resolve(t).resolve("digits"));
        }
        String base = "http://127.0.0.1:" + httpPort + "/v1/runs";
        try (ServeChild node = ServeChild.start(tmp, "node", port, root, "journal { folder = \"%s\" }\n service { host = \"127.0.0.1\", port = %d }"
                .formatted(journal, httpPort))) {
            node.awaitUp();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!node.logContains("HTTP service at") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(node.logContains("HTTP service at http://127.0.0.1:" + httpPort + "/v1"), node.logTail());
            // H2 is one process's: tenant commands say to stop serve first.
            CliFixture.Run busy = CliFixture.run("tenant", "list", "--config", conf.toString());
            assertEquals(2, busy.exitCode(), busy.err());
            assertTrue(busy.err().contains("stop `nps serve` first"), busy.err());

            String body = "{\"command\": \"merge\", \"spec\": \"digits/spec.conf\", \"args\": [\"--method\", \"nps\", \"--keep\", \"0.1\","
                    + " \"--generations\", \"4\", \"--subspaces\", \"4\", \"--no-baselines\", \"--seed\", \"7\"]}";
            List<String> ids = new ArrayList<>();
            HttpResponse<String> created = send("POST", base, alice, body);
            assertEquals(201, created.statusCode(), created.body());
            ids.add(JSON.readTree(created.body()).get("id").asText());
            Path bobToken = tmp.resolve("bob.token");
            Files.writeString(bobToken, bob + "\n");
            String server = "http://127.0.0.1:" + httpPort;
            ids.add(CliFixture.stdout("submit", "--server", server, "--token-file", bobToken.toString(), "--", "merge", "--method", "nps", "--keep", "0.1",
                    "--generations", "4", "--subspaces", "4", "--no-baselines", "--seed", "7", "--spec", "digits/spec.conf"));
            assertTrue(ids.get(1).matches("r[0-9a-f]{20}"), ids.get(1));
            // Each tenant watches its run's events until the end; the other's run is not found.
            List<CompletableFuture<List<String>>> watches = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                String token = i == 0 ? alice : bob;
                String id = ids.get(i);
                watches.add(CompletableFuture.supplyAsync(() -> events(base + "/" + id + "/events", token)));
            }
            for (int i = 0; i < 2; i++) {
                String token = i == 0 ? alice : bob;
                String other = ids.get(1 - i);
                for (String path : List.of("", "/result", "/report", "/events", "/artifacts/model.safetensors")) {
                    HttpResponse<String> r = send("GET", base + "/" + other + path, token, null);
                    assertEquals(404, r.statusCode(), path + ": " + r.body());
                    assertEquals("{\"error\":\"no run " + other + "\"}", r.body());
                }
                assertEquals(404, send("POST", base + "/" + other + "/cancel", token, null).statusCode());
            }
            for (int i = 0; i < 2; i++) {
                String token = i == 0 ? alice : bob;
                String id = ids.get(i);
                List<String> events = watches.get(i).get(240, java.util.concurrent.TimeUnit.SECONDS);
                assertTrue(events.getLast().startsWith("event: end"), events.toString());
                JsonNode last = JSON.readTree(events.getLast().substring(events.getLast().indexOf("data: ") + 6));
                assertEquals("succeeded", last.get("state").asText(), last.toString() + "\n" + node.logTail());
                assertTrue(events.size() >= 2, "progress events before the end: " + events);

                HttpResponse<String> result = send("GET", base + "/" + id + "/result", token, null);
                assertEquals(200, result.statusCode());
                Path out = root.resolve("tenants").resolve(i == 0 ? "alice" : "bob").resolve("runs").resolve(id);
                assertEquals(JSON.readTree(out.resolve("result.json").toFile()), JSON.readTree(result.body()));
                assertTrue(send("GET", base + "/" + id + "/report", token, null).body().contains("<html"));
                HttpResponse<byte[]> model = http.send(HttpRequest.newBuilder(URI.create(base + "/" + id + "/artifacts/model.safetensors"))
                        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, model.statusCode());
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(model.body()));
                assertEquals(sha, model.headers().firstValue("X-Content-SHA256").orElseThrow());
                assertEquals(Files.size(out.resolve("model.safetensors")), model.body().length);
                JsonNode list = JSON.readTree(send("GET", base, token, null).body());
                assertEquals(1, list.get("total").asInt(), list.toString());
                assertEquals(id, list.get("runs").get(0).get("id").asText());
                assertTrue(list.get("runs").get(0).get("bestAccuracy").asDouble() > 0.3, list.toString());
            }
            // The CLI as a client: status, cancel (a no-op now), results with SHA-256 checks; another's run is not found.
            String flags = "--server=" + server + " --token-file=" + bobToken;
            assertTrue(CliFixture.stdout(("watch " + flags + " " + ids.get(1)).split(" ")).startsWith("run " + ids.get(1) + ": succeeded; search "));
            String line = CliFixture.stdout(("status " + flags + " " + ids.get(1)).split(" "));
            assertTrue(line.matches("run " + ids.get(1) + ": succeeded; search \\d+, generation 4, best 0\\.\\d{4}, .*"), line);
            assertTrue(CliFixture.stdout(("status " + flags).split(" ")).startsWith(ids.get(1) + " succeeded best 0."));
            assertEquals("run " + ids.get(1) + " already ended (succeeded): nothing to cancel", CliFixture.stdout(("cancel " + flags + " " + ids.get(1)).split(" ")));
            Path fetched = tmp.resolve("fetched");
            assertTrue(CliFixture.stdout(("results " + flags + " " + ids.get(1) + " --out " + fetched).split(" ")).startsWith("nps: 4 files of run"));
            Path bobOut = root.resolve("tenants/bob/runs").resolve(ids.get(1));
            for (String f : List.of("result.json", "report.html", "model.safetensors", "model.onnx")) {
                assertEquals(-1L, Files.mismatch(bobOut.resolve(f), fetched.resolve(f)), f);
            }
            CliFixture.Run other = CliFixture.run(("results " + flags + " " + ids.get(0) + " --out " + tmp.resolve("nope")).split(" "));
            assertEquals(2, other.exitCode(), other.err());
            assertEquals("nps: server: no run " + ids.get(0) + " (404)", other.err().strip());
            // Both tenants' runs started from the same spec and seed: equal searches, whatever their weights.
            assertEquals(JSON.readTree(send("GET", base + "/" + ids.get(0) + "/result", alice, null).body()).get("search").get("trajectorySha256"),
                    JSON.readTree(send("GET", base + "/" + ids.get(1) + "/result", bob, null).body()).get("search").get("trajectorySha256"));
        }
    }

    @Test
    void aWatchReconnectsAcrossASigkillOfTheServingNodeAndSeesTheRunFinish() throws Exception {
        Path root = tmp.resolve("root");
        Path journal = tmp.resolve("journal");
        Path conf = tmp.resolve("admin.conf");
        Files.writeString(conf, "nps.node { storage-root = \"%s\", journal { folder = \"%s\" } }".formatted(root, journal));
        String alice = CliFixture.stdout("tenant", "add", "alice", "--config", conf.toString());
        CliFixture.copyDigits(root.resolve("tenants/alice/digits"));
        int port = ServeChild.freePort();
        int httpPort = ServeChild.freePort();
        String extra = "journal { folder = \"%s\" }\n service { host = \"127.0.0.1\", port = %d }".formatted(journal, httpPort);
        String server = "http://127.0.0.1:" + httpPort;
        dev.nps.service.ServiceClient client = new dev.nps.service.ServiceClient(server, alice);
        List<JsonNode> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<JsonNode> watch;
        String id;
        try (ServeChild node = ServeChild.start(tmp, "node", port, root, extra)) {
            node.awaitUp();
            awaitHttp(node);
            id = client.submit(List.of("merge", "--method", "nps", "--keep", "0.1", "--generations", "20", "--subspaces", "4",
                    "--no-baselines", "--seed", "5", "--spec", "digits/spec.conf")).get("id").asText();
            watch = CompletableFuture.supplyAsync(() -> client.watch(id, seen::add, java.time.Duration.ofMinutes(3)));
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (client.run(id).get("generationsKept").asInt() < 6 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertEquals("running", client.run(id).get("state").asText(), node.logTail());
            node.kill();
        }
        int before = seen.size();
        try (ServeChild again = ServeChild.start(tmp, "node-again", port, root, extra)) {
            again.awaitUp();
            JsonNode end = watch.get(240, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals("succeeded", end.get("state").asText(), end + "\n" + again.logTail());
            assertTrue(again.logContains("run " + id + ": resuming after"), again.logTail());
            assertTrue(before >= 1 && seen.size() > before, "events before the kill and after the restart: " + before + " / " + seen.size());
            assertTrue(Files.isRegularFile(root.resolve("tenants/alice/runs").resolve(id).resolve("result.json")));
        }
    }

    private static void awaitHttp(ServeChild node) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!node.logContains("HTTP service at") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(node.logContains("HTTP service at"), node.logTail());
    }

    /** The events of one stream, each as its text ("event: ...\ndata: ..."), until the stream ends. */
    private List<String> events(String url, String token) {
        List<String> events = new ArrayList<>();
        try {
            HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"), r.headers().toString());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                StringBuilder event = new StringBuilder();
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.isEmpty()) {
                        if (!event.isEmpty() && event.charAt(0) != ':') {
                            events.add(event.toString());
                        }
                        event.setLength(0);
                    } else {
                        event.append(event.isEmpty() ? "" : "\n").append(line);
                    }
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return events;
    }
}
