package dev.nps.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The node config's {@code nps.node.service} block: where the HTTP API listens, how big a request
 * body and an uploaded file may be, how many requests a second a tenant may make, and when a slow
 * or silent connection is dropped. The service needs the node's journal (tenants and runs are kept there).
 */
public record ServiceSettings(String host, int port, long maxBodyBytes, Optional<Tls> tls, Limits limits) {
    private static final java.util.Set<String> KEYS = dev.nps.spec.ConfigKeys.of("host", "port", "max-body-bytes", "tls",
            "max-upload-bytes", "tenant-requests-per-second", "idle-timeout", "request-timeout", "max-connections");
    private static final java.util.Set<String> TLS_KEYS = dev.nps.spec.ConfigKeys.of("key-store", "password");

    /** HTTPS: the server's key and certificate chain in a PKCS12 key store. */
    public record Tls(Path keyStore, String password) {
    }

    /**
     * What one tenant or one connection may take: an uploaded file's bytes, requests a second per
     * tenant (0: no limit), and pekko-http's idle timeout (a connection silent that long is closed),
     * request timeout (no answer that long: 503) and connection cap.
     */
    public record Limits(long maxUploadBytes, double tenantRequestsPerSecond, Duration idleTimeout, Duration requestTimeout,
            int maxConnections) {
        public static final Limits DEFAULT = new Limits(1L << 30, 100, Duration.ofSeconds(30), Duration.ofSeconds(60), 1024);

        public Limits {
            if (maxUploadBytes < 1) {
                throw new IllegalArgumentException("nps.node.service.max-upload-bytes must be >= 1, got " + maxUploadBytes);
            }
            if (!(tenantRequestsPerSecond >= 0) || Double.isInfinite(tenantRequestsPerSecond)) {
                throw new IllegalArgumentException("nps.node.service.tenant-requests-per-second must be >= 0 (0: no limit), got "
                        + tenantRequestsPerSecond);
            }
            if (idleTimeout.isNegative() || idleTimeout.isZero() || requestTimeout.isNegative() || requestTimeout.isZero()) {
                throw new IllegalArgumentException("nps.node.service.idle-timeout and request-timeout must be > 0");
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("nps.node.service.max-connections must be >= 1, got " + maxConnections);
            }
        }
    }

    public ServiceSettings(String host, int port, long maxBodyBytes) {
        this(host, port, maxBodyBytes, Optional.empty(), Limits.DEFAULT);
    }

    public ServiceSettings {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("nps.node.service.port must lie in [0, 65535], got " + port);
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("nps.node.service.max-body-bytes must be >= 1, got " + maxBodyBytes);
        }
    }

    /** The block of {@code file}, if it has one; refused (one line) with an unknown key or without a journal. */
    public static Optional<ServiceSettings> load(Path file) {
        try {
            Config c = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
            if (!c.hasPath("nps.node.service")) {
                return Optional.empty();
            }
            dev.nps.spec.ConfigKeys.unknownKey(c.getObject("nps.node.service"), KEYS, "nps.node.service")
                    .ifPresent(m -> { throw new IllegalArgumentException("node config " + file + ": " + m); });
            if (!c.hasPath("nps.node.journal")) {
                throw new IllegalArgumentException("node config " + file + ": nps.node.service needs nps.node.journal (the service"
                        + " keeps its tenants and runs there)");
            }
            Limits d = Limits.DEFAULT;
            Config s = c.getConfig("nps.node.service").withFallback(ConfigFactory.parseString(
                    "host = \"127.0.0.1\", port = 8080, max-body-bytes = 65536, max-upload-bytes = %d, tenant-requests-per-second = %s,"
                            .formatted(d.maxUploadBytes(), d.tenantRequestsPerSecond())
                            + " idle-timeout = %ds, request-timeout = %ds, max-connections = %d".formatted(d.idleTimeout().toSeconds(),
                            d.requestTimeout().toSeconds(), d.maxConnections())));
            Optional<Tls> tls = Optional.empty();
            if (s.hasPath("tls")) {
                dev.nps.spec.ConfigKeys.unknownKey(s.getObject("tls"), TLS_KEYS, "nps.node.service.tls")
                        .ifPresent(m -> { throw new IllegalArgumentException("node config " + file + ": " + m); });
                tls = Optional.of(new Tls(file.toAbsolutePath().getParent().resolve(s.getString("tls.key-store")),
                        s.hasPath("tls.password") ? s.getString("tls.password") : ""));
            }
            Limits limits = new Limits(s.getBytes("max-upload-bytes"), s.getDouble("tenant-requests-per-second"),
                    s.getDuration("idle-timeout"), s.getDuration("request-timeout"), s.getInt("max-connections"));
            return Optional.of(new ServiceSettings(s.getString("host"), s.getInt("port"), s.getBytes("max-body-bytes"), tls, limits));
        } catch (ConfigException e) {
            throw new IllegalArgumentException("node config " + file + ": " + e.getMessage(), e);
        }
    }
}
