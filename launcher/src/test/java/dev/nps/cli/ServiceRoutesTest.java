package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.ServedRuns;
import dev.nps.run.JournalStore;
import dev.nps.service.ServiceApi;
import dev.nps.service.TenantStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.function.Predicate;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.testkit.TestRouteResult;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API's routes through pekko-http's testkit, over a real serving node in this JVM (H2 journal,
 * two CPU slots, the CLI's real executor and command-line check): real runs of the digits merge,
 * tenants and tokens in the journal. Each bad input answers its status with a line naming it.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServiceRoutesTest extends JUnit5RouteTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Path tmp;

    private ClusterNode node;
    private TenantStore store;
    private ServiceApi api;
    private Route route;
    private Path root;
    private String alice;
    private String bob;
    private String revoked;

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
        alice = tenant("alice", 0, 0, 0);
        bob = tenant("bob", 0, 0, 0);
        revoked = tenant("gone", 0, 0, 0);
        store.revoke("gone");
        api = new ServiceApi(root, store, (run, c) -> ServedRuns.ask(node.system(), run, c, Duration.ofSeconds(30)),
                ServedCommands::problem, 4096, Materializer.matFromSystem(node.system()));
        route = api.route();
    }

    @AfterAll
    void stopNode() {
        api.close();
        store.close();
        node.close();
    }

    private String tenant(String name, int maxRuns, long maxBytes, int perMinute) {
        String token = store.add(new TenantStore.Tenant(name, 1, maxRuns, 0, maxBytes, perMinute, false, 0));
        CliFixture.copyDigits(ServiceApi.area(root, name).resolve("digits"));
        return token;
    }

    private static String submission(String spec, String... args) {
        return JSON.createObjectNode().put("command", "merge").put("spec", spec).set("args", JSON.valueToTree(args)).toString();
    }

    private static String[] quickMerge(String generations) {
        return new String[] {"--method", "nps", "--keep", "0.1", "--generations", generations, "--subspaces", "4", "--no-baselines",
                "--no-control", "--seed", "3"};
    }

    private TestRouteResult call(HttpRequest request, String token) {
        return testRoute(route).run(token == null ? request : request.addHeader(RawHeader.create("Authorization", "Bearer " + token)));
    }

    private TestRouteResult post(String token, String body) {
        return call(HttpRequest.POST("/v1/runs").withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body)), token);
    }

    private static String error(TestRouteResult r) throws Exception {
        return JSON.readTree(r.entityString()).get("error").asText();
    }

    private JsonNode poll(String token, String id, Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = JSON.readTree(call(HttpRequest.GET("/v1/runs/" + id), token).assertStatusCode(200).entityString());
            if (until.test(last)) {
                return last;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("run " + id + " did not get there in 180 s: " + last);
    }

    /**
     * report.html as a browser would take it, without one: it parses, every image is a PNG that
     * decodes, and every link or source is inside the page (a data: URI or a #fragment that names
     * an element of it), so the file works on its own, offline.
     */
    private static void smokeTestReport(String html) throws Exception {
        org.jsoup.nodes.Document doc = org.jsoup.Jsoup.parse(html);
        assertFalse(doc.title().isBlank(), "report.html has no title");
        assertFalse(doc.body().text().isBlank(), "report.html has no text");
        org.jsoup.select.Elements images = doc.select("img");
        assertFalse(images.isEmpty(), "report.html has no chart");
        for (org.jsoup.nodes.Element img : images) {
            String src = img.attr("src");
            assertTrue(src.startsWith("data:image/png;base64,"), "an image not embedded as a PNG: " + src.substring(0, Math.min(60,
                    src.length())));
            byte[] png = java.util.Base64.getDecoder().decode(src.substring("data:image/png;base64,".length()));
            java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
            assertTrue(image != null && image.getWidth() > 0 && image.getHeight() > 0, "an image that does not decode: " + img.attr("alt"));
            assertFalse(img.attr("alt").isBlank(), "an image without alt text");
        }
        for (org.jsoup.nodes.Element e : doc.select("[href], [src]")) {
            String ref = e.hasAttr("href") ? e.attr("href") : e.attr("src");
            if (ref.startsWith("#")) {
                assertTrue(doc.getElementById(ref.substring(1)) != null, "the link " + ref + " names no element of the page");
            } else {
                assertTrue(ref.startsWith("data:"), "a reference out of the page: " + ref);
            }
        }
    }

    @Test
    void everyRequestNeedsAValidUnrevokedToken() throws Exception {
        assertEquals("no token: send Authorization: Bearer TOKEN", error(call(HttpRequest.GET("/v1/runs"), null).assertStatusCode(401)));
        assertEquals("unknown token", error(call(HttpRequest.GET("/v1/runs"), "not-a-token").assertStatusCode(401)));
        assertEquals("token revoked", error(call(HttpRequest.GET("/v1/runs"), revoked).assertStatusCode(401)));
        assertEquals("the Authorization header must be Bearer TOKEN", error(testRoute(route).run(HttpRequest.GET("/v1/runs")
                .addHeader(RawHeader.create("Authorization", "Basic " + alice))).assertStatusCode(401)));
        assertEquals("Bearer", post(null, submission("digits/spec.conf", quickMerge("3"))).assertStatusCode(401).response()
                .getHeader("WWW-Authenticate").orElseThrow().value());
    }

    @Test
    void aRunIsSubmittedWatchedAndDownloadedByItsTenantAndInvisibleToAnother() throws Exception {
        TestRouteResult created = post(alice, submission("digits/spec.conf", quickMerge("3"))).assertStatusCode(201);
        String id = JSON.readTree(created.entityString()).get("id").asText();
        assertEquals("/v1/runs/" + id, created.response().getHeader("Location").orElseThrow().value());
        JsonNode done = poll(alice, id, r -> !r.get("state").asText().equals("running"));
        assertEquals("succeeded", done.get("state").asText(), done.toString());
        assertEquals(3, done.get("progress").get("generation").asInt(), done.toString());
        assertTrue(done.get("progress").get("bestAccuracy").asDouble() > 0.3, done.toString());
        assertTrue(done.get("artifacts").toString().contains("model.safetensors"), done.toString());

        Path out = ServiceApi.area(root, "alice").resolve("runs").resolve(id);
        JsonNode result = JSON.readTree(call(HttpRequest.GET("/v1/runs/" + id + "/result"), alice).assertStatusCode(200)
                .assertContentType(ContentTypes.APPLICATION_JSON).entityString());
        assertEquals(JSON.readTree(out.resolve("result.json").toFile()), result);
        smokeTestReport(call(HttpRequest.GET("/v1/runs/" + id + "/report"), alice).assertStatusCode(200)
                .assertContentType(ContentTypes.TEXT_HTML_UTF8).entityString());
        TestRouteResult model = call(HttpRequest.GET("/v1/runs/" + id + "/artifacts/model.safetensors"), alice).assertStatusCode(200);
        byte[] bytes = model.entityBytes().toArray();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        assertEquals(sha, model.response().getHeader("X-Content-SHA256").orElseThrow().value());
        assertEquals(Files.size(out.resolve("model.safetensors")), bytes.length);
        call(HttpRequest.GET("/v1/runs/" + id + "/artifacts/..%2Fx"), alice).assertStatusCode(404);

        // The list carries the best calibration accuracy; filtered by state; paginated.
        JsonNode list = JSON.readTree(call(HttpRequest.GET("/v1/runs?state=succeeded&limit=10"), alice).assertStatusCode(200)
                .entityString());
        JsonNode row = null;
        for (JsonNode n : list.get("runs")) {
            row = n.get("id").asText().equals(id) ? n : row;
        }
        assertTrue(row != null, list.toString());
        assertEquals(done.get("progress").get("bestAccuracy").asDouble(), row.get("bestAccuracy").asDouble());
        assertEquals("query parameter 'state' must be one of [cancelled, failed, running, succeeded], got 'done'",
                error(call(HttpRequest.GET("/v1/runs?state=done"), alice).assertStatusCode(400)));
        assertEquals("query parameter 'limit' must be an integer in [1, 500], got '0'",
                error(call(HttpRequest.GET("/v1/runs?limit=0"), alice).assertStatusCode(400)));

        // Cancelling a finished run changes nothing and says so.
        JsonNode noop = JSON.readTree(call(HttpRequest.POST("/v1/runs/" + id + "/cancel"), alice).assertStatusCode(200).entityString());
        assertFalse(noop.get("cancelled").asBoolean());
        assertEquals("run " + id + " already ended (succeeded): nothing to cancel", noop.get("message").asText());

        // Another tenant gets exactly what a run that does not exist gets.
        for (String path : new String[] {"", "/result", "/report", "/artifacts/model.safetensors", "/events"}) {
            assertEquals("no run " + id, error(call(HttpRequest.GET("/v1/runs/" + id + path), bob).assertStatusCode(404)));
            assertEquals("no run r0" + path.length(), error(call(HttpRequest.GET("/v1/runs/r0" + path.length() + path), bob)
                    .assertStatusCode(404)));
        }
        assertEquals("no run " + id, error(call(HttpRequest.POST("/v1/runs/" + id + "/cancel"), bob).assertStatusCode(404)));
        assertFalse(call(HttpRequest.GET("/v1/runs"), bob).entityString().contains(id));
        assertEquals("succeeded", poll(alice, id, r -> true).get("state").asText());
    }

    @Test
    void aSpecOutsideTheAreaIsRefusedNamingIt() throws Exception {
        Path area = ServiceApi.area(root, "alice");
        Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(tmp.resolve("outside/spec.conf"), "name = x");
        Files.createSymbolicLink(area.resolve("link.conf"), tmp.resolve("outside/spec.conf"));
        assertEquals("field 'spec': ../bob/digits/spec.conf leaves your area",
                error(post(alice, submission("../bob/digits/spec.conf", quickMerge("3"))).assertStatusCode(400)));
        assertEquals("field 'spec': " + tmp.resolve("outside/spec.conf") + " is an absolute path; give it relative to your area",
                error(post(alice, submission(tmp.resolve("outside/spec.conf").toString(), quickMerge("3"))).assertStatusCode(400)));
        assertEquals("field 'spec': link.conf leads out of your area through a symbolic link",
                error(post(alice, submission("link.conf", quickMerge("3"))).assertStatusCode(400)));
        assertEquals("field 'spec': none.conf does not exist in your area",
                error(post(alice, submission("none.conf", quickMerge("3"))).assertStatusCode(400)));
        assertEquals("field 'args': --out is not an option here (the service writes a run into runs/ID of your area)",
                error(post(alice, submission("digits/spec.conf", "--method", "nps", "--out", "/tmp/x")).assertStatusCode(400)));
    }

    @Test
    void badBodiesAreRefusedNamingTheField() throws Exception {
        assertTrue(error(post(alice, "{\"command\": \"merge\",").assertStatusCode(400)).startsWith("malformed JSON: "));
        assertEquals("unknown field 'priority' (known: command, spec, args)",
                error(post(alice, "{\"command\": \"merge\", \"spec\": \"digits/spec.conf\", \"priority\": 1}").assertStatusCode(400)));
        assertEquals("field 'args': Unknown option: '--frobnicate'",
                error(post(alice, submission("digits/spec.conf", "--method", "nps", "--frobnicate")).assertStatusCode(400)));
        assertEquals("field 'args': --keep must be in (0, 1], got 1.5",
                error(post(alice, submission("digits/spec.conf", "--method", "nps", "--keep", "1.5")).assertStatusCode(400)));
        assertEquals("field 'args': --keep must be in (0, 1], got 0",
                error(post(alice, submission("digits/spec.conf", "--method", "nps", "--keep=0")).assertStatusCode(400)));
        assertEquals("field 'args': '@/etc/passwd' is an argument file; give the arguments themselves",
                error(post(alice, submission("digits/spec.conf", "--method", "nps", "@/etc/passwd")).assertStatusCode(400)));
        assertEquals("field 'command' must be one of [compress, merge, prune, transfer], got 'eval'",
                error(post(alice, "{\"command\": \"eval\", \"spec\": \"digits/spec.conf\"}").assertStatusCode(400)));
        String big = submission("digits/spec.conf", "--method", "nps", "--seed", "1".repeat(5000));
        assertTrue(error(post(alice, big).assertStatusCode(413)).endsWith("over the limit of 4096 bytes"));
        assertEquals(0, store.count("alice", "failed"), "nothing refused was recorded as a run");
    }

    @Test
    void quotasAnswer429NamingTheQuota() throws Exception {
        String one = tenant("one-at-a-time", 1, 0, 0);
        String id = JSON.readTree(post(one, submission("digits/spec.conf", quickMerge("400"))).assertStatusCode(201).entityString())
                .get("id").asText();
        assertEquals("quota max-runs exceeded: 1 runs running, the limit is 1",
                error(post(one, submission("digits/spec.conf", quickMerge("3"))).assertStatusCode(429)));
        JsonNode cancelling = JSON.readTree(call(HttpRequest.POST("/v1/runs/" + id + "/cancel"), one).assertStatusCode(202).entityString());
        assertTrue(cancelling.get("cancelled").asBoolean());
        assertEquals("cancelled", poll(one, id, r -> !r.get("state").asText().equals("running")).get("state").asText());

        String slow = tenant("slow", 0, 0, 1);
        post(slow, submission("digits/spec.conf", quickMerge("2"))).assertStatusCode(201);
        assertEquals("quota submissions-per-minute exceeded: 1 runs submitted in the last minute, the limit is 1",
                error(post(slow, submission("digits/spec.conf", quickMerge("2"))).assertStatusCode(429)));

        String tiny = tenant("tiny", 0, 1000, 0);
        assertTrue(error(post(tiny, submission("digits/spec.conf", quickMerge("2"))).assertStatusCode(429))
                .matches("quota max-bytes exceeded: your area holds \\d+ bytes, the limit is 1000"));
    }
}
