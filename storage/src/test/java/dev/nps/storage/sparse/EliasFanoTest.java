package dev.nps.storage.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.storage.StorageException;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class EliasFanoTest {

    /** ceil(log2(n/k)) exactly: the smallest c with k * 2^c >= n. */
    static int ceilLog2Ratio(long n, long k) {
        // ceil(n / 2^(c+1)) == ceil(ceil(n / 2^c) / 2), so halve with rounding up until it fits k.
        int c = 0;
        for (long m = n; m > k; m = (m >>> 1) + (m & 1)) {
            c++;
        }
        return c;
    }

    private static EliasFano.Encoded roundTrip(long[] indices, long n) {
        EliasFano.Encoded e = EliasFano.encode(indices, n);
        assertArrayEquals(indices, EliasFano.decode(e), "n=" + n + " k=" + indices.length);
        long k = indices.length;
        if (k > 0) {
            long bound = k * (2 + ceilLog2Ratio(n, k));
            assertTrue(e.bitCount() <= bound, "n=" + n + " k=" + k + ": " + e.bitCount() + " bits > bound " + bound);
        } else {
            assertEquals(0, e.bitCount());
        }
        return e;
    }

    /** k distinct sorted indices in [0, n), uniformly chosen (Floyd's algorithm via a sorted sample). */
    static long[] sample(SplittableRandom rnd, long n, int k) {
        java.util.HashSet<Long> s = new java.util.HashSet<>();
        for (long j = n - k; j < n; j++) {
            long t = rnd.nextLong(j + 1);
            s.add(s.contains(t) ? j : t);
        }
        return s.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    @Test
    void emptyAndTinyLists() {
        roundTrip(new long[0], 0);
        roundTrip(new long[0], 1_000_000);
        roundTrip(new long[] {0}, 1);
        roundTrip(new long[] {0}, 2);
        roundTrip(new long[] {1}, 2);
        roundTrip(new long[] {0, 1}, 2);
        assertEquals(0, EliasFano.lowBits(0, 0));
        assertEquals(0, EliasFano.lowBits(5, 5));
        assertEquals(4, EliasFano.lowBits(1_000_000, 50_000));
    }

    @Test
    void denseListsUseNoLowBits() {
        for (int n : new int[] {1, 7, 64, 65, 1000}) {
            EliasFano.Encoded e = roundTrip(LongStream.range(0, n).toArray(), n);
            assertEquals(0, e.lowBits());
            assertEquals(2L * n, e.upperBitCount()); // gaps of 1: one 1 and one 0 per index
        }
        // Every other index: n/k = 2, one low bit.
        assertEquals(1, roundTrip(LongStream.range(0, 500).map(i -> 2 * i).toArray(), 1000).lowBits());
    }

    @Test
    void firstAndLastPositionsAndHighBoundaries() {
        long big = (1L << 31) + 5;
        roundTrip(new long[] {0}, big);
        roundTrip(new long[] {big - 1}, big);
        roundTrip(new long[] {0, big - 1}, big);
        roundTrip(new long[] {0, 1, 2, big - 3, big - 2, big - 1}, big);
        long huge = 1L << 40;
        roundTrip(new long[] {huge - 1}, huge);
        roundTrip(new long[] {0, 1L << 35, huge - 1}, huge);
        long max = Long.MAX_VALUE;
        roundTrip(new long[] {0, max - 1}, max);
        // Indices straddling 64-bit word boundaries of the lower bits (l = 3, 21.3 per word).
        roundTrip(LongStream.range(0, 200).map(i -> 9 * i + (i % 9)).toArray(), 1800);
    }

    @Test
    void randomListsOverManyDensities() {
        SplittableRandom rnd = new SplittableRandom(42);
        long[] ns = {1, 2, 3, 100, 1000, 4096, 65_537, 1_000_000, (1L << 31) + 11};
        double[] densities = {1e-6, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.9, 1.0};
        for (long n : ns) {
            for (double d : densities) {
                int k = (int) Math.min(Math.min(n, 50_000), Math.ceil(d * n));
                if (k == n && n > 1_000_000) {
                    continue;
                }
                roundTrip(sample(rnd, n, k), n);
            }
        }
    }

    @Test
    void mixedGapsOfZeroOneAndLarge() {
        // Runs of consecutive indices (gap 1, high part repeats: "gap 0" in the upper bits) then long jumps.
        long[] idx = LongStream.concat(LongStream.concat(LongStream.range(0, 100), LongStream.range(50_000, 50_100)),
                LongStream.of(999_998, 999_999)).toArray();
        roundTrip(idx, 1_000_000);
    }

    @Test
    void encoderRefusesUnsortedDuplicateOrOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> EliasFano.encode(new long[] {3, 3}, 10));
        assertThrows(IllegalArgumentException.class, () -> EliasFano.encode(new long[] {4, 3}, 10));
        assertThrows(IllegalArgumentException.class, () -> EliasFano.encode(new long[] {10}, 10));
        assertThrows(IllegalArgumentException.class, () -> EliasFano.encode(new long[] {-1}, 10));
    }

    @Test
    void decoderRefusesNonCanonicalCodes() {
        long[] idx = {1, 5, 9, 900};
        EliasFano.Encoded good = EliasFano.encode(idx, 1000);
        // An extra 1 inside the upper bits: more than k indices.
        long[] upper = good.upper().clone();
        int free = Long.numberOfTrailingZeros(~upper[0]);
        upper[0] |= 1L << free;
        StorageException e = assertThrows(StorageException.class, () -> EliasFano.decode(withUpper(good, upper)));
        assertTrue(e.getMessage().startsWith("corrupt index section"), e.getMessage());
        // A missing 1: fewer than k.
        long[] missing = good.upper().clone();
        missing[0] &= missing[0] - 1;
        e = assertThrows(StorageException.class, () -> EliasFano.decode(withUpper(good, missing)));
        assertTrue(e.getMessage().startsWith("corrupt index section"), e.getMessage());
        // Dropping the last 1 instead leaves k - 1 valid indices.
        long[] last = good.upper().clone();
        int w = last.length - 1;
        while (last[w] == 0) {
            w--;
        }
        last[w] &= ~Long.highestOneBit(last[w]);
        e = assertThrows(StorageException.class, () -> EliasFano.decode(withUpper(good, last)));
        assertEquals("corrupt index section: 3 indices in the Elias-Fano upper bits, header says k=4", e.getMessage());
        // A set padding bit after the last lower bit.
        long[] lower = good.lower().clone();
        lower[lower.length - 1] |= 1L << 63;
        e = assertThrows(StorageException.class, () -> EliasFano.decode(new EliasFano.Encoded(1000, 4, good.lowBits(), lower, good.upper())));
        assertTrue(e.getMessage().contains("padding"), e.getMessage());
        // A set bit past the upper string's announced length.
        long[] pad = good.upper().clone();
        pad[pad.length - 1] |= 1L << 63;
        e = assertThrows(StorageException.class, () -> EliasFano.decode(withUpper(good, pad)));
        assertTrue(e.getMessage().contains("padding"), e.getMessage());
    }

    private static EliasFano.Encoded withUpper(EliasFano.Encoded e, long[] upper) {
        return new EliasFano.Encoded(e.n(), e.k(), e.lowBits(), e.lower(), upper);
    }

    @Test
    void sizeIsNearTheInformationBound() {
        long n = 1_000_000;
        int k = 50_000;
        EliasFano.Encoded e = roundTrip(sample(new SplittableRandom(7), n, k), n);
        assertEquals(4, e.lowBits());
        assertEquals(200_000, e.lowerBitCount());
        assertEquals(50_000 + 62_500, e.upperBitCount());
        assertEquals(SparseTaskVector.indexBits(n, k), e.bitCount());
        // log2(C(n, k)) = about 50k * 5.73 bits: EF (6.25) is about half a bit per index above it.
        double perIndex = (double) e.bitCount() / k;
        assertTrue(perIndex < 2 + Math.log(20) / Math.log(2), "bits per index " + perIndex);
        assertEquals(25_000 + 14_063, e.byteCount());
    }
}
