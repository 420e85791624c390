package dev.nps.kernels.subspace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SubspacePartitionTest {

    /** Brute force: sort every entry by (reweighted magnitude desc, subspace desc, index asc). */
    private static boolean[][] reference(SubspacePartition p, float[][] tau, double[] weights) {
        record Entry(int tensor, int index, long flat, int subspace, double r) { }
        List<Entry> all = new ArrayList<>();
        long flat = 0;
        for (int t = 0; t < tau.length; t++) {
            for (int i = 0; i < tau[t].length; i++) {
                float a = Math.abs(tau[t][i]);
                int s = p.subspaceOf(a);
                double w = s == 0 ? 1.0 : weights[s - 1];
                all.add(new Entry(t, i, flat++, s, w * a));
            }
        }
        all.sort(Comparator.comparingDouble(Entry::r).reversed()
                .thenComparing(Comparator.comparingInt(Entry::subspace).reversed())
                .thenComparingLong(Entry::flat));
        boolean[][] mask = new boolean[tau.length][];
        for (int t = 0; t < tau.length; t++) {
            mask[t] = new boolean[tau[t].length];
        }
        for (int j = 0; j < p.keepCount(); j++) {
            mask[all.get(j).tensor()][all.get(j).index()] = true;
        }
        return mask;
    }

    private static float[][] randomTau(Random rnd, boolean quantized) {
        float[][] tau = new float[3][];
        int[] sizes = {37, 5, 120};
        for (int t = 0; t < 3; t++) {
            tau[t] = new float[sizes[t]];
            for (int i = 0; i < sizes[t]; i++) {
                double g = rnd.nextGaussian();
                tau[t][i] = quantized ? Math.round(g * 8) / 8f : (float) g;
            }
        }
        return tau;
    }

    @Test
    void masksMatchBruteForceForBothKinds() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            float[][] tau = randomTau(rnd, trial % 2 == 0);
            long n = 162;
            long k = 1 + rnd.nextInt((int) n);
            var kind = trial % 3 == 0 ? SubspacePartition.Kind.ALL : SubspacePartition.Kind.BAND;
            int m = 1 + rnd.nextInt(8);
            SubspacePartition p = SubspacePartition.build(tau, m, k, kind, 2.0);
            double[] w = new double[m];
            for (int s = 0; s < m; s++) {
                w[s] = trial % 5 == 0 ? 1.0 : 0.2 + 2 * rnd.nextDouble();
            }
            SubspaceMask mask = p.maskFor(w);
            assertEquals(k, mask.keptTotal(), "trial " + trial);
            boolean[][] expected = reference(p, tau, w);
            boolean[][] actual = mask.toBooleans(tau);
            for (int t = 0; t < tau.length; t++) {
                assertArrayEquals(expected[t], actual[t], "trial " + trial + " tensor " + t);
            }
        }
    }

    @Test
    void unitWeightsGiveMagnitudeTopK() {
        float[][] tau = {{0.5f, -3f, 2f, 0f}, {-2f, 1f}};
        SubspacePartition p = SubspacePartition.build(tau, 2, 3, SubspacePartition.Kind.ALL, 1);
        boolean[][] mask = p.maskFor(new double[] {1, 1}).toBooleans(tau);
        // |tau| = 0.5 3 2 0 | 2 1: the top 3 are 3, then the tie at 2 (both kept).
        assertArrayEquals(new boolean[] {false, true, true, false}, mask[0]);
        assertArrayEquals(new boolean[] {true, false}, mask[1]);
    }

    @Test
    void addMaskedAppliesLambdaAndScales() {
        float[][] tau = {{1f, -4f, 2f}};
        SubspacePartition p = SubspacePartition.build(tau, 1, 2, SubspacePartition.Kind.ALL, 1);
        float[][] out = {{10f, 10f, 10f}};
        p.maskFor(new double[] {1}).addMasked(out, tau, 0.5, new double[] {1, 3});
        assertArrayEquals(new float[] {10f, 10f - 6f, 10f + 3f}, out[0]);
    }

    @Test
    void bandPartitionPutsSearchedSubspacesNearTheThreshold() {
        Random rnd = new Random(3);
        float[][] tau = {new float[10_000]};
        for (int i = 0; i < tau[0].length; i++) {
            tau[0][i] = (float) rnd.nextGaussian();
        }
        long k = 500;
        SubspacePartition band = SubspacePartition.build(tau, 8, k, SubspacePartition.Kind.BAND, 2.0);
        assertEquals(10_000 - 1000, band.subspaceSize(0));
        for (int s = 1; s <= 8; s++) {
            assertTrue(Math.abs(band.subspaceSize(s) - 125) <= 1, "subspace " + s + " size " + band.subspaceSize(s));
        }
        // Down-weighting the top subspace must change the mask (the trap of the all-entries partition).
        long[] unit = band.maskFor(new double[] {1, 1, 1, 1, 1, 1, 1, 1}).keptPerSubspace();
        long[] moved = band.maskFor(new double[] {1, 1, 1, 1, 1, 1, 1, 0.3}).keptPerSubspace();
        assertTrue(moved[8] < unit[8]);
    }

    @Test
    void rejectsBadWeights() {
        SubspacePartition p = SubspacePartition.build(new float[][] {{1f, 2f}}, 2, 1, SubspacePartition.Kind.ALL, 1);
        assertThrows(IllegalArgumentException.class, () -> p.maskFor(new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> p.maskFor(new double[] {1, -1}));
        assertThrows(IllegalArgumentException.class, () -> p.maskFor(new double[] {1, Double.NaN}));
    }
}
