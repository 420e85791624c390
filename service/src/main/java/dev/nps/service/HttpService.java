package dev.nps.service;

import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.ServedRuns;
import dev.nps.run.JournalStore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.Materializer;

/** Starts the HTTP API on a serving node ({@code nps.node.service}), beside its run coordinators. */
public final class HttpService {
    private static final Duration ASK = Duration.ofSeconds(30);

    private HttpService() {
    }

    /** Binds the API; a port in use or a bad address fails with one line. */
    public static ServerBinding start(ClusterNode node, JournalStore journal, ServiceSettings settings, ServiceApi.CommandCheck check) {
        TenantStore store = TenantStore.open(journal);
        ServiceApi api = new ServiceApi(node.settings().storageRoot(), store, (run, c) -> ServedRuns.ask(node.system(), run, c, ASK),
                check, settings.maxBodyBytes(), Materializer.matFromSystem(node.system()));
        ServerBinding binding;
        try {
            binding = Http.get(node.system()).newServerAt(settings.host(), settings.port()).bind(api.route())
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            store.close();
            Throwable c = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException("nps.node.service: cannot listen on " + settings.host() + ":" + settings.port()
                    + " (" + c.getMessage() + ")", e);
        }
        binding.addToCoordinatedShutdown(Duration.ofSeconds(5), node.system());
        org.apache.pekko.actor.CoordinatedShutdown.get(node.system()).addJvmShutdownHook(() -> {
            api.close();
            store.close();
        });
        System.out.printf("nps serve: HTTP service at http://%s:%d/v1 (tenants and runs in the %s)%n", settings.host(),
                binding.localAddress().getPort(), journal.describe());
        System.out.flush();
        return binding;
    }
}
