package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nps.storage.Checkpoint;
import dev.nps.storage.onnx.OnnxModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The commands on the bundled digits fixture, end to end through ONNX Runtime. */
class CliEndToEndTest {
    private static final Path SPEC = CliFixture.DIGITS.resolve("spec.conf");
    private static final List<String> TASKS =
            List.of("identity", "rot90", "rot180", "rot270", "flip_lr", "flip_ud", "invert", "transpose");

    @TempDir
    Path tmp;

    private static JsonNode read(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ta", "ties", "dare", "consensus", "average"})
    void mergeWritesEveryTaskAccuracyAndTheModel(String method) throws IOException {
        Path out = tmp.resolve(method);
        CliFixture.Run r = CliFixture.run("merge", "-q", "--spec", SPEC.toString(), "--method", method, "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode result = read(out.resolve("result.json"));
        assertEquals("merge", result.get("command").asText());
        assertTrue(result.get("method").asText().startsWith(method));
        for (String task : TASKS) {
            JsonNode t = result.get("tasks").get(task);
            double acc = t.get("accuracy").asDouble();
            assertTrue(acc > 0.1 && acc <= 1.0, task + " accuracy " + acc);
            assertEquals(t.get("correct").asDouble() / t.get("samples").asDouble(), acc, 1e-12);
            assertTrue(t.get("normalizedAccuracy").asDouble() > 0);
        }
        assertTrue(result.get("meanAccuracy").asDouble() > 0.5, "a merge on digits beats chance by far");
        assertTrue(result.get("wallSeconds").asDouble() > 0);
        if (!method.equals("average")) {
            assertEquals("calibration", result.get("selection").get("split").asText());
            assertTrue(result.get("selection").get("grid").size() >= 15);
        }
        // The written model is loadable and matches the graph's initializers.
        try (Checkpoint c = Checkpoint.open(out.resolve("model.safetensors"))) {
            OnnxModel onnx = OnnxModel.load(out.resolve("model.onnx"));
            for (String name : c.names()) {
                assertTrue(java.util.Arrays.equals(c.readFloats(name), onnx.readFloats(name)), name);
            }
        }
        try (var files = Files.list(out)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void fixedTaskArithmeticMatchesPythonCounts() throws IOException {
        Path out = tmp.resolve("ta-fixed");
        CliFixture.Run r = CliFixture.run("merge", "-q", "--spec", SPEC.toString(), "--method", "ta", "--lambda", "0.3",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode result = read(out.resolve("result.json"));
        JsonNode expected = read(CliFixture.DIGITS.resolve("expected.json")).get("merges").get("ta_lambda0.3");
        for (String task : TASKS) {
            assertEquals(expected.get("tasks").get(task).get("test").get("correct").asLong(),
                    result.get("tasks").get(task).get("correct").asLong(), task);
        }
    }

    @Test
    void givenHyperParametersAreUsedAsIs() throws IOException {
        Path out = tmp.resolve("ties-fixed");
        CliFixture.Run r = CliFixture.run("merge", "-q", "--spec", SPEC.toString(), "--method", "ties", "--keep", "0.2",
                "--lambda", "0.7", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode result = read(out.resolve("result.json"));
        assertEquals(0.2, result.get("keep").asDouble());
        assertEquals(0.7, result.get("lambda").asDouble());
        assertTrue(result.get("selection") == null);
    }

    @Test
    void evalMatchesPythonOnnxRuntimeCounts() throws IOException {
        Path out = tmp.resolve("eval");
        CliFixture.Run r = CliFixture.run("eval", "-q", "--spec", SPEC.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode result = read(out.resolve("result.json"));
        JsonNode expected = read(CliFixture.DIGITS.resolve("expected.json"));
        JsonNode models = expected.get("models");
        for (String task : TASKS) {
            JsonNode t = result.get("tasks").get(task);
            assertEquals(1.0, t.get("normalizedAccuracy").asDouble());
            // Java ONNX Runtime 1.28 and Python's 1.30 agree on every correct count.
            assertEquals(models.get(task).get(task).get("test").get("correct").asLong(), t.get("correct").asLong(), task);
            assertEquals(models.get("base").get(task).get("test").get("correct").asLong() / 300.0,
                    result.get("base").get("tasks").get(task).asDouble(), 1e-12, task);
        }
        assertTrue(result.get("base").get("meanAccuracy").asDouble() < result.get("meanAccuracy").asDouble());
    }

    @Test
    void compressThenDecompressRebuildsTheStoredModel() throws IOException {
        Path packed = tmp.resolve("packed");
        CliFixture.Run r = CliFixture.run("compress", "-q", "--spec", SPEC.toString(), "--keep", "0.05", "--generations", "3",
                "--out", packed.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode result = read(packed.resolve("result.json"));
        JsonNode bytes = result.get("compression").get("rot90");
        assertTrue(bytes.get("bytes").asLong() < bytes.get("paperBytes").asLong(), "Elias-Fano beats the paper's n-bit mask");
        assertTrue(bytes.get("bytes").asLong() < bytes.get("denseBytes").asLong() / 10);
        Path restored = tmp.resolve("restored");
        r = CliFixture.run("decompress", "--from", packed.toString(), "--task", "rot90", "--out", restored.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode back = read(restored.resolve("result.json"));
        assertEquals(result.get("tasks").get("rot90").get("correct").asLong(), back.get("tasks").get("rot90").get("correct").asLong());
        assertTrue(Files.isRegularFile(restored.resolve("model.onnx")));
        // compress searches once per task: one fitness chart, a line per task, and each search's weights.
        String packedReport = Files.readString(packed.resolve("report.html"));
        assertTrue(packedReport.contains("data-plot=\"fitness\" data-series=\"" + TASKS.size() + "\""));
        assertEquals(TASKS.size(), packedReport.split("data-plot=\"parameters\"", -1).length - 1);
        assertTrue(Files.readString(restored.resolve("report.html")).contains("<td class=\"key\">rot90</td>"));
        // Each .npsv is bound to its task and its base: a swapped file or base is refused, not rebuilt wrong.
        Files.copy(packed.resolve("tasks/rot90.npsv"), packed.resolve("tasks/identity.npsv"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path again = tmp.resolve("again");
        r = CliFixture.run("decompress", "--from", packed.toString(), "--task", "identity", "--out", again.toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("holds task 'rot90', not 'identity'"), r.err());
        assertTrue(!Files.exists(again), "a failed run leaves no output folder");
        CliFixture.editCheckpoint(packed.resolve("base.safetensors"), t -> t.get("fc1.bias").data()[0] += 1);
        r = CliFixture.run("decompress", "--from", packed.toString(), "--task", "rot90", "--out", again.toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("was made from a base with SHA-256"), r.err());
        // The output may not be the compressed folder itself (it would replace base.safetensors).
        r = CliFixture.run("decompress", "--from", packed.toString(), "--task", "rot90", "--out", packed.toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("must never replace an input"), r.err());
    }

    /** A killed run's hidden temp files are removed by the next run into that folder; the journal and other files stay. */
    @Test
    void theNextRunRemovesStaleTempFilesButNotTheJournal() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("rerun"));
        Path stale = Files.writeString(out.resolve(".model.onnx.0123456789abcdef.tmp"), "half-written");
        Path journal = Files.writeString(Files.createDirectories(out.resolve(".nps-journal")).resolve(".log.0123456789abcdef.tmp"), "j");
        Path mine = Files.writeString(out.resolve("notes.txt"), "mine");
        CliFixture.Run r = CliFixture.run("merge", "-q", "--spec", SPEC.toString(), "--method", "ta", "--lambda", "0.3", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(!Files.exists(stale));
        assertTrue(Files.exists(journal) && Files.exists(mine));
        try (var files = Files.list(out)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")));
        }
    }

    /** README: a sharded checkpoint directory is a valid base, and gives the same merge as the single file. */
    @Test
    void aShardedCheckpointDirectoryWorksAsTheBase() throws IOException {
        Path copy = CliFixture.copyDigits(Files.createDirectories(tmp.resolve("digits")));
        Path dir = copy.getParent();
        Path sharded = Files.createDirectories(dir.resolve("base-sharded"));
        var first = new java.util.TreeMap<String, dev.nps.storage.FloatTensor>();
        var second = new java.util.TreeMap<String, dev.nps.storage.FloatTensor>();
        StringBuilder map = new StringBuilder();
        try (Checkpoint c = Checkpoint.open(dir.resolve("base.safetensors"))) {
            for (String name : c.names()) {
                boolean one = name.startsWith("fc1");
                (one ? first : second).put(name, new dev.nps.storage.FloatTensor(c.info(name).shape(), c.readFloats(name)));
                map.append(map.isEmpty() ? "" : ",").append('"').append(name).append("\":\"")
                        .append(one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors").append('"');
            }
        }
        new dev.nps.storage.safetensors.SafetensorsWriter().addAll(new dev.nps.storage.ParameterSet(first), dev.nps.storage.DType.F32)
                .write(sharded.resolve("model-00001-of-00002.safetensors"));
        new dev.nps.storage.safetensors.SafetensorsWriter().addAll(new dev.nps.storage.ParameterSet(second), dev.nps.storage.DType.F32)
                .write(sharded.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(sharded.resolve("model.safetensors.index.json"), "{\"metadata\": {}, \"weight_map\": {" + map + "}}");
        Files.writeString(copy, Files.readString(copy).replace("base = base.safetensors", "base = base-sharded"));
        CliFixture.Run r = CliFixture.run("merge", "-q", "--spec", copy.toString(), "--method", "ta", "--lambda", "0.3",
                "--out", tmp.resolve("sharded-out").toString());
        assertEquals(0, r.exitCode(), r.err());
        r = CliFixture.run("merge", "-q", "--spec", SPEC.toString(), "--method", "ta", "--lambda", "0.3", "--out", tmp.resolve("file-out").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(read(tmp.resolve("file-out/result.json")).get("tasks"), read(tmp.resolve("sharded-out/result.json")).get("tasks"));
    }

    /** README: --unshared carry keeps the base value of a tensor one fine-tuned checkpoint lacks, in merge and eval alike. */
    @ParameterizedTest
    @ValueSource(strings = {"ta", "ties", "nps"})
    void unsharedCarryKeepsTheBaseValueInMerge(String method) throws IOException {
        Path copy = CliFixture.copyDigits(Files.createDirectories(tmp.resolve("digits")));
        CliFixture.editCheckpoint(copy.getParent().resolve("tasks/flip_lr.safetensors"), t -> t.remove("fc2.bias"));
        List<String> args = new java.util.ArrayList<>(List.of("merge", "-q", "--spec", copy.toString(), "--unshared", "carry",
                "--method", method, "--out", tmp.resolve("carry").toString()));
        if (method.equals("nps")) {
            args.addAll(List.of("--keep", "0.1", "--generations", "2", "--no-baselines", "--no-control"));
        }
        CliFixture.Run r = CliFixture.run(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(read(tmp.resolve("carry/result.json")).get("tasks").get("flip_lr").get("accuracy").asDouble() > 0.1);
        r = CliFixture.run("eval", "-q", "--spec", copy.toString(), "--unshared", "carry", "--out", tmp.resolve("eval").toString());
        assertEquals(0, r.exitCode(), r.err());
    }

    /**
     * The defaults fill the cores (evaluators x threads = cores), result.json records the choice, and the
     * trajectory is the same whatever the evaluator count and threads per evaluator; the conv fixture's
     * explicit feed modes both pass the guard and score alike.
     */
    @Test
    void defaultsFillTheCoresAndTheTrajectoryIgnoresTheEvaluatorCount() throws IOException {
        int cores = Runtime.getRuntime().availableProcessors();
        String sha = null;
        for (List<String> counts : List.of(List.<String>of(), List.of("--evaluators", "1", "--threads", "1"),
                List.of("--evaluators", "1"))) {
            Path out = tmp.resolve("p" + counts.size() + counts);
            List<String> args = new java.util.ArrayList<>(List.of("prune", "-q", "--spec", SPEC.toString(), "--task", "rot90",
                    "--keep", "0.1", "--generations", "2", "--seed", "3", "--out", out.toString()));
            args.addAll(counts);
            CliFixture.Run r = CliFixture.run(args.toArray(String[]::new));
            assertEquals(0, r.exitCode(), r.err());
            JsonNode result = read(out.resolve("result.json"));
            JsonNode scoring = result.get("scoring");
            assertEquals("inputs", scoring.get("feedMode").asText(), scoring.toString());
            assertEquals(50, scoring.get("batchSize").asInt());
            assertTrue(scoring.get("guard").get("maxAbsLogitDiff").asDouble() <= scoring.get("guard").get("bound").asDouble());
            int e = scoring.get("evaluators").asInt();
            int t = scoring.get("threadsPerEvaluator").asInt();
            assertEquals(counts.isEmpty() ? cores : 1, e, scoring.toString());
            assertEquals(counts.size() == 4 ? 1 : counts.isEmpty() ? 1 : cores, t, scoring.toString());
            assertEquals(e, result.get("search").get("evaluators").asInt());
            String got = result.get("search").get("trajectorySha256").asText();
            assertTrue(sha == null || sha.equals(got), counts + ": " + got + " vs " + sha);
            sha = got;
        }
        Path conv = CliFixture.DIGITS.getParent().resolve("conv/spec.conf");
        for (String feed : List.of("inputs", "rebuild")) {
            Path out = tmp.resolve("conv-" + feed);
            CliFixture.Run r = CliFixture.run("eval", "-q", "--spec", conv.toString(), "--feed", feed, "--out", out.toString());
            assertEquals(0, r.exitCode(), r.err());
            JsonNode result = read(out.resolve("result.json"));
            assertEquals(feed, result.get("scoring").get("feedMode").asText());
            assertEquals(1, result.get("scoring").get("evaluators").asInt());
            assertEquals(cores, result.get("scoring").get("threadsPerEvaluator").asInt());
            // examples/conv/expected.json: 193 + 192 + 193 of 200 test images.
            assertEquals(193, result.get("tasks").get("identity").get("correct").asLong(), result.toString());
            assertEquals(192, result.get("tasks").get("rot90").get("correct").asLong());
            assertEquals(193, result.get("tasks").get("invert").get("correct").asLong());
        }
    }

    @Test
    void pruneReportsSearchAndControl() throws IOException {
        Path out = tmp.resolve("prune");
        CliFixture.Run r = CliFixture.run("prune", "-q", "--spec", SPEC.toString(), "--task", "identity", "--keep", "0.1",
                "--generations", "3", "--seed", "5", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode result = read(out.resolve("result.json"));
        JsonNode search = result.get("search");
        assertEquals(3, search.get("generations").asInt());
        assertEquals(64, search.get("trajectorySha256").asText().length());
        assertEquals(search.get("candidates").asLong() * search.get("batchesPerCandidate").asLong(),
                search.get("batchesEvaluated").asLong() + search.get("batchesSkipped").asLong());
        assertTrue(result.get("control").get("accuracy").asDouble() > 0.3);
        assertTrue(result.get("tasks").get("identity").get("accuracy").asDouble() > 0.3);
        // report.html, drawn from result.json and written just before it: fitness (best, mean, skipped
        // share) and one line per subspace weight (8 by default).
        assertEquals(8, search.get("history").get(2).get("mean").size());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<figure class=\"plot\" data-plot=\"fitness\" data-series=\"3\">"), html);
        assertTrue(html.contains("<figure class=\"plot\" data-plot=\"parameters\" data-series=\"8\">"));
        assertTrue(Files.getLastModifiedTime(out.resolve("report.html")).compareTo(Files.getLastModifiedTime(out.resolve("result.json"))) <= 0);
        try (var files = Files.list(out)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
    }

    @Test
    void evalCrossReportColoursTheMatrix() throws IOException {
        Path out = tmp.resolve("cross");
        CliFixture.Run r = CliFixture.run("eval", "-q", "--cross", "--spec", SPEC.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode cross = read(out.resolve("result.json")).get("cross");
        assertEquals(TASKS.size(), cross.size());
        String html = Files.readString(out.resolve("report.html"));
        assertEquals(TASKS.size() * TASKS.size(), html.split("<td style=\"background:hsl\\(", -1).length - 1);
        assertEquals(TASKS.size(), html.split(";font-weight:bold", -1).length - 1, "the diagonal stands out");
    }

    @Test
    void mergeNpsWithAutoKeepChoosesOnCalibrationAndReportsTheKeepCurve() throws IOException {
        Path out = tmp.resolve("auto");
        CliFixture.Run r = CliFixture.run("merge", "-q", "--spec", SPEC.toString(), "--method", "nps", "--keep", "auto",
                "--generations", "2", "--population", "4", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode result = read(out.resolve("result.json"));
        JsonNode grid = result.get("selection").get("grid");
        assertEquals(3, grid.size());
        double bestKeep = 0;
        double best = -1;
        for (JsonNode g : grid) {
            if (g.get("calibrationMeanAccuracy").asDouble() > best) {
                best = g.get("calibrationMeanAccuracy").asDouble();
                bestKeep = g.get("keep").asDouble();
            }
        }
        assertEquals(bestKeep, result.get("keep").asDouble(), "the keep with the best calibration score is written");
        JsonNode curve = result.get("keepCurve");
        assertEquals("test", curve.get("split").asText());
        assertEquals(3, curve.get("keeps").size());
        for (String m : List.of("nps", "control", "ties", "dare")) {
            JsonNode values = curve.get("methods").get(m);
            assertEquals(3, values.size(), m);
            for (JsonNode v : values) {
                assertTrue(v.asDouble() > 0.3 && v.asDouble() <= 1, m + " " + v);
            }
        }
        int chosen = List.of(0.05, 0.1, 0.2).indexOf(bestKeep);
        assertEquals(result.get("meanAccuracy").asDouble(), curve.get("methods").get("nps").get(chosen).asDouble(), 1e-12,
                "the curve's NPS point at the chosen keep is the written model");
        assertEquals(result.get("control").get("meanAccuracy").asDouble(),
                curve.get("methods").get("control").get(chosen).asDouble(), 1e-12);
        for (String m : List.of("ta", "ties", "dare-ta", "consensus", "average")) {
            double acc = result.get("baselines").get(m).get("meanAccuracy").asDouble();
            assertTrue(acc > 0.5 && acc <= 1, m + " " + acc);
        }
    }

    @Test
    void perTaskLambdaBaselinesSearchOneLambdaPerTask() throws IOException {
        for (String method : List.of("ta", "ties")) {
            Path out = tmp.resolve(method + "-per-task");
            CliFixture.Run r = CliFixture.run("merge", "-q", "--spec", SPEC.toString(), "--method", method, "--per-task-lambda",
                    "--keep", method.equals("ta") ? "auto" : "0.2", "--generations", "3", "--out", out.toString());
            assertEquals(0, r.exitCode(), r.err());
            JsonNode result = read(out.resolve("result.json"));
            assertEquals(method + "-per-task", result.get("method").asText());
            assertEquals(TASKS.size(), result.get("lambdas").size());
            assertTrue(result.get("meanAccuracy").asDouble() > 0.5, method + " per task beats chance by far");
            assertEquals(3, result.get("search").get("generations").asInt());
        }
    }

    @Test
    void transferReportsTargetOthersAndHScore() throws IOException {
        Path out = tmp.resolve("transfer");
        CliFixture.Run r = CliFixture.run("transfer", "-q", "--spec", SPEC.toString(), "--task", "rot90", "--keep", "0.1",
                "--generations", "3", "--seed", "2", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode result = read(out.resolve("result.json"));
        assertEquals("transfer", result.get("command").asText());
        JsonNode tr = result.get("transfer");
        assertEquals("rot90", tr.get("target").asText());
        for (String model : List.of("nps", "control", "finetuned", "base")) {
            JsonNode m = tr.get(model);
            double a = m.get("targetAccuracy").asDouble();
            double o = m.get("othersMeanAccuracy").asDouble();
            assertEquals((a + o) / 2, m.get("average").asDouble(), 1e-12, model);
            assertEquals(2 * a * o / (a + o), m.get("hScore").asDouble(), 1e-12, model);
        }
        assertEquals(result.get("tasks").get("rot90").get("accuracy").asDouble(),
                tr.get("nps").get("targetAccuracy").asDouble(), 1e-12);
        assertTrue(tr.get("nps").get("targetAccuracy").asDouble() > tr.get("base").get("targetAccuracy").asDouble(),
                "transfer improves the target task over the base");
        assertTrue(Files.isRegularFile(out.resolve("model.onnx")));
    }

    @Test
    void inspectListsTensors() {
        assertEquals(0, CliFixture.run("inspect", CliFixture.DIGITS.resolve("base.safetensors").toString()).exitCode());
        assertEquals(0, CliFixture.run("inspect", CliFixture.DIGITS.resolve("model.onnx").toString()).exitCode());
    }
}
