package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nps.service.ServiceApi;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * docs/openapi.json and the server agree: every operation the file lists is routed (it answers
 * the handler's 401, not a routing rejection), every other method on those paths and any other
 * path is not, and the file lists exactly {@link ServiceApi#ENDPOINTS}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiDocsTest extends JUnit5RouteTest {
    private static final Path OPENAPI = Path.of(System.getProperty("nps.repo.root", "..")).resolve("docs/openapi.json");
    private ActorSystem system;
    private Route route;

    @Override
    protected ActorSystem actorSystem() {
        return system;
    }

    @BeforeAll
    void start() {
        system = ActorSystem.create("api-docs", com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = WARNING"));
        // No store or cluster behind it: every routed request is refused for its missing token before it needs one.
        route = new ServiceApi(Path.of("unused"), null, null, null, 4096, Materializer.matFromSystem(system)).route();
    }

    @AfterAll
    void stop() {
        system.terminate();
    }

    private Set<String> documented() throws Exception {
        Set<String> ops = new TreeSet<>();
        JsonNode paths = new ObjectMapper().readTree(OPENAPI.toFile()).get("paths");
        paths.fieldNames().forEachRemaining(p -> paths.get(p).fieldNames()
                .forEachRemaining(m -> ops.add(m.toUpperCase(java.util.Locale.ROOT) + " " + p)));
        return ops;
    }

    private int status(String method, String template) {
        String uri = template.replace("{id}", "r1").replace("{name}", "model.onnx").replace("{path}", "digits/spec.conf");
        return testRoute(route).run(HttpRequest.create(uri).withMethod(HttpMethods.lookup(method).orElseThrow()))
                .response().status().intValue();
    }

    @Test
    void theOpenApiFileListsExactlyTheRoutesServed() throws Exception {
        assertEquals(new TreeSet<>(ServiceApi.ENDPOINTS), documented());
        for (String op : documented()) {
            String[] mp = op.split(" ");
            assertEquals(401, status(mp[0], mp[1]), op + " is documented but not routed");
            for (String other : List.of("GET", "POST", "PUT", "DELETE", "PATCH")) {
                if (!documented().contains(other + " " + mp[1])) {
                    assertNotEquals(401, status(other, mp[1]), other + " " + mp[1] + " is routed but not documented");
                }
            }
        }
        for (String path : List.of("/v1", "/v1/tenants", "/v1/runs/r1/other", "/v1/runs/r1/artifacts", "/v1/filesx", "/v2/runs")) {
            assertNotEquals(401, status("GET", path), path + " is routed but not documented");
        }
    }
}
