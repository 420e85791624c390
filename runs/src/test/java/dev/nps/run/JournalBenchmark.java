package dev.nps.run;

import dev.nps.cmaes.CmaEs;
import dev.nps.cmaes.CmaEsOptions;
import dev.nps.protocol.GenerationKept;
import dev.nps.protocol.GenerationRecord;
import dev.nps.protocol.RunOpened;
import dev.nps.protocol.SearchCheckpoint;
import dev.nps.protocol.SearchCounters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * By hand (BENCHMARKS.md, "Durable runs"): journal bytes per generation and recovery time against
 * generations kept, for a search of the default shape (M = 8 subspaces: CMA-ES dimension 9,
 * population 10), on H2 and, when NPS_TEST_POSTGRES_URL is set, PostgreSQL.
 *
 * <pre>{@code
 * java ... -cp <runs test classpath> dev.nps.run.JournalBenchmark /tmp/journal-bench
 * }</pre>
 */
public final class JournalBenchmark {
    private JournalBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/nps-journal-bench");
        for (int generations : new int[] {20, 200, 2000}) {
            Path folder = dir.resolve("h2-" + generations);
            measure("H2", JournalStore.h2(folder), generations, () -> size(folder));
            long before = size(folder);
            JournalStore.h2(folder).compact();
            System.out.printf(Locale.ROOT, "H2 %d generations: file %d B, compacted %d B (%.0f B/gen)%n", generations, before,
                    size(folder), size(folder) / (double) generations);
        }
        String url = System.getenv("NPS_TEST_POSTGRES_URL");
        if (url != null) {
            for (int generations : new int[] {20, 200, 2000}) {
                JournalStore pg = new JournalStore.Postgres(url, System.getenv("NPS_TEST_POSTGRES_USER"),
                        System.getenv("NPS_TEST_POSTGRES_PASSWORD"), "bench_" + generations + "_" + System.nanoTime() % 100000);
                measure("PostgreSQL", pg, generations, () -> -1);
            }
        }
    }

    private static void measure(String name, JournalStore store, int generations, java.util.function.LongSupplier bytes) {
        store.migrate();
        RunOpened opened = RunOpened.newBuilder().setFingerprint("b".repeat(64)).setDescription("bench").build();
        List<GenerationKept> events = events(generations);
        long before = bytes.getAsLong();
        long t0 = System.nanoTime();
        try (LocalRun run = LocalRun.open(store.pekkoConfig(), "bench", opened)) {
            for (GenerationKept g : events) {
                run.keep(g);
            }
            run.end(dev.nps.protocol.RunStatus.RUN_SUCCEEDED, "");
        }
        double writeMs = (System.nanoTime() - t0) / 1e6;
        long after = bytes.getAsLong();
        long t1 = System.nanoTime();
        int kept;
        try (LocalRun run = LocalRun.open(store.pekkoConfig(), "bench", opened)) {
            kept = run.run().atOpen().generationsKept();
        }
        double recoverMs = (System.nanoTime() - t1) / 1e6;
        System.out.printf(Locale.ROOT, "%-10s %5d generations: event %d B (protobuf), file %s, write %.0f ms (%.2f ms/gen),"
                        + " open+recover %.0f ms (kept %d)%n", name, generations, events.get(0).getSerializedSize(),
                after < 0 ? "n/a" : String.format(Locale.ROOT, "+%d B = %.0f B/gen", after - before,
                        (after - before) / (double) generations), writeMs, writeMs / generations, recoverMs, kept);
    }

    /** Checkpoints of a real CMA-ES run (dimension 9, default population) on a sphere. */
    private static List<GenerationKept> events(int generations) {
        CmaEs es = new CmaEs(new double[9], 0.3, CmaEsOptions.defaults(1));
        List<GenerationKept> out = new ArrayList<>();
        for (int g = 1; g <= generations; g++) {
            List<double[]> xs = es.ask();
            double[] f = xs.stream().mapToDouble(x -> java.util.Arrays.stream(x).map(v -> v * v).sum()).toArray();
            es.tell(xs.toArray(double[][]::new), f);
            GenerationRecord rec = GenerationRecord.newBuilder().setGeneration(g).addAllMean(box(es.mean())).setSigma(es.sigma())
                    .addAllSubspaceWeights(box(es.mean())).setBestAccuracy(0.9).setMeanAccuracy(0.8).addAllBest(box(es.mean()))
                    .setEvaluated(1200).build();
            SearchCheckpoint cp = SearchCheckpoint.newBuilder().setGenerationsDone(g).setCmaes(es.toProto()).addHistory(rec)
                    .addAllBestX(box(es.mean())).setBestAccuracy(0.9).setCounters(SearchCounters.newBuilder()
                            .setBatchesEvaluated(1200L * g).putBatchesByEvaluator("pekko://nps/user/evaluator-0", 600L * g)
                            .putBatchesByEvaluator("pekko://nps/user/evaluator-1", 600L * g)).build();
            out.add(GenerationKept.newBuilder().setSearch(0).setSearchKey("k".repeat(64)).setCheckpoint(cp).build());
        }
        return out;
    }

    private static List<Double> box(double[] xs) {
        return java.util.Arrays.stream(xs).boxed().toList();
    }

    private static long size(Path folder) {
        try (var files = Files.walk(folder)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
