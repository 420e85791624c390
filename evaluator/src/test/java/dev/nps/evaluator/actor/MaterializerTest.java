package dev.nps.evaluator.actor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.TaskMask;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.subspace.SubspacePartition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A candidate's materialized parameters against a brute-force mask: sort everything, keep the top k. */
class MaterializerTest {
    private static DigitsFixture fx;

    @BeforeAll
    static void load() {
        fx = new DigitsFixture();
    }

    @AfterAll
    static void close() {
        fx.close();
    }

    @ParameterizedTest
    @EnumSource(SubspacePartition.Kind.class)
    void pruneCandidatesMatchBruteForceTopK(SubspacePartition.Kind kind) {
        SubspacePartition part = fx.partition(2, 6, 0.1, kind);
        Materializer m = new Materializer(fx.data(Map.of(2, part)));
        Random rnd = new Random(11);
        for (int trial = 0; trial < 5; trial++) {
            double[] w = randomWeights(rnd, 6);
            for (boolean reweight : new boolean[] {false, true}) {
                double lambda = trial == 0 ? 1.0 : 0.25 + rnd.nextDouble();
                TaskMask tm = taskMask(2, part, w, reweight, lambda);
                ParameterSet got = m.materialize(CandidateSpec.newBuilder().addTasks(tm).build());
                float[][] want = fx.base.map(a -> a).flatView();
                bruteForceAdd(want, fx.taus.get(2).flatView(), part, w, reweight, lambda);
                assertArrayEquals(want, got.flatView(), kind + " trial " + trial + " reweight " + reweight);
            }
        }
    }

    @Test
    void fusionAddsEachTasksMaskedVectorInSpecOrder() {
        SubspacePartition p0 = fx.partition(0, 4, 0.2, SubspacePartition.Kind.BAND);
        SubspacePartition p5 = fx.partition(5, 4, 0.2, SubspacePartition.Kind.BAND);
        Materializer m = new Materializer(fx.data(Map.of(0, p0, 5, p5)));
        double[] w0 = {0.5, 1.5, 1.0, 3.0};
        double[] w5 = {2.0, 0.3, 1.1, 0.9};
        CandidateSpec spec = CandidateSpec.newBuilder()
                .addTasks(taskMask(0, p0, w0, false, 0.4))
                .addTasks(taskMask(5, p5, w5, true, 0.7))
                .build();
        float[][] want = fx.base.map(a -> a).flatView();
        bruteForceAdd(want, fx.taus.get(0).flatView(), p0, w0, false, 0.4);
        bruteForceAdd(want, fx.taus.get(5).flatView(), p5, w5, true, 0.7);
        // The buffers are reused: a different candidate first must leave no trace.
        m.materialize(CandidateSpec.newBuilder().addTasks(taskMask(5, p5, w0, true, 1.9)).build());
        assertArrayEquals(want, m.materialize(spec).flatView());
        assertEquals(fx.base.names(), m.materialize(spec).names());
    }

    @Test
    void rejectsSpecsThatDoNotFitThePartition() {
        SubspacePartition part = fx.partition(1, 3, 0.1, SubspacePartition.Kind.ALL);
        Materializer m = new Materializer(fx.data(Map.of(1, part)));
        TaskMask ok = taskMask(1, part, new double[] {1, 1, 1}, false, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> m.materialize(CandidateSpec.newBuilder()
                .addTasks(ok.toBuilder().clearKept().addAllKept(ok.getKeptList().subList(1, 4))).build()));
        assertTrue(e.getMessage().contains("expected 4 kept counts"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.materialize(CandidateSpec.newBuilder()
                .addTasks(ok.toBuilder().setTask(3)).build()));
        assertTrue(e.getMessage().contains("no subspace partition"), e.getMessage());
    }

    static double[] randomWeights(Random rnd, int m) {
        double[] w = new double[m];
        for (int i = 0; i < m; i++) {
            w[i] = 0.05 + 4.95 * rnd.nextDouble();
        }
        return w;
    }

    static TaskMask taskMask(int task, SubspacePartition part, double[] w, boolean reweight, double lambda) {
        TaskMask.Builder b = TaskMask.newBuilder().setTask(task).setLambda(lambda);
        for (long k : part.maskFor(w).keptPerSubspace()) {
            b.addKept(k);
        }
        if (reweight) {
            b.addScales(1.0);
            for (double x : w) {
                b.addScales(x);
            }
        }
        return b.build();
    }

    /**
     * out += lambda * scale * tau over the top-k entries by w_s * |tau| (ties: higher subspace,
     * then earlier entry), found by sorting every entry.
     */
    static void bruteForceAdd(float[][] out, float[][] tau, SubspacePartition part, double[] w, boolean reweight,
                              double lambda) {
        record Entry(int p, int i, int s, double r) {
        }
        List<Entry> all = new ArrayList<>();
        for (int p = 0; p < tau.length; p++) {
            for (int i = 0; i < tau[p].length; i++) {
                float a = Math.abs(tau[p][i]);
                int s = part.subspaceOf(a);
                all.add(new Entry(p, i, s, (s == 0 ? 1.0 : w[s - 1]) * a));
            }
        }
        all.sort(Comparator.comparingDouble(Entry::r).reversed()
                .thenComparing(Comparator.comparingInt(Entry::s).reversed())
                .thenComparingInt(Entry::p).thenComparingInt(Entry::i));
        for (int j = 0; j < part.keepCount(); j++) {
            Entry e = all.get(j);
            double f = reweight && e.s() > 0 ? lambda * w[e.s() - 1] : lambda;
            if (reweight && e.s() == 0) {
                f = lambda * 1.0;
            }
            out[e.p()][e.i()] = (float) (out[e.p()][e.i()] + f * tau[e.p()][e.i()]);
        }
    }
}
