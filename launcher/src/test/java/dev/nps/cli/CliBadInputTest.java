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
        CliFixture.Run r = CliFixture.run(args);
        String err = r.err().strip();
        assertEquals(2, r.exitCode(), "exit code; stderr: " + err);
        assertTrue(!err.isEmpty() && !err.contains("\n"), "one line expected, got: " + err);
        assertTrue(err.startsWith("nps: "), err);
        assertTrue(err.toLowerCase().contains(expectedFragment.toLowerCase()),
                "expected '" + expectedFragment + "' in: " + err);
        assertTrue(CliFixture.holdsNoFile(out), "no output file may be left behind");
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
}
