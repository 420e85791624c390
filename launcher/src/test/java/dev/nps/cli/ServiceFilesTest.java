package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.ServedRuns;
import dev.nps.run.JournalStore;
import dev.nps.service.HttpService;
import dev.nps.service.ServiceApi;
import dev.nps.service.ServiceSettings;
import dev.nps.service.TenantStore;
import dev.nps.storage.Sha256;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.testkit.TestRouteResult;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spec upload ({@code /v1/files}) through the route testkit, and what only a real socket shows: an
 * upload cut off midway, slow clients, the per-tenant request rate, and the CLI's upload then
 * submit against the API bound on loopback (limits: 4 KiB a body, 256 KiB a file, 20 requests a
 * second per tenant, 2 s idle timeout), over a real serving node in this JVM. The CLI uploads 29
 * files at once, so it meets the rate limit and waits out its Retry-After.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServiceFilesTest extends JUnit5RouteTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ServiceSettings.Limits LIMITS = new ServiceSettings.Limits(256 * 1024, 20, Duration.ofSeconds(2),
            Duration.ofSeconds(60), 1024);

    private Path tmp;
    private ClusterNode node;
    private TenantStore store;
    private ServiceApi api;
    private Route route;
    private ServerBinding binding;
    private Path root;
    private String alice;
    private String bob;

    @Override
    protected ActorSystem actorSystem() {
        return Adapter.toClassic(node.system());
    }

    @BeforeAll
    void startNode(@TempDir Path dir) throws Exception {
        tmp = dir;
        root = tmp.resolve("root");
        JournalStore journal = JournalStore.h2(tmp.resolve("journal"));
        node = CliFixture.servingNode(tmp, root, journal);
        store = TenantStore.open(journal);
        alice = store.add(new TenantStore.Tenant("alice", 1, 0, 0, 0, 0, false, 0));
        bob = store.add(new TenantStore.Tenant("bob", 1, 0, 0, 0, 0, false, 0));
        api = new ServiceApi(root, store, (run, c) -> ServedRuns.ask(node.system(), run, c, Duration.ofSeconds(30)),
                ServedCommands::problem, 4096, LIMITS, Materializer.matFromSystem(node.system()));
        route = api.route();
        binding = Http.get(node.system()).newServerAt("127.0.0.1", 0)
                .withSettings(HttpService.serverSettings(node.system().settings().config(), LIMITS)).bind(route)
                .toCompletableFuture().get();
    }

    @AfterAll
    void stopNode() throws Exception {
        binding.unbind().toCompletableFuture().get();
        api.close();
        store.close();
        node.close();
    }

    private int httpPort() {
        return binding.localAddress().getPort();
    }

    private TestRouteResult call(HttpRequest request, String token) {
        TestRouteResult r = testRoute(route).run(token == null ? request : request.addHeader(RawHeader.create("Authorization",
                "Bearer " + token)));
        if (r.response().status().intValue() >= 400) {
            System.out.println(request.method().value() + " " + request.getUri() + " -> " + r.response().status().intValue() + " "
                    + r.entityString()); // in the report when a status assertion fails
        }
        return r;
    }

    private TestRouteResult put(String token, String path, byte[] body) {
        return call(HttpRequest.PUT(path).withEntity(HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, body)), token);
    }

    /** A body without a length: the limits can only be found while it streams. */
    private TestRouteResult putChunked(String token, String path, int bytes) {
        Source<ByteString, ?> chunks = Source.range(1, bytes / 100).map(i -> ByteString.fromArray(new byte[100]));
        return call(HttpRequest.PUT(path).withEntity(HttpEntities.createChunked(ContentTypes.APPLICATION_OCTET_STREAM, chunks)), token);
    }

    /** The one-line error of an answer already checked for its status. */
    private static String error(TestRouteResult r) throws Exception {
        return JSON.readTree(r.entityString()).get("error").asText();
    }

    private static List<Path> filesUnder(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    /** A tenant of its own per test: the rate limit and quotas are per tenant. */
    private String freshTenant(String name, long maxBytes) {
        return store.add(new TenantStore.Tenant(name, 1, 0, 0, maxBytes, 0, false, 0));
    }

    @Test
    void aFileIsUploadedListedReplacedAndDeletedWithinItsTenantsArea() throws Exception {
        String carol = freshTenant("carol", 0);
        byte[] body = "name = uploaded\n".getBytes(StandardCharsets.UTF_8);
        JsonNode created = JSON.readTree(put(carol, "/v1/files/specs/a/spec.conf", body).assertStatusCode(201).entityString());
        assertEquals("specs/a/spec.conf", created.get("path").asText());
        assertEquals(body.length, created.get("bytes").asLong());
        assertEquals(Sha256.hex(body), created.get("sha256").asText());
        Path file = ServiceApi.area(root, "carol").resolve("specs/a/spec.conf");
        assertEquals("name = uploaded\n", Files.readString(file));

        put(carol, "/v1/files/specs/a/spec.conf", "name = replaced\n".getBytes(StandardCharsets.UTF_8)).assertStatusCode(200);
        assertEquals("name = replaced\n", Files.readString(file));
        JsonNode list = JSON.readTree(call(HttpRequest.GET("/v1/files"), carol).assertStatusCode(200).entityString());
        assertEquals("specs/a/spec.conf", list.get("files").get(0).get("path").asText(), list.toString());
        assertEquals(1, list.get("files").size(), list.toString());
        assertEquals(16, list.get("bytes").asLong(), list.toString());

        // Another tenant sees nothing of it, and deletes nothing of it.
        assertEquals(0, JSON.readTree(call(HttpRequest.GET("/v1/files"), bob).entityString()).get("files").size());
        assertEquals("no file 'specs/a/spec.conf' in your area",
                error(call(HttpRequest.DELETE("/v1/files/specs/a/spec.conf"), bob).assertStatusCode(404)));
        assertTrue(Files.exists(file));

        assertEquals("specs/a/spec.conf", JSON.readTree(call(HttpRequest.DELETE("/v1/files/specs/a/spec.conf"), carol)
                .assertStatusCode(200).entityString()).get("deleted").asText());
        assertFalse(Files.exists(file.getParent()), "its emptied folders go with it");
        assertEquals("no file 'specs/a/spec.conf' in your area",
                error(call(HttpRequest.DELETE("/v1/files/specs/a/spec.conf"), carol).assertStatusCode(404)));
        assertEquals("unknown token", error(put("nope", "/v1/files/x.conf", body).assertStatusCode(401)));
    }

    @Test
    void aPathOutsideTheAreaIsRefusedNamingItAndNothingIsWritten() throws Exception {
        String dave = freshTenant("dave", 0);
        Path area = ServiceApi.area(root, "dave");
        Files.createDirectories(area);
        Files.createDirectories(tmp.resolve("outside"));
        Files.createSymbolicLink(area.resolve("out"), tmp.resolve("outside"));
        byte[] body = "x".getBytes(StandardCharsets.UTF_8);
        assertEquals("path '../bob/x.conf' leaves your area", error(put(dave, "/v1/files/..%2Fbob%2Fx.conf", body).assertStatusCode(400)));
        assertEquals("path 'a/../../x.conf' leaves your area", error(put(dave, "/v1/files/a/..%2F..%2Fx.conf", body)
                .assertStatusCode(400)));
        assertEquals("path '/etc/x.conf' is absolute; give it relative to your area",
                error(put(dave, "/v1/files//etc/x.conf", body).assertStatusCode(400)));
        assertEquals("path 'out/x.conf' leads out of your area through a symbolic link",
                error(put(dave, "/v1/files/out/x.conf", body).assertStatusCode(400)));
        assertEquals("path 'out' leads out of your area through a symbolic link",
                error(call(HttpRequest.DELETE("/v1/files/out"), dave).assertStatusCode(400)));
        assertEquals("path 'runs/r1/result.json': runs/ of your area holds your runs' outputs, written by the service only",
                error(put(dave, "/v1/files/runs/r1/result.json", body).assertStatusCode(400)));
        assertEquals("path 'a/.hidden': segment '.hidden' must be 1-128 letters, digits, '.', '_' or '-', not starting with '.'",
                error(put(dave, "/v1/files/a/.hidden", body).assertStatusCode(400)));
        assertEquals("path 'a//b': segment '' must be 1-128 letters, digits, '.', '_' or '-', not starting with '.'",
                error(put(dave, "/v1/files/a//b", body).assertStatusCode(400)));
        assertEquals("path: give the file's path in your area after /v1/files/, e.g. /v1/files/digits/spec.conf",
                error(put(dave, "/v1/files/", body).assertStatusCode(400)));
        put(dave, "/v1/files/dir/x.conf", body).assertStatusCode(201);
        assertEquals("path 'dir' is a folder of your area", error(put(dave, "/v1/files/dir", body).assertStatusCode(400)));
        assertEquals(List.of(area.resolve("dir/x.conf")), filesUnder(area));
        assertEquals(List.of(), filesUnder(tmp.resolve("outside")));
    }

    @Test
    void aFileOverTheLimitsIsRefusedWhileItStreamsAndLeavesNothing() throws Exception {
        String erin = freshTenant("erin", 0);
        Path area = ServiceApi.area(root, "erin");
        assertEquals("file of 300000 bytes over the limit max-upload-bytes of 262144 bytes",
                error(put(erin, "/v1/files/big/a.bin", new byte[300_000]).assertStatusCode(413)));
        assertEquals("file over the limit max-upload-bytes of 262144 bytes (nothing kept)",
                error(putChunked(erin, "/v1/files/big/b.bin", 300_000).assertStatusCode(413)));
        assertEquals(List.of(), filesUnder(area));
        assertFalse(Files.exists(area.resolve("big")), "no folder left behind");

        // max-bytes counts what the area holds (uploads and runs' outputs); a replaced file's old bytes are freed.
        String frank = freshTenant("frank", 1000);
        Path frankArea = ServiceApi.area(root, "frank");
        put(frank, "/v1/files/a.bin", new byte[600]).assertStatusCode(201);
        assertEquals("quota max-bytes exceeded: a file of 600 bytes would pass it (your area holds 600 bytes, the limit is 1000)",
                error(put(frank, "/v1/files/b.bin", new byte[600]).assertStatusCode(429)));
        assertEquals("quota max-bytes exceeded after 500 bytes of the file (the limit is 1000; nothing kept)",
                error(putChunked(frank, "/v1/files/c/b.bin", 600).assertStatusCode(429)));
        put(frank, "/v1/files/a.bin", new byte[900]).assertStatusCode(200);
        assertEquals(List.of(frankArea.resolve("a.bin")), filesUnder(frankArea));
        assertEquals(900, Files.size(frankArea.resolve("a.bin")));
    }

    @Test
    void anUploadCutOffMidwayLeavesNoFile() throws Exception {
        Path area = ServiceApi.area(root, "alice");
        try (Socket s = new Socket("127.0.0.1", httpPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("PUT /v1/files/cut/model.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + alice
                    + "\r\nContent-Type: application/octet-stream\r\nContent-Length: 60000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[30_000]);
            out.flush();
            // The server is streaming it into a temporary file beside the target ...
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (filesUnder(area.resolve("cut")).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            List<Path> partial = filesUnder(area.resolve("cut"));
            assertEquals(1, partial.size(), "the upload never reached the disk");
            assertTrue(partial.getFirst().getFileName().toString().startsWith(".model.bin."), partial.toString());
        } // ... and the client goes away halfway.
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (Files.exists(area.resolve("cut")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertFalse(Files.exists(area.resolve("cut")), "the cut-off upload left " + filesUnder(area.resolve("cut")));
        assertFalse(JSON.readTree(call(HttpRequest.GET("/v1/files"), alice).entityString()).toString().contains("model.bin"));
    }

    @Test
    void slowClientsHoldNoWorkerAndSilentOnesAreDropped() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                Socket s = new Socket("127.0.0.1", httpPort());
                s.getOutputStream().write("GET /v1/runs HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
                slow.add(s);
            }
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            for (int round = 0; round < 3; round++) {
                for (Socket s : slow) {
                    s.getOutputStream().write('s'); // a header dribbled a byte at a time
                }
                long t0 = System.nanoTime();
                var r = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort() + "/v1/runs"))
                        .header("Authorization", "Bearer " + bob).timeout(Duration.ofSeconds(10)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(200, r.statusCode(), r.body());
                assertTrue(ms < 3000, "a normal request took " + ms + " ms beside 50 slow connections");
                Thread.sleep(500);
            }
            // Silent for the idle timeout (2 s here): the server closes the connection.
            Socket silent = slow.getFirst();
            silent.setSoTimeout(15_000);
            long t0 = System.nanoTime();
            InputStream in = silent.getInputStream();
            int read;
            try {
                while ((read = in.read()) >= 0) {
                    // whatever the server says before it closes (nothing, or a 408)
                }
            } catch (SocketException e) {
                read = -1; // reset by the server
            }
            assertEquals(-1, read);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 10_000, "a silent connection stayed open " + ms + " ms");
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    @Test
    void thousandsOfPipelinedRequestsInOneWriteAreAnsweredAndTheNodeStaysUp() throws Exception {
        int n = 5000; // ~500 KB in one write: one read held them all before reads were bounded, and the parser overflowed
        // Without a token (401 each, at once): a tenant's token would meet its rate, whose refusals are held a second each.
        byte[] one = "GET /v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer nobody-has-this-token\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[one.length * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(one, 0, all, i * one.length, one.length);
        }
        int answered = 0;
        int refused = 0;
        try (Socket s = new Socket("127.0.0.1", httpPort())) {
            s.setSoTimeout(60_000);
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    s.getOutputStream().write(all);
                    s.getOutputStream().flush();
                } catch (java.io.IOException e) {
                    // the reader below sees the connection end
                }
            });
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            String last = null;
            try {
                // A body has no line end of its own: the next status line follows it on the same line.
                for (String line; answered < n && (line = in.readLine()) != null; ) {
                    int at = line.indexOf("HTTP/1.1 ");
                    if (at >= 0) {
                        answered++;
                        refused += line.startsWith("HTTP/1.1 401", at) ? 1 : 0;
                        last = line.substring(at);
                    }
                }
            } catch (SocketException e) {
                throw new AssertionError("the connection broke after " + answered + " answers (" + refused + " 401, last " + last + ")", e);
            }
            writer.join();
        }
        assertEquals(n, answered, "every pipelined request is answered, in order, on the one connection");
        assertEquals(n, refused, "each one refused: an unknown token");
        call(HttpRequest.GET("/v1/files"), bob).assertStatusCode(200);
    }

    @Test
    void aFloodOverTheRequestRateIsHeldNotAnsweredAtWireSpeedAndOthersAreServedMeanwhile() throws Exception {
        String lee = freshTenant("lee", 0);
        int n = 400;
        byte[] one = ("GET /v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + lee + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[one.length * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(one, 0, all, i * one.length, one.length);
        }
        java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        try (Socket s = new Socket("127.0.0.1", httpPort())) {
            Thread.ofVirtual().start(() -> {
                try {
                    s.getOutputStream().write(all);
                } catch (java.io.IOException e) {
                    // closed at the end of the test
                }
            });
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                    for (String line; (line = in.readLine()) != null; ) {
                        int at = line.indexOf("HTTP/1.1 ");
                        if (at >= 0) {
                            answered.incrementAndGet();
                            refused.addAndGet(line.startsWith("HTTP/1.1 429", at) ? 1 : 0);
                        }
                    }
                } catch (java.io.IOException e) {
                    // closed at the end of the test
                }
            });
            Thread.sleep(1500);
            // Meanwhile another tenant is answered at once.
            long t0 = System.nanoTime();
            call(HttpRequest.GET("/v1/files"), bob).assertStatusCode(200);
            assertTrue((System.nanoTime() - t0) / 1e9 < 1.0, "bob waited behind lee's flood");
            Thread.sleep(1500);
            int seen = answered.get();
            // Rate 20/s with a second's burst: about 20 + 21 a second pass or are refused in 3 s, never all 400.
            assertTrue(seen < 120, seen + " of " + n + " answered in 3 s: the refusals were not held");
            assertTrue(refused.get() >= 1, "no refusal in 3 s: " + seen + " answered");
            s.close();
            reader.join(5000);
        }
    }

    @Test
    void aTenantOverItsRequestRateIsRefusedAndAnotherIsNot() throws Exception {
        String gina = freshTenant("gina", 0);
        int refused = 0;
        String message = null;
        String retryAfter = null;
        for (int i = 0; i < 60; i++) {
            TestRouteResult r = call(HttpRequest.GET("/v1/files"), gina);
            if (r.response().status().intValue() == 429) {
                refused++;
                message = error(r);
                retryAfter = r.response().getHeader("Retry-After").orElseThrow().value();
            } else {
                r.assertStatusCode(200);
            }
        }
        assertTrue(refused > 0, "60 requests at once passed a limit of 20 a second");
        assertEquals("limit tenant-requests-per-second exceeded: at most 20 requests a second per tenant", message);
        assertEquals("1", retryAfter);
        call(HttpRequest.GET("/v1/files"), bob).assertStatusCode(200);
        Thread.sleep(1100);
        call(HttpRequest.GET("/v1/files"), gina).assertStatusCode(200);
    }

    @Test
    void theCliUploadsASpecFolderAndSubmitsARunOfIt() throws Exception {
        String token = freshTenant("hank", 0);
        Path tokenFile = Files.writeString(tmp.resolve("hank.token"), token + "\n");
        Path local = CliFixture.copyDigits(tmp.resolve("local/digits")).getParent();
        Files.writeString(local.resolve(".editor-swap"), "not sent");
        String server = "http://127.0.0.1:" + httpPort();
        CliFixture.Run up = CliFixture.run("upload", "--server", server, "--token-file", tokenFile.toString(), local.toString(),
                "specs/digits");
        assertEquals(0, up.exitCode(), up.err());
        Path area = ServiceApi.area(root, "hank");
        for (Path f : filesUnder(local)) {
            Path remote = area.resolve("specs/digits").resolve(local.relativize(f).toString());
            if (f.getFileName().toString().startsWith(".")) {
                assertFalse(Files.exists(remote), "a hidden file was uploaded: " + remote);
            } else {
                assertEquals(Sha256.ofFile(f, "local"), Sha256.ofFile(remote, "uploaded"), remote.toString());
            }
        }

        CliFixture.Run missing = CliFixture.run("upload", "--server", server, "--token-file", tokenFile.toString(),
                tmp.resolve("nowhere").toString(), "x");
        assertEquals(2, missing.exitCode(), missing.err());
        assertTrue(missing.err().contains("upload: " + tmp.resolve("nowhere") + " is not a folder"), missing.err());
        CliFixture.Run outside = CliFixture.run("upload", "--server", server, "--token-file", tokenFile.toString(), local.toString(),
                "../bob");
        assertEquals(2, outside.exitCode(), outside.err());
        assertTrue(outside.err().contains("upload: REMOTE_DIR '../bob' leaves your area or has a '.' segment"), outside.err());
        CliFixture.Run noServer = CliFixture.run("submit", "--cluster", "127.0.0.1:1", "--run", "x", "--upload", local.toString(),
                "--", "merge", "--spec", "digits/spec.conf");
        assertEquals(2, noServer.exitCode(), noServer.err());
        assertTrue(noServer.err().contains("--upload applies to --server only"), noServer.err());

        // submit --upload: the folder goes to the folder of its name, then the run of its spec.
        var bytes = new java.io.ByteArrayOutputStream();
        var stdout = System.out;
        System.setOut(new java.io.PrintStream(bytes, true, StandardCharsets.UTF_8));
        CliFixture.Run submitted;
        try {
            submitted = CliFixture.run("submit", "--server", server, "--token-file", tokenFile.toString(), "--upload", local.toString(),
                    "--", "merge", "--method", "nps", "--keep", "0.1", "--generations", "2", "--subspaces", "4", "--no-baselines",
                    "--no-control", "--seed", "3", "--spec", "digits/spec.conf");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, submitted.exitCode(), submitted.err());
        // stdout is this JVM's: the node's own lines are there too; the CLI printed the id alone on one.
        String id = bytes.toString(StandardCharsets.UTF_8).lines().filter(l -> l.matches("r[0-9a-f]{8,}")).findFirst()
                .orElseThrow(() -> new AssertionError("no run id printed: " + bytes));
        assertTrue(Files.isRegularFile(area.resolve("digits/spec.conf")));
        long deadline = System.nanoTime() + 180_000_000_000L;
        JsonNode run = null;
        while (System.nanoTime() < deadline) {
            run = JSON.readTree(call(HttpRequest.GET("/v1/runs/" + id), token).assertStatusCode(200).entityString());
            if (!run.get("state").asText().equals("running")) {
                break;
            }
            Thread.sleep(300);
        }
        assertEquals("succeeded", run.get("state").asText(), String.valueOf(run));
    }

    @Test
    void aCompressRunsTasksFolderIsServedAndFetchedWithItsDigests() throws Exception {
        String token = freshTenant("ivy", 0);
        Path tokenFile = Files.writeString(tmp.resolve("ivy.token"), token + "\n");
        CliFixture.copyDigits(ServiceApi.area(root, "ivy").resolve("digits"));
        String server = "http://127.0.0.1:" + httpPort();
        var client = new dev.nps.service.ServiceClient(server, token);
        String id = client.submit(List.of("compress", "--keep", "0.05", "--generations", "2", "--spec", "digits/spec.conf"))
                .get("id").asText();
        long deadline = System.nanoTime() + 300_000_000_000L;
        JsonNode run = client.run(id);
        while (run.get("state").asText().equals("running") && System.nanoTime() < deadline) {
            Thread.sleep(500);
            run = client.run(id);
        }
        assertEquals("succeeded", run.get("state").asText(), run.toString());
        List<String> names = new ArrayList<>();
        run.get("artifacts").forEach(n -> names.add(n.asText()));
        assertTrue(names.stream().anyMatch(n -> n.startsWith("tasks/")), names.toString());
        Path out = ServiceApi.area(root, "ivy").resolve("runs").resolve(id);
        String task = names.stream().filter(n -> n.startsWith("tasks/")).findFirst().orElseThrow();
        TestRouteResult one = call(HttpRequest.GET("/v1/runs/" + id + "/artifacts/" + task), token).assertStatusCode(200);
        assertEquals(Sha256.ofFile(out.resolve(task), "artifact"), one.response().getHeader("X-Content-SHA256").orElseThrow().value());
        assertEquals(Sha256.hex(one.entityBytes().toArray()), Sha256.ofFile(out.resolve(task), "artifact"));
        assertEquals("run " + id + " (succeeded) has no artifact 'tasks/../result.json'",
                error(call(HttpRequest.GET("/v1/runs/" + id + "/artifacts/tasks%2F..%2Fresult.json"), token).assertStatusCode(404)));

        Path fetched = tmp.resolve("fetched-" + id);
        CliFixture.Run r = CliFixture.run("results", "--server", server, "--token-file", tokenFile.toString(), id, "--out",
                fetched.toString());
        assertEquals(0, r.exitCode(), r.err());
        for (String name : names) {
            assertEquals(Sha256.ofFile(out.resolve(name), "served"), Sha256.ofFile(fetched.resolve(name), "fetched"), name);
        }
        assertEquals(names.size(), filesUnder(fetched).size(), "exactly the run's files were fetched");

        // What max-bytes counts is the whole area: the run's outputs beside the spec it ran.
        long area = 0;
        long outputs = 0;
        for (Path f : filesUnder(ServiceApi.area(root, "ivy"))) {
            area += Files.size(f);
            outputs += f.startsWith(out) ? Files.size(f) : 0;
        }
        JsonNode listed = client.files();
        assertEquals(area, listed.get("bytes").asLong(), listed.toString());
        assertTrue(outputs > 0 && listed.toString().indexOf("runs/") < 0, "outputs counted, not listed as files: " + listed);
    }
}
