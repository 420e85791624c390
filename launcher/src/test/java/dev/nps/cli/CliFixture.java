package dev.nps.cli;

import dev.nps.storage.Checkpoint;
import dev.nps.storage.DType;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** A writable copy of examples/digits and a way to run the CLI in-process. */
final class CliFixture {
    static final Path DIGITS = Path.of(System.getProperty("nps.repo.root", "..")).resolve("examples/digits");

    record Run(int exitCode, String err) {
    }

    static Run run(String... args) {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(err, true), args);
        return new Run(code, err.toString());
    }

    /** Runs the CLI in this JVM; its stdout, once it exited 0. */
    static String stdout(String... args) {
        java.io.PrintStream out = System.out;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            Run r = run(args);
            org.junit.jupiter.api.Assertions.assertEquals(0, r.exitCode(), r.err());
        } finally {
            System.setOut(out);
        }
        return captured.toString(java.nio.charset.StandardCharsets.UTF_8).strip();
    }

    /**
     * A serving node in this JVM (coordinator and evaluator, 2 CPU slots, storage root {@code root}),
     * executing submitted runs as {@code nps serve} does and journaling them in {@code journal}; up.
     */
    static dev.nps.cluster.ClusterNode servingNode(Path dir, Path root, dev.nps.run.JournalStore journal) throws IOException {
        int port = ServeChild.freePort();
        dev.nps.cluster.NodeSettings settings = dev.nps.cluster.NodeSettings.fromConfig(com.typesafe.config.ConfigFactory.parseString("""
                nps.node { host = "127.0.0.1", port = %d, seeds = ["127.0.0.1:%d"], roles = [coordinator, evaluator],
                           storage-root = "%s", gpus = [], cpu-slots = 2, stable-after = 2s }
                """.formatted(port, port, root)), dir);
        dev.nps.cluster.ClusterNode node = dev.nps.cluster.ClusterNode.start(settings,
                com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.cluster.jmx.enabled = off"),
                java.util.Optional.of(journal), ServedCommands::execute);
        org.junit.jupiter.api.Assertions.assertTrue(node.awaitUp(java.time.Duration.ofSeconds(60)), "node not up");
        return node;
    }

    /** Copies the digits fixture into {@code dir} and returns the copy's spec. */
    static Path copyDigits(Path dir) {
        try (Stream<Path> files = Files.walk(DIGITS)) {
            for (Path p : files.toList()) {
                Path target = dir.resolve(DIGITS.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir.resolve("spec.conf");
    }

    /** Rewrites a checkpoint of the copy after {@code edit} changed its tensors. */
    static void editCheckpoint(Path file, Consumer<TreeMap<String, FloatTensor>> edit) {
        TreeMap<String, FloatTensor> tensors;
        try (Checkpoint c = Checkpoint.open(file)) {
            tensors = new TreeMap<>(c.readAllFloats().asMap());
        }
        edit.accept(tensors);
        new SafetensorsWriter().addAll(new ParameterSet(tensors), DType.F32).write(file);
    }

    static boolean holdsNoFile(Path dir) {
        if (!Files.exists(dir)) {
            return true;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.noneMatch(Files::isRegularFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private CliFixture() {
    }

    /** Every trajectorySha256 in DIR/result.json, in document order (at least one). */
    static java.util.List<String> trajectoryDigests(Path dir) {
        java.util.List<String> out = new java.util.ArrayList<>();
        try {
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("result.json").toFile())
                    .findValues("trajectorySha256").forEach(n -> out.add(n.asText()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (out.isEmpty()) {
            throw new AssertionError("no trajectorySha256 in " + dir.resolve("result.json"));
        }
        return out;
    }
}
