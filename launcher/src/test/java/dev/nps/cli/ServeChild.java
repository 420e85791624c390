package dev.nps.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code nps serve} in a child JVM (coordinator and evaluator roles, 2 CPU slots), its output in a log file. */
final class ServeChild implements AutoCloseable {
    private final Path log;
    private final Process process;

    private ServeChild(Path log, Process process) {
        this.log = log;
        this.process = process;
    }

    static ServeChild start(Path dir, String name, int port, Path storageRoot, String extraNodeConfig) {
        return start(dir, name, port, port, storageRoot, extraNodeConfig);
    }

    /** A node joining the seed on {@code seedPort} (itself when equal to {@code port}). */
    static ServeChild start(Path dir, String name, int port, int seedPort, Path storageRoot, String extraNodeConfig) {
        try {
            Path conf = dir.resolve(name + ".conf");
            Files.writeString(conf, """
                    nps.node {
                      host = "127.0.0.1"
                      port = %d
                      seeds = ["127.0.0.1:%d"]
                      roles = [coordinator, evaluator]
                      storage-root = "%s"
                      cpu-slots = 2
                      stable-after = 2s
                      %s
                    }
                    pekko.cluster.jmx.enabled = off
                    # On a loaded 2-core test machine late heartbeats can look like an unstable cluster; downing
                    # every node then would end the test, not test failover.
                    pekko.cluster.split-brain-resolver.down-all-when-unstable = off
                    """.formatted(port, seedPort, storageRoot, extraNodeConfig));
            Path args = dir.resolve(name + ".args");
            Files.writeString(args, "-cp\n\"" + System.getProperty("java.class.path").replace("\\", "\\\\") + "\"\n");
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-Xmx768m",
                    "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                    "-Dnps.exit-with-pid=" + ProcessHandle.current().pid()));
            String ort = System.getProperty("onnxruntime.native.path");
            if (ort != null) {
                cmd.add("-Donnxruntime.native.path=" + ort);
            }
            cmd.addAll(List.of("@" + args, Main.class.getName(), "serve", "--config", conf.toString()));
            Path log = dir.resolve(name + ".log");
            return new ServeChild(log, new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    void awaitUp() throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (logContains(" up, roles")) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("serve exited: " + logTail());
            }
            Thread.sleep(200);
        }
        throw new AssertionError("serve not up in 60 s: " + logTail());
    }

    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM: the node leaves the cluster gracefully (its shards are handed off) and exits. */
    void terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    boolean logContains(String text) {
        try {
            return Files.readString(log).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    /** The first log line that contains {@code text}, or an empty string. */
    String logLine(String text) {
        try {
            return Files.readAllLines(log).stream().filter(l -> l.contains(text)).findFirst().orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }
}
