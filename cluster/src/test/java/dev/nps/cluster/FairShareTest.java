package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The slot scheduler's arithmetic: water-filling by weight under caps and demands, and whole slots from it. */
class FairShareTest {
    private static final int ALL = Integer.MAX_VALUE / 4;

    @Test
    void equalWeightsSplitEqually() {
        assertArrayEquals(new double[] {1, 1, 1, 1}, FairShare.fluid(4, new double[] {1, 1, 1, 1}, new int[] {4, 4, 4, 4}), 1e-12);
        assertArrayEquals(new double[] {2, 2}, FairShare.fluid(4, new double[] {1, 1}, new int[] {ALL, ALL}), 1e-12);
    }

    @Test
    void weightsSplitInProportion() {
        assertArrayEquals(new double[] {2, 2 / 3.0, 2 / 3.0, 2 / 3.0},
                FairShare.fluid(4, new double[] {3, 1, 1, 1}, new int[] {4, 4, 4, 4}), 1e-12);
    }

    @Test
    void whatARunCannotUseGoesToTheOthersByWeight() {
        // Run 0 can use one slot only (cap or demand): the other three split 7 by 2:1.
        double[] f = FairShare.fluid(8, new double[] {5, 2, 1}, new int[] {1, ALL, ALL});
        assertArrayEquals(new double[] {1, 14 / 3.0, 7 / 3.0}, f, 1e-12);
        // Everyone wants less than there is: all get what they want, slots stay free.
        assertArrayEquals(new double[] {1, 2}, FairShare.fluid(8, new double[] {1, 1}, new int[] {1, 2}), 1e-12);
        // A run with no demand gets nothing.
        assertArrayEquals(new double[] {0, 4}, FairShare.fluid(4, new double[] {1, 1}, new int[] {0, 4}), 1e-12);
    }

    @Test
    void sharesNeverExceedLimitsAndSumToWhatCanBeUsed() {
        java.util.Random rnd = new java.util.Random(3);
        for (int trial = 0; trial < 2000; trial++) {
            int k = 1 + rnd.nextInt(6);
            int n = rnd.nextInt(20);
            double[] w = new double[k];
            int[] lim = new int[k];
            long limitSum = 0;
            for (int i = 0; i < k; i++) {
                w[i] = 0.1 + rnd.nextInt(5);
                lim[i] = rnd.nextInt(10);
                limitSum += lim[i];
            }
            double[] f = FairShare.fluid(n, w, lim);
            double sum = 0;
            for (int i = 0; i < k; i++) {
                assertTrue(f[i] >= -1e-9 && f[i] <= lim[i] + 1e-9, "share above limit");
                sum += f[i];
            }
            assertEquals(Math.min(n, limitSum), sum, 1e-6);
            // Max-min by weight: a run below its limit has at least the normalized share of any other run.
            for (int i = 0; i < k; i++) {
                if (f[i] < lim[i] - 1e-9) {
                    for (int j = 0; j < k; j++) {
                        assertTrue(f[i] / w[i] >= f[j] / w[j] - 1e-9, "run " + i + " is held below another's level");
                    }
                }
            }
            int[] t = FairShare.targets(f, new double[k], new boolean[k], 0);
            int given = 0;
            for (int i = 0; i < k; i++) {
                assertTrue(t[i] == Math.floor(f[i] + 1e-9) || t[i] == Math.floor(f[i] + 1e-9) + 1);
                assertTrue(t[i] <= lim[i]);
                given += t[i];
            }
            assertEquals(Math.min(n, limitSum), given);
        }
    }

    @Test
    void extrasGoToTheRunsFurthestBehindAndStayUntilAnotherIsAQuantumFurther() {
        double[] f = {2, 2 / 3.0, 2 / 3.0, 2 / 3.0};
        // Two extra slots among three runs of share 2/3: the two furthest behind.
        assertArrayEquals(new int[] {2, 0, 1, 1}, FairShare.targets(f, new double[] {0, 1, 3, 2}, new boolean[4], 0.5));
        // Run 1 is behind run 3 by 0.4 < the quantum: run 3 keeps its extra.
        assertArrayEquals(new int[] {2, 0, 1, 1},
                FairShare.targets(f, new double[] {0, 2.4, 3, 2}, new boolean[] {false, false, true, true}, 0.5));
        // By 0.6: it moves.
        assertArrayEquals(new int[] {2, 1, 1, 0},
                FairShare.targets(f, new double[] {0, 2.6, 3, 2}, new boolean[] {false, false, true, true}, 0.5));
    }
}
