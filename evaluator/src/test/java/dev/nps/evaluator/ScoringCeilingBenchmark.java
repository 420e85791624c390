package dev.nps.evaluator;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The scoring ceiling (not a test; numbers go to BENCHMARKS.md): bare ONNX Runtime sessions over the
 * graph with its embedded (fixed) weights, optimization level ALL, spinning off, E sessions in parallel
 * with T intra-op threads each, every session scoring the whole dataset in batches of B, repeated for
 * about {@code --seconds}. Prints calibration samples per second over all sessions, for each E x T x B given.
 *
 * <pre>
 * java ... ScoringCeilingBenchmark --graph G.onnx --data D.safetensors --output NAME [--batches 50,100,200]
 *     [--plans 1x1,2x1,1x2] [--seconds 5]
 * </pre>
 */
public final class ScoringCeilingBenchmark {

    public static void main(String[] args) throws Exception {
        Map<String, String> a = dev.nps.evaluator.bench.FeedModeBenchmark.parseArgs(args);
        Path graph = Path.of(a.get("graph"));
        Path data = Path.of(a.get("data"));
        String output = a.get("output");
        double seconds = Double.parseDouble(a.getOrDefault("seconds", "5"));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        System.out.printf(Locale.ROOT, "graph %s; data %s; %d cores%n", graph, data, Runtime.getRuntime().availableProcessors());
        for (String b : a.getOrDefault("batches", "100").split(",")) {
            int batch = Integer.parseInt(b);
            for (String plan : a.getOrDefault("plans", "1x1,2x1,1x2").split(",")) {
                int evaluators = Integer.parseInt(plan.split("x")[0]);
                int threads = Integer.parseInt(plan.split("x")[1]);
                ExecutorService pool = Executors.newFixedThreadPool(evaluators);
                List<Future<long[]>> runs = new ArrayList<>();
                for (int e = 0; e < evaluators; e++) {
                    runs.add(pool.submit(() -> {
                        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                             Dataset d = Dataset.open(data, batch)) {
                            so.setIntraOpNumThreads(threads);
                            so.setInterOpNumThreads(1);
                            so.addConfigEntry("session.intra_op.allow_spinning", "0");
                            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                            try (OrtSession s = env.createSession(graph.toString(), so)) {
                                Set<String> input = s.getInputNames(); // every graph input the data holds (MiniLM: ids and mask)
                                for (int w = 0; w < d.batchCount(); w++) { // warm-up pass
                                    run(s, input, d.batch(w), output);
                                }
                                long samples = 0;
                                long t0 = System.nanoTime();
                                while (System.nanoTime() - t0 < seconds * 1e9) {
                                    for (int i = 0; i < d.batchCount(); i++) {
                                        Batch bt = d.batch(i);
                                        run(s, input, bt, output);
                                        samples += bt.count();
                                    }
                                }
                                return new long[] {samples, System.nanoTime() - t0};
                            }
                        }
                    }));
                }
                double rate = 0;
                try {
                    for (Future<long[]> f : runs) {
                        long[] r = f.get();
                        rate += r[0] / (r[1] / 1e9);
                    }
                } finally {
                    pool.shutdownNow(); // a failed session must not leave the JVM waiting on idle workers
                }
                System.out.printf(Locale.ROOT, "batch %4d  evaluators %d x threads %d: %.0f samples/s%n", batch, evaluators, threads, rate);
            }
        }
    }

    private static void run(OrtSession s, Set<String> inputs, Batch b, String output) throws Exception {
        Map<String, OnnxTensor> feed = new java.util.HashMap<>();
        inputs.forEach(name -> feed.put(name, b.inputs().get(name)));
        try (OrtSession.Result r = s.run(feed, Set.of(output))) {
            r.get(0);
        }
    }
}
