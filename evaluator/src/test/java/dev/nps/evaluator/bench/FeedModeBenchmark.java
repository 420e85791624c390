package dev.nps.evaluator.bench;

import ai.onnxruntime.OnnxTensor;
import dev.nps.evaluator.BatchScore;
import dev.nps.evaluator.Dataset;
import dev.nps.evaluator.Metric;
import dev.nps.evaluator.ModelScorer;
import dev.nps.evaluator.Score;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.evaluator.ScorerOptions.FeedMode;
import dev.nps.evaluator.ScoringSession;
import dev.nps.storage.Checkpoint;
import dev.nps.storage.DType;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.onnx.OnnxModel;
import dev.nps.storage.safetensors.SafetensorsWriter;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Per-candidate cost of the two feed modes (not a test; numbers go to BENCHMARKS.md).
 * For each mode: warm-up candidates, then {@code --candidates} timed ones, each timed as
 * "ready" (ModelScorer.load: weight copy, plus the session build in REBUILD), "score" (every
 * batch of the dataset) and "close". Candidates are the base weights times (1 + 0.05 g),
 * g ~ N(0,1) per entry, seeded, so both modes see identical candidates; their predictions
 * are compared across modes to check that both feed the candidate, not the embedded weights.
 *
 * <pre>
 * java ... FeedModeBenchmark --graph G.onnx [--checkpoint base.safetensors] (--data D.safetensors | --synthetic-text N,SEQ)
 *     --output NAME [--batch 64] [--candidates 20] [--warmup 3] [--min-elements 2] [--threads 1] [--modes INPUTS,REBUILD]
 * </pre>
 * Without --checkpoint the parameters are the graph's float32 initializers with at least
 * --min-elements entries (for graphs whose initializer names are anonymous).
 */
public final class FeedModeBenchmark {

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parseArgs(args);
        Path graph = Path.of(a.get("graph"));
        String output = a.get("output");
        int batch = Integer.parseInt(a.getOrDefault("batch", "64"));
        int candidates = Integer.parseInt(a.getOrDefault("candidates", "20"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "3"));
        int threads = Integer.parseInt(a.getOrDefault("threads", "1"));
        long minElements = Long.parseLong(a.getOrDefault("min-elements", "2"));
        List<FeedMode> modes = Arrays.stream(a.getOrDefault("modes", "INPUTS,REBUILD").split(","))
                .map(FeedMode::valueOf).toList();

        ParameterSet base = baseParameters(graph, a.get("checkpoint"), minElements);
        Path data = a.containsKey("data") ? Path.of(a.get("data")) : syntheticText(graph, a.get("synthetic-text"));
        Metric metric = a.containsKey("synthetic-text") ? new FirstTokenArgmax() : new RecordingArgmax();

        System.out.printf(Locale.ROOT, "graph %s (%d MB), %d parameters, %d entries (%.1f MB f32); data %s; batch %d; "
                        + "%d warm-up + %d timed candidates; intra-op threads %d; %d cores%n",
                graph, Files.size(graph) >> 20, base.names().size(), base.elementCount(), base.elementCount() * 4 / 1e6,
                data, batch, warmup, candidates, threads, Runtime.getRuntime().availableProcessors());

