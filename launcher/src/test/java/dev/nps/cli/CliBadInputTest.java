package dev.nps.cli;

import static dev.nps.cli.CliFixture.copyDigits;
import static dev.nps.cli.CliFixture.editCheckpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.storage.DType;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad input ends with exit code 2, exactly one line on stderr that names the
 * problem, and no file in the output directory.
 */
class CliBadInputTest {

    @TempDir
    Path tmp;
    Path spec;
    Path out;

    @BeforeEach
    void setUp() throws IOException {
        spec = copyDigits(Files.createDirectories(tmp.resolve("digits")));
        out = tmp.resolve("out");
    }

    private void assertBadInput(String expectedFragment, String... args) {
        boolean outExisted = Files.exists(out);
        assertRefused(expectedFragment, args);
        assertTrue(CliFixture.holdsNoFile(out), "no output file may be left behind");
        assertTrue(outExisted || !Files.exists(out), "a failed run leaves no output folder it created");
    }

    /** Exit 2 and one line naming the problem (for an --out that already holds files: the inputs). */
    private void assertRefused(String expectedFragment, String... args) {
        CliFixture.Run r = CliFixture.run(args);
        String err = r.err().strip();
        assertEquals(2, r.exitCode(), "exit code; stderr: " + err);
        assertTrue(!err.isEmpty() && !err.contains("\n"), "one line expected, got: " + err);
        assertTrue(err.startsWith("nps: "), err);
        assertTrue(err.toLowerCase().contains(expectedFragment.toLowerCase()),
                "expected '" + expectedFragment + "' in: " + err);
    }

    private String[] merge(String... extra) {
        List<String> a = new ArrayList<>(List.of("merge", "-q", "--spec", spec.toString(), "--out", out.toString()));
        a.addAll(List.of(extra));
        if (!a.contains("--method")) {
            a.addAll(List.of("--method", "ta", "--lambda", "0.3"));
        }
        return a.toArray(String[]::new);
    }

    private Path digits(String relative) {
        return spec.getParent().resolve(relative);
    }

    private static void writeRaw(Path file, String headerJson, int dataBytes) throws IOException {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Files.write(file, b.array());
    }

    /** issue 10 "No upper bounds": --evaluators, --threads, --subspaces are bounded by the machine and the model. */
    @Test
    void countsBeyondWhatTheMachineOrModelCanUse() {
        int cores = Runtime.getRuntime().availableProcessors();
        String e = String.valueOf(cores + 1);
        assertBadInput("--evaluators " + e + " exceeds this machine's " + cores + " cores",
                merge("--method", "nps", "--keep", "0.05", "--evaluators", e));
        assertBadInput("--evaluators 10000 exceeds", merge("--method", "nps", "--keep", "0.05", "--evaluators", "10000"));
        assertBadInput("--threads " + e + " exceeds this machine's " + cores + " cores",
                merge("--method", "nps", "--keep", "0.05", "--threads", e));
        assertBadInput("--threads " + e + " exceeds", "eval", "-q", "--spec", spec.toString(), "--out", out.toString(), "--threads", e);
        assertBadInput("x --threads 2 = " + 2 * cores + " threads exceeds",
                merge("--method", "nps", "--keep", "0.05", "--evaluators", String.valueOf(cores), "--threads", "2"));
        assertBadInput("--evaluators must be >= 1", merge("--method", "nps", "--keep", "0.05", "--evaluators", "-1"));
        assertBadInput("--subspaces 5000 exceeds 1024", merge("--method", "nps", "--keep", "0.05", "--subspaces", "5000"));
        // digits: ~17k entries per task vector; keep 0.001 leaves 18, the band twice that.
        assertBadInput("entries the searched region of task 0's vector holds",
                "prune", "-q", "--spec", spec.toString(), "--out", out.toString(), "--task", "identity", "--keep", "0.001",
                "--subspaces", "100", "--generations", "1");
    }

