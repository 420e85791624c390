package dev.nps.kernels.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.nps.kernels.merge.MergeMethod.Dare;
import dev.nps.kernels.merge.MergeMethod.TaskArithmetic;
import dev.nps.kernels.merge.MergeMethod.Ties;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.TopK;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The merges run in parallel slices of tensors; tensors here span several slices and the
 * coarse values make the top-k threshold fall inside long runs of ties, so each slice's share
 * of the tie budget and DARE's global indices must be right to match a plain sequential loop.
 */
class MergeSlicingTest {
    private static final int TASKS = 3;
    private static final int[] SIZES = {150_000, 5, 70_001};

    private static ParameterSet randomSet(SplittableRandom rnd, boolean coarse) {
        Map<String, FloatTensor> m = new TreeMap<>();
        for (int j = 0; j < SIZES.length; j++) {
            float[] v = new float[SIZES[j]];
            for (int i = 0; i < v.length; i++) {
                v[i] = coarse ? (rnd.nextInt(9) - 4) / 8f : (float) rnd.nextGaussian();
            }
            m.put("t" + j, new FloatTensor(new long[] {v.length}, v));
        }
        return new ParameterSet(m);
    }

    private static float[] concat(float[][] parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Sequential TIES over the flattened vectors (trimmed values given per task). */
    private static float[] tiesReference(float[] base, List<double[]> trimmed, double lambda) {
        float[] out = new float[base.length];
        for (int d = 0; d < base.length; d++) {
            double sum = 0;
            for (double[] tr : trimmed) {
                sum += tr[d];
            }
            double e = Math.signum(sum);
            double tot = 0;
            int cnt = 0;
            for (double[] tr : trimmed) {
                if (tr[d] != 0 && Math.signum(tr[d]) == e) {
                    tot += tr[d];
                    cnt++;
                }
            }
            out[d] = (float) (base[d] + lambda * (cnt > 0 ? tot / cnt : 0.0));
        }
        return out;
    }

    /** Task t after DARE's drops (unscaled), flattened. */
    private static float[] dropped(float[] tau, long seed, int t, double p) {
        float[] out = tau.clone();
        for (int d = 0; d < out.length; d++) {
            if (Dare.uniform(seed, t, d) < p) {
                out[d] = 0f;
            }
        }
        return out;
    }

    private static List<double[]> trim(List<float[]> taus, double keep, double scale) {
        List<double[]> out = new ArrayList<>();
        for (float[] tau : taus) {
            boolean[] mask = TopK.mask(new float[][] {tau}, TopK.keepCount(keep, tau.length))[0];
            double[] tr = new double[tau.length];
            for (int d = 0; d < tau.length; d++) {
                tr[d] = mask[d] ? tau[d] * scale : 0.0;
            }
            out.add(tr);
        }
        return out;
    }

    @Test
    void parallelSlicesMatchASequentialLoop() {
        SplittableRandom rnd = new SplittableRandom(2024);
        ParameterSet base = randomSet(rnd, false);
        List<ParameterSet> taus = new ArrayList<>();
        for (int t = 0; t < TASKS; t++) {
            taus.add(randomSet(rnd, true));
        }
        float[] b = concat(base.flatView());
        List<float[]> flat = taus.stream().map(s -> concat(s.flatView())).toList();

        for (double keep : new double[] {0.1, 0.5, 0.9}) {
            float[] want = tiesReference(b, trim(flat, keep, 1.0), 1.3);
            assertArrayEquals(want, concat(new Ties(keep, 1.3).merge(base, taus).flatView()), "ties keep " + keep);
        }

        double p = 0.4;
        long seed = 99;
        List<float[]> drop = new ArrayList<>();
        for (int t = 0; t < TASKS; t++) {
            drop.add(dropped(flat.get(t), seed, t, p));
        }
        float[] wantDareTies = tiesReference(b, trim(drop, 0.3, 1 / (1 - p)), 0.8);
        assertArrayEquals(wantDareTies, concat(new Dare(p, seed, new Ties(0.3, 0.8)).merge(base, taus).flatView()));

        float[] wantDareTa = new float[b.length];
        for (int d = 0; d < b.length; d++) {
            double sum = 0;
            for (float[] dt : drop) {
                sum += dt[d] * (1 / (1 - p));
            }
            wantDareTa[d] = (float) (b[d] + 0.6 * sum);
        }
        assertArrayEquals(wantDareTa, concat(new Dare(p, seed, new TaskArithmetic(0.6)).merge(base, taus).flatView()));
    }
}
