package dev.nps.kernels.subspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The ranked fast path against the scalar reference, compared bit for bit. */
class RankedEntriesTest {

    private static float[][] randomTau(Random rnd, int style) {
        int[] sizes = {rnd.nextInt(60) + 1, 0, rnd.nextInt(7) + 1, rnd.nextInt(300) + 1};
        float[][] tau = new float[sizes.length][];
        for (int t = 0; t < sizes.length; t++) {
            tau[t] = new float[sizes[t]];
            for (int i = 0; i < sizes[t]; i++) {
                double g = rnd.nextGaussian();
                tau[t][i] = switch (style) {
                    case 0 -> (float) g;
                    case 1 -> Math.round(g * 4) / 4f;                          // many ties
                    case 2 -> rnd.nextInt(4) == 0 ? (rnd.nextBoolean() ? 0f : -0f) : (float) (g * 1e-30);
                    default -> (float) (g * Math.pow(10, rnd.nextInt(60) - 30)); // tiny to huge
                };
            }
        }
        return tau;
    }

    private static float[][] randomOut(Random rnd, float[][] tau) {
        float[][] out = new float[tau.length][];
        for (int t = 0; t < tau.length; t++) {
            out[t] = new float[tau[t].length];
            for (int i = 0; i < out[t].length; i++) {
                out[t][i] = rnd.nextInt(5) == 0 ? -0f : (float) rnd.nextGaussian();
            }
        }
        return out;
    }

    /** Random kept counts with kept[s] <= min(size_s, k): every mask a search can ask for. */
    private static long[] randomKept(Random rnd, SubspacePartition p) {
        long[] kept = new long[p.subspaces() + 1];
        for (int s = 0; s < kept.length; s++) {
            long cap = Math.min(p.subspaceSize(s), p.keepCount());
            kept[s] = cap == 0 ? 0 : rnd.nextLong(cap + 1);
        }
        return kept;
    }

    private static void assertBitEqual(float[][] expected, float[][] actual, String what) {
        for (int t = 0; t < expected.length; t++) {
            for (int i = 0; i < expected[t].length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[t][i]), Float.floatToRawIntBits(actual[t][i]),
                        what + ": tensor " + t + " entry " + i);
            }
        }
    }

    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    @Test
    void fastPathEqualsReferenceBitForBit() {
        Random rnd = new Random(5);
        int fast = 0;
        for (int trial = 0; trial < 2000; trial++) {
            float[][] tau = randomTau(rnd, trial % 4);
            long n = 0;
            for (float[] t : tau) {
                n += t.length;
            }
            SubspacePartition.Kind kind = rnd.nextBoolean() ? SubspacePartition.Kind.BAND : SubspacePartition.Kind.ALL;
            int m = 1 + rnd.nextInt(10);
            long k = kind == SubspacePartition.Kind.ALL ? rnd.nextLong(Math.max(1, n / 10) + 1) : rnd.nextLong(n / 6 + 1);
            SubspacePartition p = SubspacePartition.build(tau, m, k, kind, 1.0 + rnd.nextDouble() * 2);
            // the vector masks are applied to: the partitioned one, or a sign-filtered copy (entries zeroed)
            float[][] applied = copy(tau);
            if (rnd.nextBoolean()) {
                for (float[] t : applied) {
                    for (int i = 0; i < t.length; i++) {
                        if (rnd.nextInt(3) == 0) {
                            t[i] = 0f;
                        }
                    }
                }
            }
            RankedEntries ranked = RankedEntries.build(p, applied);
            for (int c = 0; c < 5; c++) {
                SubspaceMask mask = c == 0 && k > 0 ? p.maskFor(rnd.doubles(m, 0.2, 3).toArray())
                        : p.maskFromCounts(randomKept(rnd, p));
                double lambda = rnd.nextGaussian() * 2;
                double[] scales = rnd.nextBoolean() ? null : rnd.doubles(m + 1, 0, 3).toArray();
                float[][] out = randomOut(rnd, tau);
                float[][] expected = copy(out);
                mask.addMasked(expected, applied, lambda, scales);
                mask.addMasked(out, applied, lambda, scales, ranked);
                if (ranked != null && ranked.covers(mask)) {
                    fast++;
                }
                assertBitEqual(expected, out, "trial " + trial + " mask " + c);
            }
        }
        assertTrue(fast > 5000, "the fast path ran in " + fast + " of 10000 cases");
    }

    @Test
    void masksKeepingMoreThanKInASubspaceTakeTheReferencePath() {
        float[][] tau = {{5, 4, 3, 2, 1, 0.5f, 0.25f, 0.125f}};
        SubspacePartition p = SubspacePartition.build(tau, 1, 2, SubspacePartition.Kind.ALL, 1);
        RankedEntries ranked = RankedEntries.build(p, tau);
        assertNotNull(ranked);
        assertEquals(2, ranked.storedEntries());
        SubspaceMask wide = p.maskFromCounts(new long[] {0, 3});
        assertFalse(ranked.covers(wide));
        float[][] out = {new float[8]};
        wide.addMasked(out, tau, 1.0, null, ranked);
        assertEquals(3, out[0][2]); // the reference kept the third entry
        assertEquals(0, out[0][3]);
    }

    @Test
    void anIndexLargerThanHalfTheVectorIsNotBuilt() {
        float[][] tau = {{5, 4, 3, 2, 1, 0.5f, 0.25f, 0.125f}};
        assertNull(RankedEntries.build(SubspacePartition.build(tau, 2, 7, SubspacePartition.Kind.ALL, 1), tau));
    }
}
