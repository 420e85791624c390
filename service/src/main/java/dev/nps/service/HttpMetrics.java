package dev.nps.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.http.Outcome;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Times every request of the API once, around the whole route ({@code http.server.requests}: method,
 * uri as the route template of {@link ServiceApi#ENDPOINTS}, status, outcome, tenant), and counts
 * quota refusals ({@code nps.quota.refusals}: tenant, quota). Tags stay bounded: an unknown path is
 * "NOT_FOUND"/"UNKNOWN", an unknown token "none". Recording runs on a virtual thread: naming a
 * token's tenant may ask the tenant store once per token.
 */
final class HttpMetrics extends AllDirectives {
    private static final Pattern QUOTA = Pattern.compile("quota (\\S+) exceeded");
    private static final Map<String, String> QUOTAS = Map.of("max-runs", "runs", "max-slots", "slots", "max-bytes", "bytes",
            "submissions-per-minute", "submissions", "requests-per-minute", "requests");

    private record Template(String uri, Pattern path) {
    }

    private final MeterRegistry registry;
    private final Function<String, Optional<String>> tenantOfToken;
    private final Map<String, String> tenants = new ConcurrentHashMap<>();
    private final ExecutorService recorder = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Template> templates = ServiceApi.ENDPOINTS.stream().map(e -> e.substring(e.indexOf(' ') + 1)).distinct()
            .map(t -> new Template(t, Pattern.compile(t.replaceAll("\\{[^}]+}", "[^/]+")))).toList();

    /** @param tenantOfToken a bearer token's tenant name (the tenant store) */
    HttpMetrics(MeterRegistry registry, Function<String, Optional<String>> tenantOfToken) {
        this.registry = registry;
        this.tenantOfToken = tenantOfToken;
    }

    /** {@code inner}, timed; its rejections become responses here, so that a 404 or 405 is timed too. */
    Route wrap(Route inner) {
        return extractRequest(request -> {
            long t0 = System.nanoTime();
            return mapResponse(response -> {
                long nanos = System.nanoTime() - t0;
                recorder.execute(() -> record(request, response, nanos));
                return response;
            }, () -> handleRejections(RejectionHandler.defaultHandler(), () -> inner));
        });
    }

    private void record(HttpRequest request, HttpResponse response, long nanos) {
        int status = response.status().intValue();
        String tenant = tenant(request);
        Timer.builder("http.server.requests").description("HTTP API requests")
                .tags("method", request.method().name(), "uri", uri(request.getUri().path(), status), "status", Integer.toString(status),
                        "outcome", Outcome.forStatus(status).name(), "tenant", tenant)
                .publishPercentileHistogram().register(registry).record(nanos, TimeUnit.NANOSECONDS);
        if (status == 429 && response.entity() instanceof org.apache.pekko.http.scaladsl.model.HttpEntity.Strict strict) {
            Matcher m = QUOTA.matcher(strict.data().utf8String());
            String quota = m.find() ? QUOTAS.getOrDefault(m.group(1), "other") : "other";
            Counter.builder("nps.quota.refusals").description("requests refused (429) by a tenant's quota")
                    .tags("tenant", tenant, "quota", quota).register(registry).increment();
        }
    }

    /** The route template the path matches; unknown paths collapse to one value, never the path itself. */
    String uri(String path, int status) {
        for (Template t : templates) {
            if (t.path().matcher(path).matches()) {
                return t.uri();
            }
        }
        return status == 404 ? "NOT_FOUND" : "UNKNOWN";
    }

    private String tenant(HttpRequest request) {
        Optional<String> h = request.getHeader("Authorization").map(a -> a.value().strip());
        if (h.isEmpty() || !h.get().regionMatches(true, 0, "Bearer ", 0, 7)) {
            return "none";
        }
        String token = h.get().substring(7).strip();
        String known = tenants.get(token);
        if (known != null) {
            return known;
        }
        Optional<String> name;
        try {
            name = tenantOfToken.apply(token);
        } catch (RuntimeException e) {
            return "none";
        }
        name.ifPresent(n -> tenants.put(token, n)); // bounded by the tenants' tokens; unknown tokens are not kept
        return name.orElse("none");
    }

    void close() {
        recorder.shutdown();
    }
}
