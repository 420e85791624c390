package dev.nps.coordinator;

import dev.nps.evaluator.ScorerOptions;
import dev.nps.evaluator.actor.Materializer;
import dev.nps.evaluator.actor.SearchData;
import dev.nps.protocol.CandidateSpec;
import dev.nps.spec.ExperimentSpec;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.kernels.subspace.SubspacePartition;
import dev.nps.experiment.Experiment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Materialization per candidate against a plain copy of the same parameter bytes, fast path
 * (RankedEntries) and scalar reference, for a FUSION candidate over every task (magnitude top-k
 * masks) and a PRUNE candidate of task 0. Not a test: run by hand (BENCHMARKS.md).
 * Args: SPEC [keep] [reps].
 */
public final class MaterializeBenchmark {
    public static void main(String[] args) {
        Experiment ex = Experiment.load(ExperimentSpec.load(Path.of(args[0])), ScorerOptions.defaults(), UnsharedPolicy.CARRY);
        double keep = args.length > 1 ? Double.parseDouble(args[1]) : 0.05;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 30;
        SearchConfig config = SearchConfig.defaults().withKeep(keep).withPartition(SubspacePartition.Kind.BAND, 2);
        List<Integer> all = IntStream.range(0, ex.taskCount()).boxed().toList();
        for (var kind : List.of(SearchKind.FUSION, SearchKind.PRUNE)) {
            SearchSetup setup = kind == SearchKind.FUSION ? SearchSetup.of(ex, kind, all) : SearchSetup.of(ex, kind, List.of(0));
            SearchData fast = NpsSearch.searchData(setup, config);
            SearchData plain = new SearchData(fast.base(), fast.taus(), fast.carried(), fast.scorer(), fast.partitions(),
                    fast.evalTasks(), fast.cost(), Map.of());
            SearchSpace space = NpsSearch.space(setup, config, fast);
            CandidateSpec spec = space.toSpec(space.x0());
            float[][] base = fast.base().flatView();
            float[][] copy = new float[base.length][];
            for (int p = 0; p < base.length; p++) {
                copy[p] = new float[base[p].length];
            }
            double copyMs = time(reps, () -> {
                for (int p = 0; p < base.length; p++) {
                    System.arraycopy(base[p], 0, copy[p], 0, base[p].length);
                }
            });
            Materializer mf = new Materializer(fast);
            Materializer mp = new Materializer(plain);
            double fastMs = time(reps, () -> mf.materialize(spec));
            double plainMs = time(reps, () -> mp.materialize(spec));
            ParameterSet a = mf.materialize(spec);
            ParameterSet b = mp.materialize(spec);
            boolean same = a.names().equals(b.names()) && a.names().stream().allMatch(n ->
                    java.util.Arrays.equals(a.get(n).data(), b.get(n).data()));
            System.out.printf("%s keep %.2f: %d params, copy %.2f ms, ranked %.2f ms (%.2fx copy), scalar %.2f ms (%.2fx copy), ranked tasks %d/%d, bit-equal %s%n",
                    kind, keep, fast.base().elementCount(), copyMs, fastMs, fastMs / copyMs, plainMs, plainMs / copyMs,
                    fast.ranked().size(), fast.partitions().size(), same);
            fast.ranked().forEach((t, e) -> System.out.printf("  task %d: %d entries stored of %d%n", t, e.storedEntries(),
                    fast.taus().get(t).elementCount()));
        }
        ex.close();
    }

    private static double time(int reps, Runnable r) {
        for (int i = 0; i < 5; i++) {
            r.run();
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best / 1e6;
    }
}
