package dev.nps.cli;

import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.ClusterSearch;
import dev.nps.cluster.NodeSettings;
import dev.nps.cluster.Roles;
import dev.nps.coordinator.SearchRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where a command's searches run: on this JVM (default), or with {@code --cluster HOST:PORT} on a
 * cluster this command joins as a coordinator node for its duration (its evaluators are the
 * cluster's sharded entities; it leaves when closed).
 */
final class SearchBackend implements AutoCloseable {
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration SLOTS_TIMEOUT = Duration.ofSeconds(60);

    private final ClusterNode node;
    private final SearchRunner runner;

    private SearchBackend(ClusterNode node, SearchRunner runner) {
        this.node = node;
        this.runner = runner;
    }

    static SearchBackend open(SearchOptions search, RuntimeOptions runtime, dev.nps.evaluator.ScoringPlan plan) {
        if (search.cluster == null) {
            if (search.nodeConfig != null) {
                throw new IllegalArgumentException("--node-config applies only with --cluster");
            }
            return new SearchBackend(null, SearchRunner.EMBEDDED);
        }
        NodeSettings settings;
        if (search.nodeConfig != null) {
            settings = NodeSettings.load(search.nodeConfig).withSeeds(List.of(search.cluster));
            if (!settings.hasRole(Roles.COORDINATOR)) {
                throw new IllegalArgumentException("node config " + search.nodeConfig + " lacks the coordinator role a search needs");
            }
        } else {
            settings = NodeSettings.client("127.0.0.1", search.cluster, Path.of("").toAbsolutePath());
        }
        ClusterNode node = ClusterNode.start(settings);
        try {
            if (!node.awaitUp(JOIN_TIMEOUT)) {
                throw new IllegalArgumentException("could not join the cluster at " + search.cluster + " within "
                        + JOIN_TIMEOUT.toSeconds() + " s (is `nps serve` running there?)");
            }
            if (!node.awaitSlots(1, SLOTS_TIMEOUT)) {
                throw new IllegalArgumentException("the cluster at " + search.cluster + " has no evaluator slots after "
                        + SLOTS_TIMEOUT.toSeconds() + " s");
            }
            if (!runtime.quiet) {
                System.err.printf("nps: joined the cluster at %s as %s; %d evaluator slots%n", search.cluster, node.address(),
                        node.clusterSlots());
            }
            return new SearchBackend(node, new ClusterSearch(node, runtime.spec, runtime.scorerOptions(plan), runtime.unsharedPolicy()));
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
    }

    SearchRunner runner() {
        return runner;
    }

    @Override
    public void close() {
        if (node != null) {
            node.close();
        }
    }
}
