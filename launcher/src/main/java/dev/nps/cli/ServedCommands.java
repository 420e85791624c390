package dev.nps.cli;

import dev.nps.cluster.ClusterNode;
import dev.nps.coordinator.SearchCancelledException;
import dev.nps.protocol.RunRequest;
import dev.nps.run.DurableRun;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How {@code nps serve} executes a submitted run: the same command line as the CLI, its
 * {@code --spec} and {@code --out} relative to the node's storage root (nothing outside it), its
 * searches on the cluster's evaluators and journaled in the node's journal.
 */
final class ServedCommands {
    /** Commands a run may be: those that search. */
    static final Set<String> COMMANDS = Set.of("merge", "prune", "transfer", "compress");
    private static final ThreadLocal<Served> SERVED = new ThreadLocal<>();

    /** What a served command's {@link SearchBackend} uses instead of its own. */
    record Served(ClusterNode node, DurableRun durable, double weight, int maxSlots) {
    }

    private ServedCommands() {
    }

    static Served current() {
        return SERVED.get();
    }

    static void execute(RunRequest request, ClusterNode node, DurableRun durable) {
        List<String> args = confined(request.getArgsList(), node.settings().storageRoot());
        StringWriter err = new StringWriter();
        int code;
        SERVED.set(new Served(node, durable, request.getWeight() > 0 ? request.getWeight() : 1, request.getMaxSlots()));
        try {
            code = Main.run(new PrintWriter(err, true), args.toArray(String[]::new));
        } finally {
            SERVED.remove();
        }
        if (code != 0) {
            String last = err.toString().strip().lines().reduce((a, b) -> b).orElse("exit code " + code);
            if (durable.isCancelled()) {
                throw new SearchCancelledException(last.replaceFirst("^nps: ", ""));
            }
            throw new IllegalStateException(last.replaceFirst("^nps: ", ""));
        }
    }

    /**
     * The command line with {@code --spec} and {@code --out} resolved under {@code root}; refused
     * (one line) if a path is absolute or leaves the root, or if the command cannot be served.
     */
    static List<String> confined(List<String> args, Path root) {
        if (args.isEmpty() || !COMMANDS.contains(args.getFirst())) {
            throw new IllegalArgumentException("a run is one of " + new java.util.TreeSet<>(COMMANDS) + " with its options, got "
                    + (args.isEmpty() ? "nothing" : "'" + args.getFirst() + "'"));
        }
        List<String> out = new ArrayList<>();
        boolean sawOut = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String flag = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (flag.equals("--cluster") || flag.equals("--node-config")) {
                throw new IllegalArgumentException(flag + " does not apply to a served run: it runs on the cluster that serves it");
            }
            if (flag.equals("--spec") || flag.equals("--out")) {
                String value = a.contains("=") ? a.substring(a.indexOf('=') + 1) : (i + 1 < args.size() ? args.get(++i) : "");
                out.add(flag);
                out.add(under(root, flag, value).toString());
                sawOut |= flag.equals("--out");
                continue;
            }
            out.add(a);
        }
        if (!sawOut) {
            throw new IllegalArgumentException("a served run needs --out DIR (relative to the storage root)");
        }
        out.add("--quiet");
        return out;
    }

    /**
     * What the CLI would refuse in this command line before running it (unknown option, bad value,
     * keep outside (0, 1]): the service's 400 answer; empty when it parses.
     */
    static java.util.Optional<String> problem(List<String> args) {
        try {
            new picocli.CommandLine(new Main()).setExpandAtFiles(false).parseArgs(args.toArray(String[]::new));
        } catch (picocli.CommandLine.ParameterException e) {
            return java.util.Optional.of(e.getMessage().lines().findFirst().orElse("bad command line"));
        }
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String value = a.startsWith("--keep=") ? a.substring(7) : a.equals("--keep") && i + 1 < args.size() ? args.get(i + 1) : null;
            if (value != null && !value.equalsIgnoreCase("auto")) {
                double k;
                try {
                    k = Double.parseDouble(value);
                } catch (NumberFormatException e) {
                    return java.util.Optional.of("--keep must be a number in (0, 1] or auto, got '" + value + "'");
                }
                if (!(k > 0 && k <= 1)) {
                    return java.util.Optional.of("--keep must be in (0, 1], got " + value);
                }
            }
        }
        return java.util.Optional.empty();
    }

    private static Path under(Path root, String flag, String value) {
        Path p = Path.of(value);
        Path r = root.toAbsolutePath().normalize();
        Path resolved = r.resolve(p).normalize();
        if (value.isEmpty() || p.isAbsolute() || !resolved.startsWith(r)) {
            throw new IllegalArgumentException(flag + " " + value + " of a served run must be a path under the storage root "
                    + r + ", given relative to it");
        }
        return resolved;
    }
}
