package dev.nps.service;

import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.ServedRuns;
import dev.nps.run.JournalStore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
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
                check, settings.maxBodyBytes(), settings.limits(), Materializer.matFromSystem(node.system()));
        HttpMetrics metrics = new HttpMetrics(node.metrics().registry(), token -> store.byToken(token).map(TenantStore.Tenant::name));
        ServerBinding binding;
        try {
            var server = Http.get(node.system()).newServerAt(settings.host(), settings.port())
                    .withSettings(serverSettings(node.system().settings().config(), settings.limits()));
            if (settings.tls().isPresent()) {
                server = server.enableHttps(ConnectionContext.httpsServer(sslContext(settings.tls().get())));
            }
            binding = server.bind(metrics.wrap(api.route())).toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (IllegalArgumentException e) {
            store.close();
            throw e;
        } catch (Exception e) {
            store.close();
            Throwable c = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException("nps.node.service: cannot listen on " + settings.host() + ":" + settings.port()
                    + " (" + c.getMessage() + ")", e);
        }
        binding.addToCoordinatedShutdown(Duration.ofSeconds(5), node.system());
        org.apache.pekko.actor.CoordinatedShutdown.get(node.system()).addJvmShutdownHook(() -> {
            api.close();
            metrics.close();
            store.close();
        });
        dev.nps.cluster.Console.say("HTTP service at %s://%s:%d/v1 (tenants and runs in the %s)",
                settings.tls().isPresent() ? "https" : "http", settings.host(),
                binding.localAddress().getPort(), journal.describe());
        return binding;
    }

    /**
     * pekko-http's connection limits: a connection is a stream, not a thread, so a slow client
     * (headers a byte at a time) holds only its connection, dropped once silent for idle-timeout;
     * max-connections caps how many such a flood can hold.
     */
    public static ServerSettings serverSettings(com.typesafe.config.Config config, ServiceSettings.Limits limits) {
        return ServerSettings.create(com.typesafe.config.ConfigFactory.parseString(
                "pekko.http.server { idle-timeout = %d ms, request-timeout = %d ms, max-connections = %d }".formatted(
                        limits.idleTimeout().toMillis(), limits.requestTimeout().toMillis(), limits.maxConnections()))
                .withFallback(config));
    }

    /** TLS 1.3 (and 1.2) with the key store's key; one line if the store cannot be read. */
    static SSLContext sslContext(ServiceSettings.Tls tls) {
        try (var in = java.nio.file.Files.newInputStream(tls.keyStore())) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, tls.password().toCharArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, tls.password().toCharArray());
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalArgumentException("nps.node.service.tls: cannot read the key store " + tls.keyStore() + " ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        }
    }
}
