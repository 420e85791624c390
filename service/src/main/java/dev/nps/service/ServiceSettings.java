package dev.nps.service;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The node config's {@code nps.node.service} block: where the HTTP API listens and how big a
 * request body may be. The service needs the node's journal (tenants and runs are kept there).
 */
public record ServiceSettings(String host, int port, long maxBodyBytes, Optional<Tls> tls) {
    private static final java.util.Set<String> KEYS = dev.nps.spec.ConfigKeys.of("host", "port", "max-body-bytes", "tls");
    private static final java.util.Set<String> TLS_KEYS = dev.nps.spec.ConfigKeys.of("key-store", "password");

    /** HTTPS: the server's key and certificate chain in a PKCS12 key store. */
    public record Tls(Path keyStore, String password) {
    }

    public ServiceSettings(String host, int port, long maxBodyBytes) {
        this(host, port, maxBodyBytes, Optional.empty());
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
            Config s = c.getConfig("nps.node.service").withFallback(ConfigFactory.parseString(
                    "host = \"127.0.0.1\", port = 8080, max-body-bytes = 65536"));
            Optional<Tls> tls = Optional.empty();
            if (s.hasPath("tls")) {
                dev.nps.spec.ConfigKeys.unknownKey(s.getObject("tls"), TLS_KEYS, "nps.node.service.tls")
                        .ifPresent(m -> { throw new IllegalArgumentException("node config " + file + ": " + m); });
                tls = Optional.of(new Tls(file.toAbsolutePath().getParent().resolve(s.getString("tls.key-store")),
                        s.hasPath("tls.password") ? s.getString("tls.password") : ""));
            }
            return Optional.of(new ServiceSettings(s.getString("host"), s.getInt("port"), s.getBytes("max-body-bytes"), tls));
        } catch (ConfigException e) {
            throw new IllegalArgumentException("node config " + file + ": " + e.getMessage(), e);
        }
    }
}