    @Test
    void truncatedCheckpoint() throws IOException {
        Path base = digits("base.safetensors");
        byte[] bytes = Files.readAllBytes(base);
        Files.write(base, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertBadInput("base.safetensors", merge());
    }

    @Test
    void headerOffsetsOutOfBounds() throws IOException {
        Path f = tmp.resolve("oob.safetensors");
        writeRaw(f, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", 8);
        assertBadInput("oob.safetensors", "inspect", f.toString());
    }

    @Test
    void overlappingTensors() throws IOException {
        Path f = tmp.resolve("overlap.safetensors");
        writeRaw(f, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertBadInput("overlap", "inspect", f.toString());
    }

    @Test
    void dtypeTimesShapeNotByteLength() throws IOException {
        Path f = tmp.resolve("short.safetensors");
        writeRaw(f, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertBadInput("short.safetensors", "inspect", f.toString());
    }

    @Test
    void shapeMismatchBetweenBaseAndFinetuned() {
        editCheckpoint(digits("tasks/rot90.safetensors"),
                t -> t.put("fc1.bias", new FloatTensor(new long[] {64}, new float[64])));
        assertBadInput("shape mismatch", merge());
    }

    @Test
    void dtypeMismatchBetweenBaseAndFinetuned() {
        Path ft = digits("tasks/rot90.safetensors");
        var tensors = new java.util.TreeMap<String, FloatTensor>();
        try (var c = dev.nps.storage.Checkpoint.open(ft)) {
            tensors.putAll(c.readAllFloats().asMap());
        }
        var w = new SafetensorsWriter();
        tensors.forEach((name, t) -> {
            if (name.equals("fc1.bias")) {
                w.addLongs(name, t.shape(), new long[t.size()]);
            } else {
                w.add(name, t, DType.F32);
            }
        });
        w.write(ft);
        assertBadInput("fc1.bias", merge());
    }

    @Test
    void missingTensorUnderStrictPolicy() {
        editCheckpoint(digits("tasks/flip_lr.safetensors"), t -> t.remove("fc2.bias"));
        assertBadInput("fc2.bias", merge("--unshared", "error"));
    }

    @Test
    void nanWeights() {
        editCheckpoint(digits("tasks/invert.safetensors"), t -> t.get("fc3.weight").data()[7] = Float.NaN);
        assertBadInput("fc3.weight", merge());
    }

    @Test
    void infiniteWeights() {
        editCheckpoint(digits("base.safetensors"), t -> t.get("fc2.weight").data()[0] = Float.POSITIVE_INFINITY);
        assertBadInput("fc2.weight", merge());
    }

    @Test
    void onnxInitializerNotFound() {
        editCheckpoint(digits("tasks/identity.safetensors"),
                t -> t.put("head.extra", new FloatTensor(new long[] {3}, new float[] {1, 2, 3})));
        assertBadInput("head.extra", merge());
    }

    @Test
    void labelsOutOfRange() {
        Path calib = digits("data/rot180-calib.safetensors");
        float[] x = new float[4 * 64];
        new SafetensorsWriter().addFloats("x", new long[] {4, 64}, x, DType.F32)
                .addLongs("labels", new long[] {4}, new long[] {1, 2, 12, 3}).write(calib);
        assertBadInput("out of range", merge());
    }

    @Test
    void emptyCalibrationSet() {
        new SafetensorsWriter().addFloats("x", new long[] {0, 64}, new float[0], DType.F32)
                .addLongs("labels", new long[] {0}, new long[0]).write(digits("data/rot270-calib.safetensors"));
        assertBadInput("empty", merge());
    }

    @Test
    void calibrationMissingAGraphInput() {
        new SafetensorsWriter().addFloats("pixels", new long[] {2, 64}, new float[128], DType.F32)
                .addLongs("labels", new long[] {2}, new long[] {0, 1}).write(digits("data/identity-calib.safetensors"));
        assertBadInput("x", merge());
    }

    @Test
    void keepOutsideUnitInterval() {
        assertBadInput("keep", merge("--method", "ties", "--keep", "1.5"));
        assertBadInput("keep", merge("--method", "ties", "--keep", "0"));
    }

    @Test
    void lambdaNotFinite() {
        assertBadInput("lambda", merge("--method", "ta", "--lambda", "NaN"));
        assertBadInput("lambda", merge("--method", "ta", "--lambda", "Infinity"));
    }

    @Test
    void unwritableOutputDirectory() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        out = file.resolve("sub");
        assertBadInput("a-file", merge());
    }

    @Test
    void directoryGivenAsFile() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("a-dir.onnx"));
        assertBadInput("directory", "inspect", dir.toString());
        assertBadInput("directory", "merge", "-q", "--spec", tmp.toString(), "--method", "ta", "--out", out.toString());
    }

    @Test
    void unknownMethod() {
        assertBadInput("unknown method", merge("--method", "magic"));
    }

    @Test
    void specWithMissingKey() throws IOException {
        String text = Files.readString(spec).replaceAll("(?m)^graph\\s*=.*$", "");
        Files.writeString(spec, text);
        assertBadInput("missing key 'graph'", merge());
    }

    @Test
    void notAnOnnxFile() throws IOException {
        Path f = Files.writeString(tmp.resolve("junk.onnx"), "this is not protobuf \u00ff\u00fe");
        assertBadInput("junk.onnx", "inspect", f.toString());
    }

    @Test
    void unknownTaskOutput() throws IOException {
        Files.writeString(spec, Files.readString(spec).replaceFirst("output\\s*=\\s*logits", "output = probs"));
        assertBadInput("probs", merge());
    }

    @Test
    void mergeOptionsThatDoNotApply() {
        assertBadInput("--sign-election", merge("--method", "ta", "--sign-election"));
        assertBadInput("--per-task-lambda", merge("--method", "dare", "--per-task-lambda"));
        assertBadInput("--per-task-lambda", merge("--method", "nps", "--keep", "0.1", "--per-task-lambda"));
        assertBadInput("keep", merge("--method", "nps", "--keep", "2"));
    }

    @Test
    void transferOfAnUnknownTask() {
        assertBadInput("nosuchtask", "transfer", "-q", "--spec", spec.toString(), "--task", "nosuchtask", "--out", out.toString());
    }

    @Test
    void clusterOptionsAreCheckedBeforeAnyWork() {
        assertBadInput("does not exist", "serve", "--config", tmp.resolve("missing.conf").toString());
        assertBadInput("--node-config applies only with --cluster", "prune", "-q", "--spec", spec.toString(), "--task",
                "identity", "--node-config", tmp.resolve("node.conf").toString(), "--out", out.toString());
        assertBadInput("expected HOST:PORT, got 'nohost'", "prune", "-q", "--spec", spec.toString(), "--task", "identity",
                "--cluster", "nohost", "--out", out.toString());
    }

    // --- silent wrong results ---

    private void writeIntegerTensor(Path checkpoint, String tensor) {
        var tensors = new java.util.TreeMap<String, FloatTensor>();
        try (var c = dev.nps.storage.Checkpoint.open(checkpoint)) {
            tensors.putAll(c.readAllFloats().asMap());
        }
        var w = new SafetensorsWriter();
        tensors.forEach((name, t) -> {
            if (name.equals(tensor)) {
                w.addLongs(name, t.shape(), new long[t.size()]);
            } else {
                w.add(name, t, DType.F32);
            }
        });
        w.write(checkpoint);
    }

    @Test
    void integerTensorWhereTheBaseIsFloatIsRefusedByEvalAndMergeAlike() {
        writeIntegerTensor(digits("tasks/rot90.safetensors"), "fc2.weight");
        String expected = "dtype mismatch for 'fc2.weight': base F32 vs fine-tuned I64";
        assertBadInput(expected, "eval", "-q", "--spec", spec.toString(), "--out", out.toString());
        assertBadInput(expected, merge());
        // An integer in the base where the fine-tuned model has a float is the same fault.
        writeIntegerTensor(digits("base.safetensors"), "fc1.bias");
        assertBadInput("dtype mismatch for 'fc1.bias': base I64 vs fine-tuned F32", "eval", "-q", "--spec", spec.toString(),
                "--out", out.toString());
    }

    @Test
    void anOutputMayNeverReplaceAnInput() throws IOException {
        byte[] graph = Files.readAllBytes(digits("model.onnx"));
        out = spec.getParent();
        assertRefused("must never replace an input", merge());
        assertRefused("must never replace an input", "eval", "-q", "--spec", spec.toString(), "--out", out.toString());
        out = digits("tasks");
        assertRefused("holds the input", merge());
        out = digits("data");
        assertRefused("holds the input", "prune", "-q", "--spec", spec.toString(), "--task", "identity", "--out", out.toString());
        assertTrue(java.util.Arrays.equals(graph, Files.readAllBytes(digits("model.onnx"))));
    }

    @Test
    void unknownSpecKeysAreRefusedWithADidYouMean() throws IOException {
        String original = Files.readString(spec);
        Files.writeString(spec, original + "\nbatch_size = 0\n");
        assertBadInput("unknown key 'batch_size' in the spec (did you mean 'batch-size'?", merge());
        Files.writeString(spec, original.replaceFirst("output = logits", "outptu = logits, output = logits"));
        assertBadInput("unknown key 'outptu' in tasks[0] (did you mean 'output'?", merge());
    }

    @Test
    void nonFiniteCalibrationOrTestInputsAreRefusedNamingFileAndTensor() {
        float[] x = new float[4 * 64];
        java.util.Arrays.fill(x, Float.NaN);
        new SafetensorsWriter().addFloats("x", new long[] {4, 64}, x, DType.F32)
                .addLongs("labels", new long[] {4}, new long[] {1, 2, 3, 4}).write(digits("data/rot180-calib.safetensors"));
        assertBadInput("input 'x' in " + digits("data/rot180-calib.safetensors") + " has non-finite value NaN at sample 0", merge());
        copyBack("data/rot180-calib.safetensors");
        x = new float[4 * 64];
        x[2 * 64 + 5] = Float.NEGATIVE_INFINITY;
        new SafetensorsWriter().addFloats("x", new long[] {4, 64}, x, DType.F16)
                .addLongs("labels", new long[] {4}, new long[] {1, 2, 3, 4}).write(digits("data/invert-test.safetensors"));
        assertBadInput("has non-finite value -Infinity at sample 2", "eval", "-q", "--spec", spec.toString(), "--out", out.toString());
    }

    private void copyBack(String relative) {
        try {
            Files.copy(CliFixture.DIGITS.resolve(relative), digits(relative), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // --- hangs ---

    @Test
    void inputsThatAreNotRegularFilesAreRefusedWithoutBlocking() throws Exception {
        Path fifo = digits("data/pipe.safetensors");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0, "mkfifo not available");
        String text = Files.readString(spec);
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> {
            Files.writeString(spec, text.replace("data/identity-calib.safetensors", "data/pipe.safetensors"));
            assertBadInput("FIFO", merge());
            Files.writeString(spec, text.replace("graph = model.onnx", "graph = /dev/zero"));
            assertBadInput("character device", merge());
            Files.writeString(spec, text.replace("data/identity-test.safetensors", "data"));
            assertBadInput("is a directory, expected a file", merge());
            assertBadInput("FIFO", "inspect", fifo.toString());
        });
    }

    @Test
    void serveWithNoSeedIsRefusedAtConfigLoad() throws IOException {
        Path conf = Files.writeString(tmp.resolve("node.conf"), "nps.node { port = " + freePort() + ", seeds = [] }");
        assertBadInput("nps.node.seeds is empty", "serve", "--config", conf.toString());
        Files.writeString(conf, "nps.node { seed = [\"127.0.0.1:2552\"] }");
        assertBadInput("unknown key 'seed' in nps.node (did you mean 'seeds'?", "serve", "--config", conf.toString());
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    // --- wrong exit codes ---

    @Test
    void servingOnAPortInUseIsOneLineExitTwo() throws IOException {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Path conf = Files.writeString(tmp.resolve("node.conf"),
                    "nps.node { port = " + port + ", seeds = [\"127.0.0.1:" + port + "\"], roles = [coordinator] }");
            assertBadInput("cannot listen on 127.0.0.1:" + port, "serve", "--config", conf.toString());
        }
    }

    @Test
    void aClusterThatDoesNotAnswerIsOneLineWithinTheDocumentedTime() throws IOException {
        long t0 = System.nanoTime();
        // Pekko logs to the process's stderr (slf4j-simple): nothing of it may come before our line.
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream pekko = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(pekko, true, StandardCharsets.UTF_8));
        try {
            assertBadInput("could not join the cluster at 127.0.0.1:", "prune", "-q", "--spec", spec.toString(), "--task", "identity",
                    "--cluster", "127.0.0.1:" + freePort(), "--out", out.toString());
        } finally {
            System.setErr(stderr);
        }
        assertTrue(!pekko.toString(StandardCharsets.UTF_8).contains("WARN"), "Pekko warnings: " + pekko.toString(StandardCharsets.UTF_8));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < SearchBackend.JOIN_TIMEOUT.toSeconds() + 15, "took " + seconds + " s");
        assertBadInput("cannot resolve the host of --cluster", "prune", "-q", "--spec", spec.toString(), "--task", "identity",
                "--cluster", "no-such-host.invalid:2552", "--out", out.toString());
    }

