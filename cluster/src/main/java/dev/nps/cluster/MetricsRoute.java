package dev.nps.cluster;

import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} on the node's pekko-management endpoint (beside /alive, /ready and bootstrap):
 * the node's {@link NodeMetrics} in Prometheus' text format. pekko-management instantiates it from
 * {@code pekko.management.http.routes.nps-metrics}.
 */
public final class MetricsRoute extends AllDirectives implements ManagementRouteProvider {
    private final NodeMetrics metrics;

    public MetricsRoute(ExtendedActorSystem system) {
        this.metrics = NodeMetrics.of(Adapter.toTyped(system));
    }

    @Override
    public Route routes(ManagementRouteProviderSettings settings) {
        return path("metrics", () -> get(() -> extractExecutionContext(ec -> completeWithFuture(
                java.util.concurrent.CompletableFuture.supplyAsync(() -> HttpResponse.create()
                        .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape())), ec)))));
    }
}
