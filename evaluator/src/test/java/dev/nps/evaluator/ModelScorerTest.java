package dev.nps.evaluator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.evaluator.ScorerOptions.FeedMode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ModelScorerTest {
    private static final int N = 23;

    @TempDir
    Path dir;

    private Path graph;
    private Path data;
    private float[] x;
    private long[] labels;

    @BeforeEach
    void setUp() throws IOException {
        Random rnd = new Random(7);
        x = new float[N * TinyModel.FEATURES];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextInt(7) - 3;
        }
        labels = new long[N];
        for (int i = 0; i < N; i++) {
            labels[i] = rnd.nextInt(TinyModel.CLASSES);
        }
        graph = TinyModel.writeGraph(dir, randomInts(rnd, 12), randomInts(rnd, 3));
        data = TinyModel.writeData(dir, "data.safetensors", x, labels);
    }

    private static float[] randomInts(Random rnd, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = rnd.nextInt(5) - 2;
        }
        return out;
    }

    private static ModelScorer open(Path graph, FeedMode mode) {
        return ModelScorer.open(graph, Set.of("W", "b"), ScorerOptions.defaults().withFeedMode(mode));
    }

    @ParameterizedTest
    @EnumSource(value = FeedMode.class, names = {"INPUTS", "REBUILD"})
    void candidatesScoreAsTheReferenceSays(FeedMode mode) {
        Random rnd = new Random(11);
        try (ModelScorer scorer = open(graph, mode); Dataset d = Dataset.open(data, 5)) {
            assertEquals(mode, scorer.feedMode());
            assertEquals(Set.of("x"), scorer.dataInputs());
            Set<Long> distinct = new java.util.HashSet<>();
            for (int c = 0; c < 12; c++) {
                float[] w = randomInts(rnd, 12);
                float[] b = randomInts(rnd, 3);
                int expected = TinyModel.referenceCorrect(x, labels, w, b);
                try (ScoringSession s = scorer.load(TinyModel.params(w, b))) {
                    Score score = s.scoreAll(d, "logits");
                    assertEquals(new Score(expected, N), score, "candidate " + c);
                    distinct.add(score.correct());
                }
            }
            assertTrue(distinct.size() > 2, "candidates should differ in score: " + distinct);
        }
    }

    /**
     * ONNX Runtime folds nodes over initializers alone (here Transpose(W)) from the graph's own
     * values; SessionOptions.addInitializer would replace them too late. REBUILD builds from the
     * written graph's bytes, so folding reads the candidate's weights with no special case.
     */
    @ParameterizedTest
    @EnumSource(value = FeedMode.class, names = {"INPUTS", "REBUILD"})
    void weightsReadThroughAFoldableNodeAreTheCandidates(FeedMode mode) throws IOException {
        Random rnd = new Random(13);
        Path transposed = TinyModel.writeTransposedGraph(java.nio.file.Files.createDirectory(dir.resolve("t")),
                randomInts(rnd, 12), randomInts(rnd, 3));
        try (ModelScorer scorer = open(transposed, mode); Dataset d = Dataset.open(data, 5)) {
            for (int c = 0; c < 6; c++) {
                float[] w = randomInts(rnd, 12);
                float[] b = randomInts(rnd, 3);
                try (ScoringSession s = scorer.load(TinyModel.transposedParams(w, b))) {
                    assertEquals(new Score(TinyModel.referenceCorrect(x, labels, w, b), N), s.scoreAll(d, "logits"),
                            "candidate " + c);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = FeedMode.class, names = {"INPUTS", "REBUILD"})
    void batchesSumToTheWholeSetAndArriveInOrder(FeedMode mode) {
        float[] w = randomInts(new Random(3), 12);
        float[] b = {1, 0, -1};
        try (ModelScorer scorer = open(graph, mode);
             Dataset whole = Dataset.open(data, N);
             Dataset batched = Dataset.open(data, 4);
             ScoringSession s = scorer.load(TinyModel.params(w, b))) {
            assertEquals(1, whole.batchCount());
            assertEquals(6, batched.batchCount());
            assertEquals(3, batched.batch(5).count());
            assertEquals(20, batched.batch(5).start());
            List<Integer> seen = new ArrayList<>();
            Score sum = s.scoreAll(batched, "logits", Accuracy.INSTANCE, (i, batch, soFar) -> seen.add(i));
            assertEquals(List.of(0, 1, 2, 3, 4, 5), seen);
            assertEquals(s.scoreAll(whole, "logits"), sum);
            BatchScore manual = new BatchScore(0, 0);
            for (int i = 0; i < batched.batchCount(); i++) {
                manual = manual.plus(s.scoreBatch(batched, i, "logits"));
            }
            assertEquals(sum, Score.ZERO.plus(manual));
            assertEquals(TinyModel.referenceCorrect(x, labels, w, b), sum.correct());
        }
    }

    @ParameterizedTest
    @EnumSource(value = FeedMode.class, names = {"INPUTS", "REBUILD"})
    void tiesGoToTheLowestIndex(FeedMode mode) {
        long zeros = java.util.Arrays.stream(labels).filter(l -> l == 0).count();
        try (ModelScorer scorer = open(graph, mode); Dataset d = Dataset.open(data, 8);
             ScoringSession s = scorer.load(TinyModel.params(new float[12], new float[3]))) {
            assertEquals(new Score(zeros, N), s.scoreAll(d, "logits"));
        }
    }

    @Test
    void autoPicksInputsOnCpuAndRebuildOnCudaOrForExternalData() {
        try (ModelScorer scorer = ModelScorer.open(graph, Set.of("W", "b"), ScorerOptions.defaults())) {
            assertEquals(FeedMode.INPUTS, scorer.feedMode());
        }
        ScorerOptions auto = ScorerOptions.defaults();
        assertEquals(FeedMode.INPUTS, auto.resolveFeedMode(false, false));
        assertEquals(FeedMode.REBUILD, auto.resolveFeedMode(true, false));
        assertEquals(FeedMode.REBUILD, auto.resolveFeedMode(false, true));
        assertEquals(FeedMode.REBUILD, auto.withDevice(ScorerOptions.Device.CUDA, 0).resolveFeedMode(false, false));
        assertEquals(FeedMode.INPUTS, auto.withFeedMode(FeedMode.INPUTS).resolveFeedMode(false, true));
    }

    @Test
    void nanLogitsCountAsWrongAndInt32LabelsWork() {
        Path p = dir.resolve("i32.safetensors");
        java.nio.ByteBuffer le = java.nio.ByteBuffer.allocate(4 * N).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long l : labels) {
            le.putInt((int) l);
        }
        new dev.nps.storage.safetensors.SafetensorsWriter()
                .addFloats("x", new long[] {N, TinyModel.FEATURES}, x, dev.nps.storage.DType.F32)
                .add("labels", dev.nps.storage.DType.I32, new long[] {N}, le.array())
                .write(p);
        float[] nan = new float[12];
        java.util.Arrays.fill(nan, Float.NaN);
        float[] w = randomInts(new Random(9), 12);
        try (ModelScorer scorer = open(graph, FeedMode.INPUTS); Dataset d = Dataset.open(p, 10)) {
            try (ScoringSession s = scorer.load(TinyModel.params(w, new float[3]))) {
                assertEquals(TinyModel.referenceCorrect(x, labels, w, new float[3]), s.scoreAll(d, "logits").correct());
            }
            try (ScoringSession s = scorer.load(TinyModel.params(nan, new float[3]))) {
                assertEquals(new Score(0, N), s.scoreAll(d, "logits"));
            }
        }
    }

    @Test
    void labelsOutOfRangeAreNamed() {
        long[] bad = labels.clone();
        bad[5] = 12;
        Path p = TinyModel.writeData(dir, "bad.safetensors", x, bad);
        try (ModelScorer scorer = open(graph, FeedMode.INPUTS); Dataset d = Dataset.open(p, 8);
             ScoringSession s = scorer.load(TinyModel.params(new float[12], new float[3]))) {
            var e = assertThrows(EvaluatorException.class, () -> s.scoreAll(d, "logits"));
            assertEquals("label 12 out of range [0, 3) at sample 5 in " + p, e.getMessage());
        }
    }

    @Test
    void negativeLabelsAreRefusedAtOpen() {
        long[] bad = labels.clone();
        bad[2] = -1;
        Path p = TinyModel.writeData(dir, "neg.safetensors", x, bad);
        var e = assertThrows(EvaluatorException.class, () -> Dataset.open(p, 8));
        assertEquals("label -1 is negative at sample 2 in " + p, e.getMessage());
    }

    @Test
    void emptyDatasetIsRefused() {
        Path p = TinyModel.writeData(dir, "empty.safetensors", new float[0], new long[0]);
        var e = assertThrows(EvaluatorException.class, () -> Dataset.open(p, 8));
        assertEquals("empty calibration set: " + p + " holds 0 samples", e.getMessage());
    }

    @Test
    void mismatchedLeadingDimensionIsRefused() {
        Path p = dir.resolve("ragged.safetensors");
        new dev.nps.storage.safetensors.SafetensorsWriter()
                .addFloats("x", new long[] {N - 1, TinyModel.FEATURES}, new float[(N - 1) * TinyModel.FEATURES],
                        dev.nps.storage.DType.F32)
                .addLongs("labels", new long[] {N}, labels)
                .write(p);
        var e = assertThrows(EvaluatorException.class, () -> Dataset.open(p, 8));
        assertTrue(e.getMessage().contains("tensor 'x' in " + p + " has shape [22, 4] but 'labels' has 23 samples"),
                e.getMessage());
    }

    @Test
    void missingInputTensorIsListed() {
        Path p = dir.resolve("noinput.safetensors");
        new dev.nps.storage.safetensors.SafetensorsWriter()
                .addFloats("pixels", new long[] {N, TinyModel.FEATURES}, x, dev.nps.storage.DType.F32)
                .addLongs("labels", new long[] {N}, labels)
                .write(p);
        try (ModelScorer scorer = open(graph, FeedMode.REBUILD); Dataset d = Dataset.open(p, 8);
             ScoringSession s = scorer.load(TinyModel.params(new float[12], new float[3]))) {
            var e = assertThrows(EvaluatorException.class, () -> s.scoreBatch(d, 0, "logits"));
            assertEquals(p + " lacks input tensor [x] of " + graph + " (it holds [pixels])", e.getMessage());
        }
    }

    @Test
    void wrongInputWidthIsRefused() {
        Path p = dir.resolve("narrow.safetensors");
        new dev.nps.storage.safetensors.SafetensorsWriter()
                .addFloats("x", new long[] {N, 3}, new float[N * 3], dev.nps.storage.DType.F32)
                .addLongs("labels", new long[] {N}, labels)
                .write(p);
        try (ModelScorer scorer = open(graph, FeedMode.INPUTS); Dataset d = Dataset.open(p, 8);
             ScoringSession s = scorer.load(TinyModel.params(new float[12], new float[3]))) {
            var e = assertThrows(EvaluatorException.class, () -> s.scoreBatch(d, 0, "logits"));
            assertEquals("input 'x' in " + p + " has shape [23, 3] but " + graph + " expects [-1, 4] (-1 = any)",
                    e.getMessage());
        }
    }

    @Test
    void unknownOutputIsRefused() {
        try (ModelScorer scorer = open(graph, FeedMode.INPUTS); Dataset d = Dataset.open(data, 8);
             ScoringSession s = scorer.load(TinyModel.params(new float[12], new float[3]))) {
            var e = assertThrows(EvaluatorException.class, () -> s.scoreBatch(d, 0, "probs"));
            assertEquals("output 'probs' is not in " + graph + " (outputs: [logits])", e.getMessage());
        }
    }

    @Test
    void unknownParameterIsRefused() {
        var e = assertThrows(EvaluatorException.class,
                () -> ModelScorer.open(graph, Set.of("W", "fc9.weight"), ScorerOptions.defaults()));
        assertEquals("parameter 'fc9.weight' is not an initializer of " + graph + " (2 names: W, b)", e.getMessage());
    }

    @Test
    void candidateMustMatchTheParameters() {
        try (ModelScorer scorer = ModelScorer.open(graph, Set.of("W"), ScorerOptions.defaults())) {
            var extra = assertThrows(EvaluatorException.class,
                    () -> scorer.load(TinyModel.params(new float[12], new float[3])));
            assertEquals("candidate tensor 'b' is not a searched parameter of " + graph + " (1 name: W)", extra.getMessage());
            var shape = assertThrows(EvaluatorException.class, () -> scorer.load(new dev.nps.storage.ParameterSet(
                    java.util.Map.of("W", new dev.nps.storage.FloatTensor(new long[] {3, 4}, new float[12])))));
            assertEquals("candidate parameter 'W' has shape [3, 4] but " + graph + " declares [4, 3]", shape.getMessage());
        }
    }

    @Test
    void cudaWithoutTheGpuBuildIsExplained() {
        org.junit.jupiter.api.Assumptions.assumeFalse(
                ai.onnxruntime.OrtEnvironment.getAvailableProviders().contains(ai.onnxruntime.OrtProvider.CUDA));
        var e = assertThrows(EvaluatorException.class, () -> ModelScorer.open(graph, Set.of("W", "b"),
                ScorerOptions.defaults().withDevice(ScorerOptions.Device.CUDA, 0)));
        assertEquals("CUDA requested but this build has the CPU ONNX Runtime; rebuild with -Pcuda", e.getMessage());
    }

    @Test
    void closedSessionRefusesWork() {
        try (ModelScorer scorer = open(graph, FeedMode.INPUTS); Dataset d = Dataset.open(data, 8)) {
            ScoringSession s = scorer.load(TinyModel.params(new float[12], new float[3]));
            s.close();
            s.close();
            assertThrows(IllegalStateException.class, () -> s.scoreBatch(d, 0, "logits"));
        }
    }
}
