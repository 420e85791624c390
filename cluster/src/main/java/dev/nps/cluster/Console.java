package dev.nps.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A serving node's console lines ("nps serve: node ... up", "run ...: resuming"): printed for its
 * operator, or, when the process logs JSON lines ({@code nps.log.format=json}, a node config's
 * {@code nps.node.log}), logged through SLF4J with the thread's MDC so that every line is JSON.
 */
public final class Console {
    private static final Logger LOG = LoggerFactory.getLogger("nps.serve");

    private Console() {
    }

    /** A line for the operator, on stdout (INFO in JSON mode). */
    public static void say(String format, Object... args) {
        String line = "nps serve: " + format.formatted(args);
        if (json()) {
            LOG.info(line);
        } else {
            System.out.println(line);
            System.out.flush();
        }
    }

    /** A warning for the operator, on stderr (WARN in JSON mode). */
    public static void warn(String format, Object... args) {
        String line = "nps serve: " + format.formatted(args);
        if (json()) {
            LOG.warn(line);
        } else {
            System.err.println(line);
        }
    }

    /** The line a node ends with ("nps: ..." on stderr; ERROR in JSON mode). */
    public static void fatal(String message) {
        if (json()) {
            LOG.error(message);
        } else {
            System.err.println("nps: " + message);
        }
    }

    private static boolean json() {
        return "json".equals(System.getProperty("nps.log.format"));
    }
}
