package dev.nps.evaluator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nps.evaluator.ScorerOptions.FeedMode;
import dev.nps.storage.Checkpoint;
import dev.nps.storage.ParameterSet;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The conv fixture (examples/conv, tools/make_conv_fixture.py): at optimization level ALL, ONNX Runtime's
 * NchwcTransformer reorders Conv weights from the values embedded in the graph. Every feed mode must
 * still reproduce Python onnxruntime's counts over the graph as written, and the guard must catch the old
 * REBUILD (base graph + SessionOptions.addInitializer), which scored the convs with the base's weights.
 */
class ConvScoringTest {
    private static final List<String> TASKS = List.of("identity", "rot90", "invert");
    private static Path root;
    private static JsonNode expected;
    private static int batch;
    private static final List<Dataset> open = new ArrayList<>();

    @BeforeAll
    static void fixture() throws IOException {
        root = Path.of(System.getProperty("nps.repo.root", "..")).resolve("examples/conv");
        expected = new ObjectMapper().readTree(Files.readAllBytes(root.resolve("expected.json")));
        batch = expected.get("batchSize").asInt();
    }

    @AfterAll
    static void closeData() {
        open.forEach(Dataset::close);
    }

    private static ParameterSet read(String model) {
        try (Checkpoint cp = Checkpoint.open(root.resolve(model.equals("base") ? "base.safetensors" : "tasks/" + model + ".safetensors"))) {
            return cp.readAllFloats();
        }
    }

    private static Dataset data(String task, String split) {
        Dataset d = Dataset.open(root.resolve("data/" + task + "-" + split + ".safetensors"), batch);
        open.add(d);
        return d;
    }

    private static ModelScorer scorer(FeedMode mode) {
        return ModelScorer.open(root.resolve("model.onnx"), read("base").names(), ScorerOptions.defaults().withFeedMode(mode));
    }

    @ParameterizedTest
    @EnumSource(FeedMode.class)
    void everyFeedModeReproducesPythonsCountsOverTheWrittenGraph(FeedMode mode) {
        int checked = 0;
        try (ModelScorer scorer = scorer(mode)) {
            for (String model : List.of("base", "identity", "rot90", "invert")) {
                try (ScoringSession s = scorer.load(read(model))) {
                    for (String task : TASKS) {
                        for (String split : List.of("calib", "test")) {
                            JsonNode want = expected.at("/models/" + model + "/" + task + "/" + split);
                            assertEquals(new Score(want.get("correct").asLong(), want.get("n").asLong()),
                                    s.scoreAll(data(task, split), "logits_" + task), mode + " " + model + " on " + task + " " + split);
                            checked++;
                        }
                    }
                }
            }
        }
        assertEquals(4 * 3 * 2, checked);
    }

    /** Logits, not only counts: each mode's first calibration batch against Python's over the written graph. */
    @ParameterizedTest
    @EnumSource(value = FeedMode.class, names = {"INPUTS", "REBUILD"})
    void firstCalibrationBatchLogitsMatchPython(FeedMode mode) {
        try (ModelScorer scorer = scorer(mode)) {
            for (String model : List.of("identity", "invert")) {
                try (ScoringSession s = scorer.load(read(model))) {
                    for (String task : TASKS) {
                        float[] got = s.logits(data(task, "calib"), 0, "logits_" + task);
                        JsonNode want = expected.at("/models/" + model + "/" + task + "/firstCalibBatchLogits");
                        assertEquals(want.size(), got.length);
                        for (int i = 0; i < got.length; i++) {
                            assertEquals(want.get(i).asDouble(), got[i], 1e-4, mode + " " + model + " " + task + " logit " + i);
                        }
                    }
                }
            }
        }
    }

    /** REBUILD's model bytes are byte for byte what the writer (OnnxModel.withInitializers) produces. */
    @Test
    void rebuildBytesAreTheWrittenModel() {
        ParameterSet ft = read("rot90");
        var model = dev.nps.storage.onnx.OnnxModel.load(root.resolve("model.onnx"));
        java.util.Map<String, long[]> shapes = new java.util.TreeMap<>();
        ft.asMap().forEach((n, t) -> shapes.put(n, t.shape()));
        WrittenGraph g = WrittenGraph.of(model, shapes);
        byte[] buf = g.newBuffer();
        java.util.Map<String, float[]> values = new java.util.LinkedHashMap<>();
        ft.asMap().forEach((n, t) -> values.put(n, t.data()));
        g.fill(buf, values);
        org.junit.jupiter.api.Assertions.assertArrayEquals(model.withInitializers(ft).toByteArray(), buf);
    }

