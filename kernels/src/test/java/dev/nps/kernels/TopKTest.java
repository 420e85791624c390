package dev.nps.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.kernels.TopK.Threshold;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TopKTest {

    /** Sort-based reference: order by |x| descending, then flat index ascending; keep the first k. */
    private static boolean[][] bruteForce(float[][] v, long k) {
        List<long[]> entries = new ArrayList<>(); // {absBits, flatIndex, array, index}
        long flat = 0;
        for (int j = 0; j < v.length; j++) {
            for (int i = 0; i < v[j].length; i++) {
                entries.add(new long[] {Float.floatToRawIntBits(Math.abs(v[j][i])), flat++, j, i});
            }
        }
        entries.sort(Comparator.<long[]>comparingLong(e -> -e[0]).thenComparingLong(e -> e[1]));
        boolean[][] m = new boolean[v.length][];
        for (int j = 0; j < v.length; j++) {
            m[j] = new boolean[v[j].length];
        }
        for (int r = 0; r < k; r++) {
            long[] e = entries.get(r);
            m[(int) e[2]][(int) e[3]] = true;
        }
        return m;
    }

    private static void check(float[][] v, long k) {
        boolean[][] expected = bruteForce(v, k);
        boolean[][] got = TopK.mask(v, k);
        for (int j = 0; j < v.length; j++) {
            assertArrayEquals(expected[j], got[j], "array " + j + ", k=" + k);
        }
        // In-place masking on a copy, and per-array masking with tie quotas, agree with the mask.
        float[][] copy = deepCopy(v);
        TopK.keepTopK(copy, k);
        Threshold t = TopK.select(v, k);
        long[] quota = t.tieQuotas(v);
        long kept = 0;
        for (int j = 0; j < v.length; j++) {
            long left = quota[j];
            for (int i = 0; i < v[j].length; i++) {
                int bits = Float.floatToRawIntBits(v[j][i]) & 0x7fffffff;
                boolean keep = bits > t.absBits() || (bits == t.absBits() && left-- > 0);
                assertEquals(expected[j][i], keep, "quota mask at " + j + "," + i + ", k=" + k);
                assertEquals(expected[j][i] ? v[j][i] : 0f, copy[j][i], "in place at " + j + "," + i);
                if (t.allTiesKept()) {
                    assertEquals(expected[j][i], t.keeps(v[j][i]));
                }
                kept += keep ? 1 : 0;
            }
        }
        assertEquals(k, kept);
        // The sampled single-pass path, when its bracket holds, agrees exactly with the radix path.
        long n = TopK.size(v);
        if (k > 0) {
            for (int sampleSize : new int[] {1, 4, 64}) {
                Threshold sampled = TopK.selectSampled(v, n, k, sampleSize);
                if (sampled != null) {
                    assertEquals(TopK.selectRadix(v, n, k), sampled, "sampled, k=" + k);
                }
            }
        }
    }

    private static float[][] deepCopy(float[][] v) {
        float[][] c = new float[v.length][];
        for (int j = 0; j < v.length; j++) {
            c[j] = v[j].clone();
        }
        return c;
    }

    private static float[][] randomArrays(SplittableRandom rnd, int arrays, int maxLen, float[] palette) {
        float[][] v = new float[arrays][];
        for (int j = 0; j < arrays; j++) {
            v[j] = new float[rnd.nextInt(maxLen + 1)];
            for (int i = 0; i < v[j].length; i++) {
                v[j][i] = palette != null ? palette[rnd.nextInt(palette.length)] : (float) rnd.nextGaussian();
            }
        }
        return v;
    }

    @Test
    void matchesBruteForceOnRandomArraysWithTies() {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] palette = {0f, -0f, 1f, -1f, 0.5f, -0.5f, 2f, 1e-30f, -1e-30f, Float.MIN_VALUE, 3.25f, -3.25f};
        for (int trial = 0; trial < 300; trial++) {
            float[][] v = randomArrays(rnd, 1 + rnd.nextInt(5), 40, trial % 2 == 0 ? palette : null);
            long n = TopK.size(v);
            check(v, 0);
            check(v, n);
            if (n > 0) {
                check(v, 1 + rnd.nextLong(n));
                check(v, 1 + rnd.nextLong(n));
            }
        }
    }

    @Test
    void everyKOnAllEqualValues() {
        float[][] v = {{2f, -2f}, {}, {2f, 2f, -2f}};
        for (int k = 0; k <= 5; k++) {
            check(v, k);
        }
        Threshold t = TopK.select(v, 3);
        assertEquals(new Threshold(2f, 3, 5), t);
        assertArrayEquals(new long[] {2, 0, 1}, t.tieQuotas(v));
    }

    @Test
    void zerosAndNegativeZerosAreTies() {
        float[][] v = {{0f, -0f, 0f}, {-0f, 1f}};
        check(v, 3);
        boolean[][] m = TopK.mask(v, 3);
        assertArrayEquals(new boolean[] {true, true, false}, m[0]);
        assertArrayEquals(new boolean[] {false, true}, m[1]);
        assertEquals(new Threshold(0f, 2, 4), TopK.select(v, 3));
    }

    @Test
    void wideValueRangeAcrossAllBuckets() {
        // Random bit patterns cover every exponent, subnormals and infinities (but not NaN).
        SplittableRandom rnd = new SplittableRandom(11);
        float[][] v = new float[3][5000];
        for (float[] a : v) {
            for (int i = 0; i < a.length; i++) {
                float x;
                do {
                    x = Float.intBitsToFloat(rnd.nextInt());
                } while (Float.isNaN(x));
                a[i] = x;
            }
        }
        v[1][17] = Float.POSITIVE_INFINITY;
        v[2][3] = Float.NEGATIVE_INFINITY;
        for (long k : new long[] {0, 1, 2, 3, 100, 7499, 15000}) {
            check(v, k);
        }
        assertEquals(new Threshold(Float.POSITIVE_INFINITY, 0, 2), TopK.select(v, 0));
        assertEquals(new Threshold(Float.POSITIVE_INFINITY, 1, 2), TopK.select(v, 1));
    }

    @Test
    void manyNearbyValuesInOneHighBucket() {
        // Values that share their top 16 bits force the second pass to do the real work.
        SplittableRandom rnd = new SplittableRandom(3);
        float[][] v = new float[2][20000];
        int base = Float.floatToRawIntBits(1.0f);
        for (float[] a : v) {
            for (int i = 0; i < a.length; i++) {
                float x = Float.intBitsToFloat(base + rnd.nextInt(1 << 15));
                a[i] = rnd.nextBoolean() ? x : -x;
            }
        }
        for (long k : new long[] {1, 2, 999, 20000, 39999, 40000}) {
            check(v, k);
        }
    }

    @Test
    void sampledPathOnLargeInputs() {
        SplittableRandom rnd = new SplittableRandom(5);
        float[][] v = new float[7][];
        for (int j = 0; j < v.length; j++) {
            v[j] = new float[j == 3 ? 0 : 150_000 + rnd.nextInt(300_000)];
            for (int i = 0; i < v[j].length; i++) {
                v[j][i] = (float) (rnd.nextGaussian() * 1e-3);
            }
        }
        long n = TopK.size(v);
        assertTrue(n >= TopK.SAMPLED_MIN_SIZE);
        v[5][10] = -0f;
        for (long k : new long[] {1, 2, 17, n / 10, TopK.keepCount(0.33, n), n / 2, n - 1, n}) {
            Threshold sampled = TopK.selectSampled(v, n, k, TopK.SAMPLE_SIZE);
            assertTrue(sampled != null, "the sample should bracket k=" + k);
            assertEquals(TopK.selectRadix(v, n, k), sampled);
            assertEquals(sampled, TopK.select(v, k));
        }
        // Heavy ties: the bracket would hold most entries, so it gives up and the radix path answers.
        float[][] ties = {new float[1 << 21]};
        Arrays.fill(ties[0], 0, 1000, 5f);
        Arrays.fill(ties[0], 1000, ties[0].length, -1f);
        assertEquals(null, TopK.selectSampled(ties, ties[0].length, 5000, TopK.SAMPLE_SIZE));
        assertEquals(new Threshold(1f, 4000, ties[0].length - 1000), TopK.select(ties, 5000));
        boolean[][] m = TopK.mask(ties, 5000);
        for (int i = 0; i < ties[0].length; i++) {
            assertEquals(i < 5000, m[0][i]);
        }
    }

    @Test
    void emptyInput() {
        assertEquals(new Threshold(Float.POSITIVE_INFINITY, 0, 0), TopK.select(new float[0][], 0));
        check(new float[][] {{}, {}}, 0);
    }

    @Test
    void refusesBadKAndNaN() {
        float[][] v = {{1f, 2f}};
        assertEquals("top-k: k must be in [0, 2], got 3",
                assertThrows(IllegalArgumentException.class, () -> TopK.select(v, 3)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> TopK.select(v, -1));
        float[][] nan = {{1f}, {2f, Float.NaN}};
        assertEquals("top-k: NaN at flat index 2",
                assertThrows(IllegalArgumentException.class, () -> TopK.select(nan, 1)).getMessage());
        // A NaN payload that shares infinity's top bits is still found.
        float[][] lowNaN = {{Float.POSITIVE_INFINITY, Float.intBitsToFloat(0x7f800001)}};
        assertThrows(IllegalArgumentException.class, () -> TopK.select(lowNaN, 1));
    }

    @Test
    void keepCountIsCeilOfKeepTimesN() {
        assertEquals(1, TopK.keepCount(0.1, 1));
        assertEquals(10, TopK.keepCount(0.1, 100));
        assertEquals(34, TopK.keepCount(0.333, 100));
        assertEquals(33, TopK.keepCount(0.33, 100)); // 0.33 * 100 == 33.0 exactly in double
        assertEquals(100, TopK.keepCount(1.0, 100));
        assertEquals(0, TopK.keepCount(0.5, 0));
        // ceil is taken of the double product, as Python's math.ceil(keep * n) does.
        assertEquals((long) Math.ceil(0.7 * 10), TopK.keepCount(0.7, 10));
        assertTrue(TopK.keepCount(1e-9, 3_000_000_000L) >= 3);
        assertEquals("keep must be in (0, 1], got 0.0",
                assertThrows(IllegalArgumentException.class, () -> TopK.keepCount(0, 10)).getMessage());
        assertEquals("keep must be in (0, 1], got 1.5",
                assertThrows(IllegalArgumentException.class, () -> TopK.keepCount(1.5, 10)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> TopK.keepCount(Double.NaN, 10));
    }
}
