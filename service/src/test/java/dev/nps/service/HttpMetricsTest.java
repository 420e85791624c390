package dev.nps.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.junit.jupiter.api.Test;

/** Requests over real HTTP through the wrapped route: timed by route template and tenant, 429s counted by quota. */
class HttpMetricsTest extends AllDirectives {
    @Test
    void requestsAreTimedByTemplateAndQuotaRefusalsCounted() throws Exception {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "http-metrics");
        try {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            HttpMetrics metrics = new HttpMetrics(registry, token -> token.equals("secret") ? Optional.of("alice") : Optional.empty());
            Route inner = pathPrefix("v1", () -> pathPrefix("runs", () -> concat(
                    pathEnd(() -> post(() -> complete(StatusCodes.TOO_MANY_REQUESTS,
                            "{\"error\":\"quota max-runs exceeded: 2 runs running, the limit is 2\"}"))),
                    path(PathMatchers.segment(), id -> get(() -> complete("run " + id))))));
            var binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(metrics.wrap(inner)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            String base = "http://127.0.0.1:" + binding.localAddress().getPort();
            HttpClient http = HttpClient.newHttpClient();
            for (String id : new String[] {"r1", "r2"}) {
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + id)).header("Authorization", "Bearer secret")
                        .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            }
            assertEquals(429, http.send(HttpRequest.newBuilder(URI.create(base + "/v1/runs")).header("Authorization", "Bearer secret")
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(base + "/v1/elsewhere/x")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            long end = System.nanoTime() + 10_000_000_000L;
            while (registry.find("http.server.requests").timers().stream().mapToLong(t -> t.count()).sum() < 4 && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            assertEquals(2, registry.get("http.server.requests").tags("method", "GET", "uri", "/v1/runs/{id}", "status", "200",
                    "outcome", "SUCCESS", "tenant", "alice").timer().count(), "one series for both runs");
            assertNotNull(registry.find("http.server.requests").tags("uri", "NOT_FOUND", "status", "404", "tenant", "none").timer());
            assertEquals(1, registry.get("nps.quota.refusals").tags("tenant", "alice", "quota", "runs").counter().count());
            assertNull(registry.find("http.server.requests").tag("uri", "/v1/runs/r1").timer(), "no id in a uri");
            metrics.close();
        } finally {
            system.terminate();
        }
    }
}
