package dev.nps.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;
import java.util.Map;

/**
 * How a node finds its peers when it has no static seeds: pekko-management's cluster bootstrap
 * asks a discovery method for the contact points (the nodes' management HTTP endpoints), probes
 * them, and once {@code requiredContactPoints} agree, the node with the lowest address forms the
 * cluster and the others join it. The management endpoint also serves the health checks
 * {@code /alive} (liveness) and {@code /ready} (readiness: this node is Up).
 * Configured as {@code nps.node.discovery { method = kubernetes | config, ... }} (README, "Kubernetes").
 */
public sealed interface Discovery {
    /** The management HTTP port (bootstrap's contact point and the health checks). */
    int managementPort();

    /** How many contact points must be found before a new cluster may form. */
    int requiredContactPoints();

    /** The pods of this cluster, found through the Kubernetes API (the pod's service account may list pods). */
    record Kubernetes(String podLabelSelector, int requiredContactPoints, int managementPort) implements Discovery {
    }

    /** A fixed list of management endpoints "host:port" (Pekko's {@code config} discovery): no Kubernetes needed. */
    record Static(List<String> contactPoints, int requiredContactPoints, int managementPort) implements Discovery {
        public Static {
            contactPoints = List.copyOf(contactPoints);
            if (contactPoints.isEmpty()) {
                throw new IllegalArgumentException("nps.node.discovery.contact-points is empty: list the management HOST:PORT of the nodes");
            }
            contactPoints.forEach(NodeSettings::parseHostPort);
        }
    }

    /** Bootstrap's service name: the key of the static list, the {@code %s} of a label selector. */
    String SERVICE = "nps";

    static java.util.Set<String> keys() {
        return dev.nps.spec.ConfigKeys.of("method", "pod-label-selector", "required-contact-points", "management-port", "contact-points");
    }

    /** The {@code nps.node.discovery} block; a bad or missing value fails with one line naming it. */
    static Discovery fromConfig(Config block) {
        dev.nps.spec.ConfigKeys.unknownKey(block.root(), keys(), "nps.node.discovery").ifPresent(m -> {
            throw new IllegalArgumentException(m);
        });
        Config c = block.withFallback(ConfigFactory.parseMap(Map.of("required-contact-points", 2, "management-port", 8558,
                "pod-label-selector", "app=nps")));
        try {
            int required = c.getInt("required-contact-points");
            int port = c.getInt("management-port");
            if (required < 1) {
                throw new IllegalArgumentException("nps.node.discovery.required-contact-points must be >= 1, got " + required);
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("nps.node.discovery.management-port must lie in [1, 65535], got " + port);
            }
            if (!c.hasPath("method")) {
                throw new IllegalArgumentException("nps.node.discovery.method is missing: kubernetes or config");
            }
            return switch (c.getString("method")) {
                case "kubernetes" -> new Kubernetes(c.getString("pod-label-selector"), required, port);
                case "config" -> new Static(c.hasPath("contact-points") ? c.getStringList("contact-points") : List.of(), required, port);
                default -> throw new IllegalArgumentException("nps.node.discovery.method must be kubernetes or config, got "
                        + c.getString("method"));
            };
        } catch (ConfigException e) {
            throw new IllegalArgumentException("nps.node.discovery: " + e.getMessage(), e);
        }
    }

    /** pekko-management and bootstrap settings for a node whose management endpoint is {@code host}:{@link #managementPort}. */
    default Config pekkoConfig(String host) {
        Config base = ConfigFactory.parseString("""
                pekko.management {
                  http.route-providers-read-only = true
                  cluster.bootstrap.contact-point-discovery.service-name = "%s"
                }
                # A node whose join through the seed nodes bootstrap found fails for a minute stops (exit 1); Kubernetes restarts it.
                pekko.cluster.shutdown-after-unsuccessful-join-seed-nodes = 60s
                """.formatted(SERVICE))
                .withValue("pekko.management.http.hostname", ConfigValueFactory.fromAnyRef(host))
                .withValue("pekko.management.http.port", ConfigValueFactory.fromAnyRef(managementPort()))
                .withValue("pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr",
                        ConfigValueFactory.fromAnyRef(requiredContactPoints()));
        return switch (this) {
            case Kubernetes k -> ConfigFactory.parseString("""
                    pekko.management.cluster.bootstrap.contact-point-discovery {
                      discovery-method = kubernetes-api
                      port-name = management            # the container port of that name on each pod
                    }
                    """)
                    .withValue("pekko.discovery.kubernetes-api.pod-label-selector", ConfigValueFactory.fromAnyRef(k.podLabelSelector()))
                    .withFallback(base);
            case Static s -> ConfigFactory.parseString("""
                    pekko.management.cluster.bootstrap {
                      contact-point-discovery.discovery-method = config
                      # by default bootstrap keeps only contact points on its own management port: nodes sharing a host differ
                      contact-point.filter-on-fallback-port = false
                    }
                    """)
                    .withValue("pekko.discovery.config.services." + SERVICE + ".endpoints", ConfigValueFactory.fromIterable(
                            s.contactPoints().stream().map(hp -> {
                                String[] p = NodeSettings.parseHostPort(hp);
                                return Map.of("host", p[0], "port", Integer.parseInt(p[1]));
                            }).toList()))
                    .withFallback(base);
        };
    }
}