        Map<FeedMode, double[]> medians = new TreeMap<>();
        Map<FeedMode, List<List<Integer>>> predictions = new TreeMap<>();
        Map<FeedMode, double[]> checksums = new TreeMap<>();
        try (Dataset d = Dataset.open(data, batch)) {
            System.out.printf(Locale.ROOT, "dataset: %d samples, %d batches%n", d.size(), d.batchCount());
            for (FeedMode mode : modes) {
                ScorerOptions opts = ScorerOptions.defaults().withFeedMode(mode).withThreads(threads, 1);
                long t0 = System.nanoTime();
                try (ModelScorer scorer = ModelScorer.open(graph, base.names(), opts)) {
                    double openMs = (System.nanoTime() - t0) / 1e6;
                    double[] ready = new double[candidates];
                    double[] score = new double[candidates];
                    double[] close = new double[candidates];
                    List<List<Integer>> preds = new ArrayList<>();
                    double[] sums = new double[candidates];
                    for (int c = -warmup; c < candidates; c++) {
                        ParameterSet cand = perturb(base, Math.max(c, 0) + 1000L * (c < 0 ? 1 : 0));
                        ((Recording) metric).reset();
                        long s0 = System.nanoTime();
                        ScoringSession s = scorer.load(cand);
                        long s1 = System.nanoTime();
                        Score sc = s.scoreAll(d, output, metric, null);
                        long s2 = System.nanoTime();
                        s.close();
                        long s3 = System.nanoTime();
                        if (c >= 0) {
                            ready[c] = (s1 - s0) / 1e6;
                            score[c] = (s2 - s1) / 1e6;
                            close[c] = (s3 - s2) / 1e6;
                            preds.add(((Recording) metric).predictions());
                            sums[c] = ((Recording) metric).checksum();
                            if (c < 3) {
                                System.out.printf(Locale.ROOT, "  %s candidate %d: score %d/%d%n", mode, c, sc.correct(), sc.count());
                            }
                        }
                    }
                    double[] total = new double[candidates];
                    for (int i = 0; i < candidates; i++) {
                        total[i] = ready[i] + score[i] + close[i];
                    }
                    double[] m = {median(ready), median(score), median(close), median(total)};
                    medians.put(mode, m);
                    predictions.put(mode, preds);
                    checksums.put(mode, sums);
                    System.out.printf(Locale.ROOT, "%-8s open %.1f ms | per candidate median: ready %.2f ms, score %.2f ms,"
                                    + " close %.2f ms, total %.2f ms (min total %.2f, max %.2f)%n",
                            mode, openMs, m[0], m[1], m[2], m[3], Arrays.stream(total).min().orElse(0),
                            Arrays.stream(total).max().orElse(0));
                }
            }
        }
        if (medians.size() == 2) {
            double in = medians.get(FeedMode.INPUTS)[3];
            double rb = medians.get(FeedMode.REBUILD)[3];
            System.out.printf(Locale.ROOT, "ratio REBUILD/INPUTS total = %.2f -> %s wins%n", rb / in,
                    rb < in ? "REBUILD" : "INPUTS");
            boolean same = predictions.get(FeedMode.INPUTS).equals(predictions.get(FeedMode.REBUILD));
            System.out.println("predictions identical across modes for every candidate: " + same);
            if (!same) {
                List<List<Integer>> p = predictions.get(FeedMode.INPUTS);
                List<List<Integer>> q = predictions.get(FeedMode.REBUILD);
                for (int c = 0; c < p.size(); c++) {
                    int diff = 0;
                    for (int i = 0; i < p.get(c).size(); i++) {
                        diff += p.get(c).get(i).equals(q.get(c).get(i)) ? 0 : 1;
                    }
                    System.out.printf(Locale.ROOT, "  candidate %d: %d of %d predictions differ%n", c, diff, p.get(c).size());
                }
            }
            double[] x = checksums.get(FeedMode.INPUTS);
            double[] y = checksums.get(FeedMode.REBUILD);
            double across = 0;
            double between = Double.POSITIVE_INFINITY;
            for (int c = 0; c < x.length; c++) {
                across = Math.max(across, Math.abs(x[c] - y[c]) / Math.abs(x[c]));
                if (c > 0) {
                    between = Math.min(between, Math.abs(x[c] - x[c - 1]) / Math.abs(x[c]));
                }
            }
            System.out.printf(Locale.ROOT, "output checksum: max relative difference INPUTS vs REBUILD (same candidate) %.2e;"
                    + " min relative difference between consecutive candidates %.2e%n", across, between);
        }
    }

    private static ParameterSet baseParameters(Path graph, String checkpoint, long minElements) {
        if (checkpoint != null) {
            try (Checkpoint cp = Checkpoint.open(Path.of(checkpoint))) {
                return cp.readAllFloats();
            }
        }
        OnnxModel model = OnnxModel.load(graph);
        TreeMap<String, FloatTensor> out = new TreeMap<>();
        for (OnnxModel.Initializer init : model.initializers()) {
            long n = Arrays.stream(init.shape()).reduce(1, Math::multiplyExact);
            if (init.dataType() == 1 && n >= minElements) {
                out.put(init.name(), new FloatTensor(init.shape(), model.readFloats(init.name())));
            }
        }
        return new ParameterSet(out);
    }

    /** base * (1 + 0.05 g), g standard normal, seeded. */
    private static ParameterSet perturb(ParameterSet base, long seed) {
        Random rnd = new Random(seed);
        return base.map(v -> {
            for (int i = 0; i < v.length; i++) {
                v[i] *= (float) (1 + 0.05 * rnd.nextGaussian());
            }
            return v;
        });
    }

    /** A temp dataset of random token ids for a text encoder's int64 inputs. */
    private static Path syntheticText(Path graph, String spec) throws Exception {
        String[] p = spec.split(",");
        int n = Integer.parseInt(p[0]);
        int seq = Integer.parseInt(p[1]);
        Random rnd = new Random(42);
        long[] ids = new long[n * seq];
        long[] mask = new long[n * seq];
        long[] types = new long[n * seq];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i % seq == 0 ? 101 : 1000 + rnd.nextInt(29000); // [CLS] then random word pieces
            mask[i] = 1;
        }
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(384);
        }
        long[] shape = {n, seq};
        SafetensorsWriter w = new SafetensorsWriter();
        for (OnnxModel.TensorSpec in : OnnxModel.load(graph).inputs()) {
            switch (in.name()) {
                case "input_ids" -> w.addLongs(in.name(), shape, ids);
                case "attention_mask" -> w.addLongs(in.name(), shape, mask);
                case "token_type_ids" -> w.addLongs(in.name(), shape, types);
                default -> throw new IllegalArgumentException("no synthetic data for input " + in.name());
            }
        }
        Path out = Files.createTempFile("nps-synthetic-", ".safetensors");
        out.toFile().deleteOnExit();
        w.addLongs("labels", new long[] {n}, labels).write(out);
        return out;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    public static Map<String, String> parseArgs(String[] args) {
        Map<String, String> out = new TreeMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got " + Arrays.toString(args));
            }
            out.put(args[i].substring(2), args[i + 1]);
        }
        for (String required : List.of("graph", "output")) {
            if (!out.containsKey(required)) {
                throw new IllegalArgumentException("missing --" + required);
            }
        }
        if (out.containsKey("data") == out.containsKey("synthetic-text")) {
            throw new IllegalArgumentException("give exactly one of --data and --synthetic-text");
        }
        return out;
    }

    private interface Recording extends Metric {
        void reset();

        /** Position-weighted sum of every output value since reset: tells candidates (and modes) apart. */
        double checksum();

        List<Integer> predictions();
    }

    /** Top-1 accuracy over [batch, classes] that also records each argmax (bench only: stateful). */
    private static class RecordingArgmax implements Recording {
        final List<Integer> preds = new ArrayList<>();
        double sum;

        @Override
        public BatchScore score(OnnxTensor output, dev.nps.evaluator.Batch batch) {
            long[] shape = output.getInfo().getShape();
            int rows = batch.count();
            int width = Math.toIntExact(output.getInfo().getNumElements() / rows);
            int classes = Math.toIntExact(shape[shape.length - 1]);
            FloatBuffer f = output.getFloatBuffer();
            for (int i = 0; i < f.limit(); i++) {
                sum += f.get(i) * ((i % 7) + 1);
            }
            int correct = 0;
            for (int r = 0; r < rows; r++) {
                int best = 0;
                for (int k = 1; k < classes; k++) {
                    if (f.get(r * width + k) > f.get(r * width + best)) {
                        best = k;
                    }
                }
                preds.add(best);
                correct += best == batch.label(r) ? 1 : 0;
            }
            return new BatchScore(correct, rows);
        }

        @Override
        public void reset() {
            preds.clear();
            sum = 0;
        }

        @Override
        public double checksum() {
            return sum;
        }

        @Override
        public List<Integer> predictions() {
            return List.copyOf(preds);
        }
    }

    /** For [batch, seq, hidden]: argmax over the first token's hidden vector (timing only, not a real task). */
    private static final class FirstTokenArgmax extends RecordingArgmax {
    }
}
