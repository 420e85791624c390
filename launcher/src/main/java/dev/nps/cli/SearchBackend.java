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
    /** How long --cluster waits for a seed to answer before it gives up (README, "Cluster"). */
    static final Duration JOIN_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration SLOTS_TIMEOUT = Duration.ofSeconds(60);

    private final ClusterNode node;
    private final SearchRunner runner;
    private dev.nps.run.LocalRun durable;
    private java.nio.file.Path journal;
    private boolean succeeded;
    private boolean served;

    private SearchBackend(ClusterNode node, SearchRunner runner) {
        this.node = node;
        this.runner = runner;
    }

    static SearchBackend open(SearchOptions search, RuntimeOptions runtime, dev.nps.evaluator.ScoringPlan plan) {
        ServedCommands.Served served = ServedCommands.current();
        if (served != null) { // a run executed by `nps serve`: the node's evaluators, the node's journal
            SearchBackend b = new SearchBackend(null, served.durable().runner(new ClusterSearch(served.node(), runtime.spec,
                    runtime.scorerOptions(plan), runtime.unsharedPolicy()).withShare(served.weight(), served.maxSlots())
                    .withTenant(dev.nps.run.RunMeters.tenantOf(served.durable().atOpen().opened().getRequest()))));
            b.served = true;
            return b;
        }
        if (search.cluster == null) {
            if (search.nodeConfig != null) {
                throw new IllegalArgumentException("--node-config applies only with --cluster");
            }
            // One actor system for all of this command's searches (a system per search costs 40-60 ms each).
            return new SearchBackend(null, new dev.nps.coordinator.EmbeddedSearches(plan.evaluators()));
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
        requireResolvable(search.cluster);
        // Until it has joined, this node's Pekko stays quiet: an unreachable seed is reported below in one line,
        // not as Pekko's association and join-retry warnings.
        ClusterNode node = ClusterNode.start(settings, com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = ERROR"));
        try {
            if (!node.awaitUp(JOIN_TIMEOUT)) {
                throw new IllegalArgumentException("could not join the cluster at " + search.cluster + " within "
                        + JOIN_TIMEOUT.toSeconds() + " s (is `nps serve` running there?)");
            }
            ClusterNode.setLogLevel(node.system(), org.apache.pekko.event.Logging.WarningLevel());
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

    /** An unknown host fails at once, not after the join timeout. */
    private static void requireResolvable(String hostPort) {
        String host = hostPort.substring(0, hostPort.lastIndexOf(':'));
        try {
            java.net.InetAddress.getByName(host);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve the host of --cluster " + hostPort + ": unknown host '" + host + "'");
        }
    }

    SearchRunner runner() {
        return runner;
    }

    /**
     * The runner, journaled into {@code dir}'s {@code .nps-journal/} (an H2 file database): a rerun of
     * the same command with the same {@code --out} resumes where the last attempt stopped and gives
     * the result of an uninterrupted run; another command or changed inputs are refused.
     */
    SearchRunner durableRunner(dev.nps.result.OutputDirectory dir, dev.nps.protocol.RunOpened opened, boolean quiet) {
        if (served) {
            return runner; // journaled by the node that serves the run
        }
        journal = dir.resolve(dev.nps.result.OutputDirectory.JOURNAL);
        boolean existed = java.nio.file.Files.exists(journal);
        dev.nps.run.JournalStore store = dev.nps.run.JournalStore.h2(journal);
        try {
            store.migrate();
        } catch (dev.nps.run.JournalException e) {
            if (e.getMessage() != null && e.getMessage().contains("in use by another process")) {
                throw new IllegalArgumentException("--out " + dir.path() + " is in use by another nps command (its journal is"
                        + " open there); wait for it to end or use another --out");
            }
            throw e;
        }
        try {
            durable = dev.nps.run.LocalRun.open(store.pekkoConfig(), dev.nps.run.LocalRun.CLI_RUN, opened);
        } catch (RuntimeException e) {
            if (!existed) {
                deleteJournal();
            }
            throw e;
        }
        dev.nps.run.DurableRun run = durable.run();
        if (run.resumed() && !quiet) {
            var state = run.atOpen();
            System.err.printf("nps: resuming from %s: %d searches finished, %d generations kept%n",
                    dir.resolve(dev.nps.result.OutputDirectory.JOURNAL), state.finished().size(), state.generationsKept());
        }
        return run.runner(runner);
    }

    /** H2 grows its file by a chunk per commit; at the end of the command it is shrunk to its data (~0.1 s). */
    private void compactJournal() {
        try {
            dev.nps.run.JournalStore.h2(journal).compact();
        } catch (RuntimeException e) {
            System.err.println("nps: " + e.getMessage() + " (the journal is intact, only larger)");
        }
    }

    private void deleteJournal() {
        try (var files = java.nio.file.Files.walk(journal)) {
            for (java.nio.file.Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(p);
            }
        } catch (java.io.IOException e) {
            System.err.println("nps: could not remove the empty journal " + journal + ": " + e.getMessage());
        }
    }

    /** The command succeeded: its journal says so. */
    void succeeded() {
        if (durable != null) {
            durable.end(dev.nps.protocol.RunStatus.RUN_SUCCEEDED, "");
            succeeded = true;
        }
    }

    @Override
    public void close() {
        try {
            if (durable != null) {
                // A failed run that kept nothing (refused before its first generation) leaves no journal behind.
                boolean drop = !succeeded && !durable.run().keptAnything();
                if (!drop) {
                    durable.end(dev.nps.protocol.RunStatus.RUN_FAILED, "the command stopped before its end");
                }
                durable.close();
                if (drop) {
                    deleteJournal();
                } else {
                    compactJournal();
                }
            }
        } finally {
            if (runner instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    // every result is known; a slow shutdown changes none
                }
            }
            if (node != null) {
                node.close();
            }
        }
    }
}
