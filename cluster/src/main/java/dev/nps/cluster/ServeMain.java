package dev.nps.cluster;

import java.nio.file.Path;
import java.util.concurrent.ExecutionException;

/**
 * {@code nps serve --config FILE}: starts one cluster node and runs until the JVM is stopped.
 * SIGTERM (Ctrl-C) leaves the cluster gracefully, handing its evaluators to other nodes; SIGKILL
 * is a crash the others recover from. Also the main class child-JVM tests start.
 */
public final class ServeMain {
    private ServeMain() {
    }

    public static void main(String[] args) {
        if (args.length != 2 || !args[0].equals("--config")) {
            System.err.println("nps: usage: serve --config FILE");
            System.exit(2);
        }
        NodeSettings settings;
        try {
            settings = NodeSettings.load(Path.of(args[1])).requireSeeds();
        } catch (IllegalArgumentException | dev.nps.storage.StorageException e) {
            System.err.println("nps: " + e.getMessage().replaceAll("\\s*\\R\\s*", " "));
            System.exit(2);
            return;
        }
        try {
            System.exit(serve(settings));
        } catch (IllegalArgumentException e) {
            System.err.println("nps: " + e.getMessage().replaceAll("\\s*\\R\\s*", " "));
            System.exit(2);
        }
    }

    /** Starts the node, prints one line once it is up, and blocks until its actor system ends. */
    public static int serve(NodeSettings settings) {
        return serve(settings, java.util.Optional.empty(), null);
    }

    /** As above; with a journal the node also executes submitted runs ({@link ServedRuns}) through {@code executor}. */
    public static int serve(NodeSettings settings, java.util.Optional<dev.nps.run.JournalStore> journal,
                            ServedRuns.Executor executor) {
        return serve(settings, journal, executor, node -> { });
    }

    /**
     * As above; {@code onUp} runs once the node is up (the HTTP service starts there). Whatever it
     * throws ends the node with one line: bad input exit 2.
     */
    public static int serve(NodeSettings settings, java.util.Optional<dev.nps.run.JournalStore> journal,
                            ServedRuns.Executor executor, java.util.function.Consumer<ClusterNode> onUp) {
        settings.requireSeeds();
        ClusterNode node = ClusterNode.start(settings, com.typesafe.config.ConfigFactory.empty(), journal, executor);
        // Tests start nodes as child JVMs: with nps.exit-with-pid set, a node never outlives the JVM that started it.
        Long parent = Long.getLong("nps.exit-with-pid");
        if (parent != null) {
            ProcessHandle.of(parent).ifPresentOrElse(p -> p.onExit().thenRun(() -> Runtime.getRuntime().halt(3)),
                    () -> Runtime.getRuntime().halt(3));
        }
        String joining = settings.discovery().map(d -> "through " + describe(d)).orElse(settings.seeds().toString());
        Console.say("node %s joining %s", node.address(), joining);
        // No silent wait: while no seed answers, say so every 10 s (a node joins through any live seed, whenever it starts).
        while (!node.awaitUp(java.time.Duration.ofSeconds(10))) {
            if (node.system().getWhenTerminated().toCompletableFuture().isDone()) {
                Console.fatal("node " + node.address() + " stopped before it joined");
                return 1;
            }
            Console.warn("node %s still joining %s: %s", node.address(), joining,
                    settings.discovery().isPresent() ? "not enough contact points agree yet" : "no seed has answered yet");
        }
        Console.say("node %s up, roles %s, slots %s, storage root %s%s", node.address(),
                settings.roles(), node.slots(), settings.storageRoot(),
                journal.map(j -> ", runs journaled in the " + j.describe()).orElse(""));
        node.managementPort().ifPresent(p -> Console.say("node %s metrics at http://%s:%d/metrics", node.address(), settings.host(), p));
        try {
            onUp.accept(node);
        } catch (RuntimeException e) {
            Console.fatal(String.valueOf(e.getMessage()).replaceAll("\\s*\\R\\s*", " "));
            node.close();
            return 2;
        }
        try {
            node.system().getWhenTerminated().toCompletableFuture().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            return 1;
        }
        return exitCode(node);
    }

    static String describe(Discovery d) {
        String how = switch (d) {
            case Discovery.Kubernetes k -> "Kubernetes pods " + k.podLabelSelector();
            case Discovery.Static st -> "contact points " + st.contactPoints();
        };
        return how + " (" + d.requiredContactPoints() + " needed), health checks on port " + d.managementPort();
    }

    /**
     * 0 when the node stopped because it was asked to (SIGTERM / Ctrl-C, or it left the cluster);
     * otherwise one line saying why (downed by the cluster, a fatal error on one of its threads)
     * and 1, so a supervisor sees a crash as a crash.
     */
    static int exitCode(ClusterNode node) {
        var reason = org.apache.pekko.actor.CoordinatedShutdown.get(node.system()).getShutdownReason();
        if (reason.isPresent() && (reason.get() == org.apache.pekko.actor.CoordinatedShutdown.jvmExitReason()
                || reason.get() == org.apache.pekko.actor.CoordinatedShutdown.clusterLeavingReason())) {
            return 0;
        }
        String why = reason.isEmpty() ? "its actor system terminated"
                : reason.get() == org.apache.pekko.actor.CoordinatedShutdown.clusterDowningReason() ? "it was downed by the cluster"
                : "its actor system terminated (" + reason.get().getClass().getSimpleName().replace("$", "") + ")";
        Console.fatal("node " + node.address() + " stopped: " + why + "; see the log above for the cause");
        return 1;
    }
}
