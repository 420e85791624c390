package dev.nps.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A cluster node in its own JVM ({@link ServeMain}), started from this JVM's java binary and
 * classpath with a short command line (the classpath goes through an @argfile). Output goes to a
 * log file beside its config. {@link #kill} is SIGKILL.
 */
final class ChildNode implements AutoCloseable {
    final int port;
    final Path log;
    private final Process process;

    private ChildNode(int port, Path log, Process process) {
        this.port = port;
        this.log = log;
        this.process = process;
    }

    /** An evaluator node with {@code cpuSlots} slots on 127.0.0.1:port joining {@code seed}, configured in {@code dir}. */
    static ChildNode start(Path dir, String name, int port, String seed, int cpuSlots, String extraNodeConfig) {
        return start(dir, name, port, seed, cpuSlots, extraNodeConfig, TestCluster.ROOT, "-Xmx384m");
    }

    static ChildNode start(Path dir, String name, int port, String seed, int cpuSlots, String extraNodeConfig, Path storageRoot,
                           String heap) {
        try {
            Path conf = dir.resolve(name + ".conf");
            Files.writeString(conf, """
                    nps.node {
                      host = "127.0.0.1"
                      port = %d
                      seeds = ["%s"]
                      roles = [evaluator]
                      storage-root = "%s"
                      cpu-slots = %d
                      stable-after = 2s
                      %s
                    }
                    pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2s
                    pekko.cluster.jmx.enabled = off
                    """.formatted(port, seed, storageRoot, cpuSlots, extraNodeConfig));
            Path args = dir.resolve(name + ".args");
            Files.writeString(args, "-cp\n\"" + System.getProperty("java.class.path").replace("\\", "\\\\") + "\"\n");
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElseThrow());
            cmd.add(heap);
            cmd.add("-XX:+UseSerialGC");
            cmd.add("-XX:TieredStopAtLevel=1");
            cmd.add("--enable-native-access=ALL-UNNAMED");
            cmd.add("--sun-misc-unsafe-memory-access=allow");
            cmd.add("-Dnps.exit-with-pid=" + ProcessHandle.current().pid()); // no orphan if this JVM dies
            String ort = System.getProperty("onnxruntime.native.path");
            if (ort != null) {
                cmd.add("-Donnxruntime.native.path=" + ort);
            }
            cmd.add("@" + args);
            cmd.add(ServeMain.class.getName());
            cmd.add("--config");
            cmd.add(conf.toString());
            Path log = dir.resolve(name + ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            return new ChildNode(port, log, p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGKILL: no leave, no handoff; the cluster must notice by itself. */
    void kill() {
        process.destroyForcibly();
    }

    boolean logContains(String text) {
        try {
            return Files.readString(log).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