    @Test
    void aDecompressManifestMissingAKeyOrLeavingItsFolderIsOneLine() throws IOException {
        Path packed = Files.createDirectories(tmp.resolve("packed"));
        Files.writeString(packed.resolve("base.safetensors"), "x");
        Files.writeString(tmp.resolve("secret"), "x");
        Path manifest = packed.resolve("compressed.json");
        Files.writeString(manifest, "{\"spec\": \"" + spec + "\", \"base\": \"base.safetensors\"}");
        assertBadInput("missing key 'tasks'", "decompress", "--from", packed.toString(), "--task", "rot90", "--out", out.toString());
        Files.writeString(manifest, "{\"base\": \"base.safetensors\", \"tasks\": {}}");
        assertBadInput("missing key 'spec'", "decompress", "--from", packed.toString(), "--task", "rot90", "--out", out.toString());
        Files.writeString(manifest, "{\"spec\": \"" + spec + "\", \"base\": \"../secret\", \"tasks\": {}}");
        assertBadInput("leaves the directory", "decompress", "--from", packed.toString(), "--task", "rot90", "--out", out.toString());
        Files.writeString(manifest, "{\"spec\": \"" + spec + "\", \"base\": \"base.safetensors\", \"tasks\": {\"rot90\": {\"file\": \"/etc/passwd\"}}}");
        assertBadInput("leaves the directory", "decompress", "--from", packed.toString(), "--task", "rot90", "--out", out.toString());
    }
}
