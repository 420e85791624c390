package dev.nps.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.nps.coordinator.NpsSearch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How one cluster node runs, read from the {@code nps.node} block of a HOCON file (README, "Cluster").
 * Anything under {@code pekko} in the same file overrides the settings derived here.
 *
 * @param host        address other nodes reach this one at
 * @param port        Artery TCP port; 0 = any free port
 * @param seeds       "host:port" of the seed nodes (the first one to start lists itself)
 * @param roles       {@link Roles#COORDINATOR} and/or {@link Roles#EVALUATOR}
 * @param storageRoot where run specs are resolved; a shared volume gives every node the same files
 * @param gpus        CUDA device ids of the evaluator slots; empty = auto-detect (then CPU slots if none)
 * @param noGpu       true when the file says {@code gpus = []}: CPU slots even where CUDA is present
 * @param cpuSlots    evaluator slots on a node without GPUs
 * @param stableAfter how long the split-brain resolver waits for a stable membership before downing
 * @param tls         Artery TLS settings, empty = plain TCP
 * @param pekko       the file's own pekko overrides
 * @param discovery   how the node finds its peers instead of {@code seeds} (cluster bootstrap, e.g. on Kubernetes)
 * @param management  the pekko-management HTTP port (health checks, bootstrap, {@code /metrics}; 0 = a free port):
 *                    {@code nps.node.management.port}, else discovery's management-port; empty = no endpoint
 */
public record NodeSettings(String host, int port, List<String> seeds, List<String> roles, Path storageRoot,
                           List<Integer> gpus, boolean noGpu, int cpuSlots, Duration stableAfter, Optional<Tls> tls,
                           Config pekko, Optional<Discovery> discovery, java.util.OptionalInt management) {

    /** A node without an explicit management block: the endpoint exists only with discovery. */
    public NodeSettings(String host, int port, List<String> seeds, List<String> roles, Path storageRoot, List<Integer> gpus,
                        boolean noGpu, int cpuSlots, Duration stableAfter, Optional<Tls> tls, Config pekko, Optional<Discovery> discovery) {
        this(host, port, seeds, roles, storageRoot, gpus, noGpu, cpuSlots, stableAfter, tls, pekko, discovery,
                discovery.map(d -> java.util.OptionalInt.of(d.managementPort())).orElse(java.util.OptionalInt.empty()));
    }

    /** A node that joins static seeds. */
    public NodeSettings(String host, int port, List<String> seeds, List<String> roles, Path storageRoot, List<Integer> gpus,
                        boolean noGpu, int cpuSlots, Duration stableAfter, Optional<Tls> tls, Config pekko) {
        this(host, port, seeds, roles, storageRoot, gpus, noGpu, cpuSlots, stableAfter, tls, pekko, Optional.empty());
    }

    /** Key and trust stores (PKCS12) for Artery's tls-tcp transport, with mutual authentication. */
    public record Tls(Path keyStore, Path trustStore, String password) {
    }

    public NodeSettings {
        seeds = List.copyOf(seeds);
        roles = List.copyOf(roles);
        gpus = List.copyOf(gpus);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("nps.node.port must lie in [0, 65535], got " + port);
        }
        if (roles.isEmpty() || !Roles.ALL.containsAll(roles)) {
            throw new IllegalArgumentException("nps.node.roles must be a non-empty subset of " + Roles.ALL + ", got " + roles);
        }
        if (cpuSlots < 0) {
            throw new IllegalArgumentException("nps.node.cpu-slots must be >= 0, got " + cpuSlots);
        }
        for (String s : seeds) {
            parseHostPort(s);
        }
        if (management.isPresent() && (management.getAsInt() < 0 || management.getAsInt() > 65535)) {
            throw new IllegalArgumentException("nps.node.management.port must lie in [0, 65535], got " + management.getAsInt());
        }
        if (management.isPresent() && discovery.isPresent() && management.getAsInt() != discovery.get().managementPort()) {
            throw new IllegalArgumentException("nps.node.management.port (" + management.getAsInt() + ") differs from"
                    + " nps.node.discovery.management-port (" + discovery.get().managementPort() + "): one endpoint serves both");
        }
        if (discovery.isPresent() && !seeds.isEmpty()) {
            throw new IllegalArgumentException("nps.node: give either seeds or discovery, not both");
        }
        for (int g : gpus) {
            if (g < 0) {
                throw new IllegalArgumentException("nps.node.gpus: CUDA device ids are >= 0, got " + g);
            }
        }
    }

    /** Reads {@code file}; a missing file or a bad value fails with one line naming it. */
    public static NodeSettings load(Path file) {
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("node config " + file + " does not exist");
        }
        dev.nps.storage.InputFiles.requireRegularFile(file, "node config");
        try {
            Config c = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
            Path dir = file.toAbsolutePath().getParent();
            return fromConfig(c, dir);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("node config " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw e.getMessage() != null && e.getMessage().startsWith("unknown key")
                    ? new IllegalArgumentException("node config " + file + ": " + e.getMessage(), e) : e;
        }
    }

    /**
     * The node's run journal, {@code nps.node.journal { folder = PATH }} (H2) or
     * {@code { url = "jdbc:postgresql://...", user = U, password = P }}; empty when the file has none
     * (the node then executes no submitted runs).
     */
    public static Optional<dev.nps.run.JournalStore> journal(Path file) {
        try {
            Config c = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
            return c.hasPath("nps.node.journal") ? Optional.of(dev.nps.run.JournalStore.fromConfig(c.getConfig("nps.node.journal"),
                    file.toAbsolutePath().getParent(), "nps.node.journal")) : Optional.empty();
        } catch (ConfigException e) {
            throw new IllegalArgumentException("node config " + file + ": " + e.getMessage(), e);
        }
    }

    /** From a parsed config; relative paths resolve against {@code dir}. */
    public static NodeSettings fromConfig(Config file, Path dir) {
        // A typo (seed = [...], storage_root = ...) would silently fall back to the default: refused instead.
        if (file.hasPath("nps")) {
            dev.nps.spec.ConfigKeys.unknownKey(file.getObject("nps"), dev.nps.spec.ConfigKeys.of("node"), "nps")
                    .ifPresent(m -> { throw new IllegalArgumentException(m); });
        }
        if (file.hasPath("nps.node")) {
            dev.nps.spec.ConfigKeys.unknownKey(file.getObject("nps.node"), NODE_KEYS, "nps.node")
                    .ifPresent(m -> { throw new IllegalArgumentException(m); });
            if (file.hasPath("nps.node.tls")) {
                dev.nps.spec.ConfigKeys.unknownKey(file.getObject("nps.node.tls"), TLS_KEYS, "nps.node.tls")
                        .ifPresent(m -> { throw new IllegalArgumentException(m); });
            }
        }
        Config c = file.withFallback(ConfigFactory.parseString(DEFAULTS)).getConfig("nps.node");
        List<Integer> gpus = new ArrayList<>();
        boolean noGpu = false;
        if (c.getValue("gpus").valueType() == com.typesafe.config.ConfigValueType.LIST) {
            gpus.addAll(c.getIntList("gpus"));
            noGpu = gpus.isEmpty();
        } else if (!c.getString("gpus").equals("auto")) {
            throw new IllegalArgumentException("nps.node.gpus must be auto or a list of CUDA device ids, got " + c.getString("gpus"));
        }
        Optional<Tls> tls = Optional.empty();
        if (c.getBoolean("tls.enabled")) {
            tls = Optional.of(new Tls(dir.resolve(c.getString("tls.key-store")), dir.resolve(c.getString("tls.trust-store")),
                    c.getString("tls.password")));
        }
        Config pekko = file.hasPath("pekko") ? file.withOnlyPath("pekko") : ConfigFactory.empty();
        Optional<Discovery> discovery = c.hasPath("discovery") ? Optional.of(Discovery.fromConfig(c.getConfig("discovery")))
                : Optional.empty();
        java.util.OptionalInt management = discovery.map(d -> java.util.OptionalInt.of(d.managementPort())).orElse(java.util.OptionalInt.empty());
        if (file.hasPath("nps.node.management")) {
            dev.nps.spec.ConfigKeys.unknownKey(file.getObject("nps.node.management"), dev.nps.spec.ConfigKeys.of("port"), "nps.node.management")
                    .ifPresent(m -> { throw new IllegalArgumentException(m); });
            Config m = c.getConfig("management").withFallback(ConfigFactory.parseString("port = 8558"));
            management = java.util.OptionalInt.of(m.getInt("port"));
        }
        return new NodeSettings(c.getString("host"), c.getInt("port"), c.getStringList("seeds"), c.getStringList("roles"),
                dir.resolve(c.getString("storage-root")).normalize(), gpus, noGpu, c.getInt("cpu-slots"),
                c.getDuration("stable-after"), tls, pekko, discovery, management);
    }

    private static final java.util.Set<String> NODE_KEYS = dev.nps.spec.ConfigKeys.of("host", "port", "seeds", "roles",
            "storage-root", "gpus", "cpu-slots", "stable-after", "tls", "journal", "discovery", "management",
            "service", // service: the HTTP API's block, read by nps-service (dev.nps.service.ServiceSettings)
            "log");    // log: text or JSON lines, read by the launcher (dev.nps.cli.LogSettings)
    private static final java.util.Set<String> TLS_KEYS = dev.nps.spec.ConfigKeys.of("enabled", "key-store", "trust-store", "password");

    /**
     * What {@code serve} needs beyond a valid file: at least one seed, or a discovery method. With
     * neither, Pekko never joins anything and the node would wait in silence; the first node of a
     * cluster lists itself.
     */
    public NodeSettings requireSeeds() {
        if (seeds.isEmpty() && discovery.isEmpty()) {
            throw new IllegalArgumentException("nps.node.seeds is empty: list at least one seed HOST:PORT (the first node of a"
                    + " cluster lists itself, e.g. seeds = [\"" + host + ":" + port + "\"]), or give nps.node.discovery");
        }
        return this;
    }

    private static final String DEFAULTS = """
            nps.node {
              host = "127.0.0.1"
              port = 2551
              seeds = []
              roles = [evaluator]
              storage-root = "."
              gpus = auto
              cpu-slots = 1
              stable-after = 10s
              tls { enabled = false, key-store = "", trust-store = "", password = "" }
            }
            """;

    /** A coordinator-only node on a free port, joining {@code seed}: what a command run with --cluster starts. */
    public static NodeSettings client(String host, String seed, Path storageRoot) {
        parseHostPort(seed);
        return new NodeSettings(host, 0, List.of(seed), List.of(Roles.COORDINATOR), storageRoot, List.of(), true, 0,
                Duration.ofSeconds(10), Optional.empty(), ConfigFactory.empty());
    }

    public NodeSettings withPort(int p) {
        return new NodeSettings(host, p, seeds, roles, storageRoot, gpus, noGpu, cpuSlots, stableAfter, tls, pekko, discovery, management);
    }

    public NodeSettings withSeeds(List<String> s) {
        return new NodeSettings(host, port, s, roles, storageRoot, gpus, noGpu, cpuSlots, stableAfter, tls, pekko,
                s.isEmpty() ? discovery : Optional.empty(), management); // explicit seeds replace discovery
    }

    public NodeSettings withTls(Optional<Tls> t) {
        return new NodeSettings(host, port, seeds, roles, storageRoot, gpus, noGpu, cpuSlots, stableAfter, t, pekko, discovery, management);
    }

    public NodeSettings withPekko(Config p) {
        return new NodeSettings(host, port, seeds, roles, storageRoot, gpus, noGpu, cpuSlots, stableAfter, tls, p, discovery, management);
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }

    /** "host:port" as [host, port]; a one-line error otherwise. */
    static String[] parseHostPort(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + s + "'");
        }
        try {
            int p = Integer.parseInt(s.substring(colon + 1));
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + s + "'");
        }
        return new String[] {s.substring(0, colon), s.substring(colon + 1)};
    }

    /** The Pekko settings of this node: cluster provider, Artery (TLS if set), split-brain resolver, sharding. */
    Config pekkoConfig(List<String> clusterRoles, int evaluatorThreads) {
        List<String> seedUris = seeds.stream().map(s -> {
            String[] hp = parseHostPort(s);
            return "pekko://" + ClusterNode.SYSTEM + "@" + hp[0] + ":" + hp[1];
        }).toList();
        Config base = ConfigFactory.parseString("""
                pekko {
                  actor.provider = cluster
                  remote.artery.transport = tcp
                  cluster {
                    # Pekko's split-brain resolver downs unreachable nodes: keep-majority keeps the side with more
                    # nodes (on a tie, the side with the lowest address), so a crashed node is removed and its work
                    # handed out again, while a minority partition downs itself instead of running a second search.
                    downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
                    split-brain-resolver.active-strategy = keep-majority
                    sharding {
                      passivation.strategy = none       # an evaluator holds a GPU slot; it stops only when moved
                      rebalance-interval = 2s           # moves entities off nodes with more entities than slots
                      retry-interval = 1s
                      handoff-timeout = 10s             # a handoff that cannot finish gives up sooner than the 60 s default
                    }
                  }
                }
                """)
                .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
                .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
                .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedUris))
                .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(clusterRoles))
                .withValue("pekko.cluster.split-brain-resolver.stable-after",
                        ConfigValueFactory.fromAnyRef(stableAfter.toMillis() + "ms"));
        if (tls.isPresent()) {
            Tls t = tls.get();
            base = ConfigFactory.parseString("""
                    pekko.remote.artery {
                      transport = tls-tcp
                      ssl.config-ssl-engine {
                        protocol = "TLSv1.3"
                        enabled-algorithms = ["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"]
                        require-mutual-authentication = on
                      }
                    }
                    """)
                    .withValue("pekko.remote.artery.ssl.config-ssl-engine.key-store", ConfigValueFactory.fromAnyRef(t.keyStore().toString()))
                    .withValue("pekko.remote.artery.ssl.config-ssl-engine.trust-store", ConfigValueFactory.fromAnyRef(t.trustStore().toString()))
                    .withValue("pekko.remote.artery.ssl.config-ssl-engine.key-store-password", ConfigValueFactory.fromAnyRef(t.password()))
                    .withValue("pekko.remote.artery.ssl.config-ssl-engine.key-password", ConfigValueFactory.fromAnyRef(t.password()))
                    .withValue("pekko.remote.artery.ssl.config-ssl-engine.trust-store-password", ConfigValueFactory.fromAnyRef(t.password()))
                    .withFallback(base);
        }
        if (discovery.isPresent()) {
            base = discovery.get().pekkoConfig(host).withFallback(base);
        }
        if (management.isPresent()) { // one management endpoint per node: health checks, bootstrap and /metrics
            base = ConfigFactory.parseString("pekko.management.http.routes.nps-metrics = \"" + MetricsRoute.class.getName() + "\"")
                    .withValue("pekko.management.http.hostname", ConfigValueFactory.fromAnyRef(host))
                    .withValue("pekko.management.http.port", ConfigValueFactory.fromAnyRef(management.getAsInt()))
                    .withFallback(base);
        }
        return pekko.withFallback(base)
                .withFallback(NpsSearch.sharedPekkoConfig(ClusterNode.EVALUATOR_DISPATCHER, Math.max(1, evaluatorThreads)));
    }
}