    /** The old REBUILD: base graph, candidate weights given through addInitializer, level ALL. */
    private static float[] addInitializerLogits(ParameterSet params, Dataset d, String output) {
        var env = Ort.env();
        List<OnnxTensor> keep = new ArrayList<>();
        try (OrtSession.SessionOptions so = ScorerOptions.defaults().sessionOptions()) {
            for (var e : params.asMap().entrySet()) {
                OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue().data()), e.getValue().shape());
                keep.add(t);
                so.addInitializer(e.getKey(), t);
            }
            try (OrtSession s = env.createSession(root.resolve("model.onnx").toString(), so);
                 OrtSession.Result r = s.run(Map.of("x", d.batch(0).inputs().get("x")), java.util.Set.of(output))) {
                return ScoringSession.floats(r.get(0), output, root);
            }
        } catch (OrtException e) {
            throw new AssertionError(e);
        } finally {
            keep.forEach(OnnxTensor::close);
        }
    }

    @Test
    void theOldAddInitializerPathScoresWrongAndTheGuardCatchesIt() {
        ParameterSet ft = read("invert");
        Dataset calib = data("invert", "calib");
        try (ModelScorer scorer = scorer(FeedMode.REBUILD)) {
            float[] written = scorer.writtenLogits(ft, calib, "logits_invert");
            ModelScorer.Agreement stale = scorer.compare(addInitializerLogits(ft, calib, "logits_invert"), written);
            assertFalse(stale.agrees(), "addInitializer at level ALL should read the embedded conv weights: " + stale);
            assertTrue(stale.maxAbsDiff() > 1, "stale conv weights move logits by whole units: " + stale);
            ModelScorer.Agreement fixed = scorer.checkAgainstWritten(ft, calib, "logits_invert");
            assertTrue(fixed.agrees(), fixed.toString());
            assertTrue(fixed.maxAbsDiff() < 1e-4, fixed.toString());
        }
        try (ModelScorer scorer = scorer(FeedMode.INPUTS)) {
            assertTrue(scorer.checkAgainstWritten(ft, calib, "logits_invert").agrees());
        }
    }

    private static float[] own(ModelScorer s, ParameterSet p, ModelScorer.Probe probe) {
        try (ScoringSession ss = s.load(p)) {
            return ss.logits(probe.calibration(), 0, probe.output());
        }
    }

    @Test
    void aDisagreeingExplicitModeIsRefusedAndAutoFallsBack() {
        ParameterSet ft = read("rot90");
        var probe = new ModelScorer.Probe("rot90", ft, data("rot90", "calib"), "logits_rot90");
        Path graph = root.resolve("model.onnx");
        // The old addInitializer path's logits stand in for a broken mode.
        java.util.function.Function<ModelScorer, float[]> staleRebuild = s -> s.feedMode() == FeedMode.REBUILD
                ? addInitializerLogits(ft, probe.calibration(), probe.output()) : own(s, ft, probe);
        EvaluatorException e = assertThrows(EvaluatorException.class, () -> ModelScorer.openChecked(graph, ft.names(),
                ScorerOptions.defaults().withFeedMode(FeedMode.REBUILD), probe, staleRebuild));
        assertTrue(e.getMessage().startsWith("feed mode REBUILD (max |logit diff| "), e.getMessage());
        assertTrue(e.getMessage().contains("model 'rot90'") && !e.getMessage().contains("\n"), e.getMessage());
        // AUTO picks INPUTS for this small CPU model; were INPUTS the broken one, the guard falls back to REBUILD.
        java.util.function.Function<ModelScorer, float[]> staleInputs = s -> s.feedMode() == FeedMode.INPUTS
                ? addInitializerLogits(ft, probe.calibration(), probe.output()) : own(s, ft, probe);
        try (ModelScorer s = ModelScorer.openChecked(graph, ft.names(), ScorerOptions.defaults(), probe, staleInputs)) {
            assertEquals(FeedMode.REBUILD, s.feedMode());
        }
        try (ModelScorer s = ModelScorer.openChecked(graph, ft.names(), ScorerOptions.defaults(), probe, staleRebuild)) {
            assertEquals(FeedMode.INPUTS, s.feedMode());
        }
        // Without a stand-in every mode agrees, and the explicit choice is kept.
        try (ModelScorer s = ModelScorer.openChecked(graph, ft.names(), ScorerOptions.defaults().withFeedMode(FeedMode.REBUILD), probe)) {
            assertEquals(FeedMode.REBUILD, s.feedMode());
        }
    }
}
