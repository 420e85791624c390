package dev.nps.storage.sparse;

import dev.nps.storage.StorageException;

/**
 * Elias-Fano code for k strictly increasing indices in [0, n). With l = floor(log2(n/k)) each
 * index x is split into its low l bits, packed back to back, and its high part x >>> l, stored
 * in unary: the i-th index sets bit (x >>> l) + i of the upper bit string. The upper string
 * is k + ceil(n / 2^l) bits long, which is at most 3k and makes the whole code at most
 * k * (2 + ceil(log2(n/k))) bits: within 2 bits per index of the information-theoretic bound.
 *
 * <p>Both bit strings are little-endian: bit b lives in word b / 64 at bit b % 64, and
 * serialise to bytes in that order (bit b is bit b % 8 of byte b / 8).
 */
final class EliasFano {
    private EliasFano() {
    }

    /**
     * An encoded index list.
     *
     * @param lower k * lowBits bits: the low bits of index i at bit offset i * lowBits
     * @param upper {@link #upperBitCount} bits: one 1 per index, one 0 per high-part step
     */
    record Encoded(long n, long k, int lowBits, long[] lower, long[] upper) {
        long lowerBitCount() {
            return k * lowBits;
        }

        long upperBitCount() {
            return EliasFano.upperBitCount(n, k, lowBits);
        }

        long bitCount() {
            return lowerBitCount() + upperBitCount();
        }

        /** Bytes on disk: each bit string is padded to whole bytes. */
        long byteCount() {
            return bytes(lowerBitCount()) + bytes(upperBitCount());
        }
    }

    /** l = floor(log2(n / k)); 0 when k is 0 (nothing is stored). */
    static int lowBits(long n, long k) {
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("k=" + k + " is not in [0, n=" + n + "]");
        }
        if (k == 0) {
            return 0;
        }
        // floor(log2(floor(n/k))) == floor(log2(n/k)) for integers.
        return 63 - Long.numberOfLeadingZeros(n / k);
    }

    /** k + ceil(n / 2^l): room for every possible high part, so the size depends on n and k only. */
    static long upperBitCount(long n, long k, int lowBits) {
        return k == 0 ? 0 : k + ((n - 1) >>> lowBits) + 1;
    }

    static long bytes(long bits) {
        return (bits + 7) >>> 3;
    }

    static int words(long bits, String what) {
        long w = (bits + 63) >>> 6;
        if (w > Integer.MAX_VALUE - 8) {
            throw new StorageException(what + " needs " + bits + " bits, more than one Java array holds");
        }
        return (int) w;
    }

    static Encoded encode(long[] indices, long n) {
        long k = indices.length;
        int l = lowBits(n, k);
        long[] lower = new long[words(k * l, "Elias-Fano lower bits")];
        long[] upper = new long[words(upperBitCount(n, k, l), "Elias-Fano upper bits")];
        long mask = (1L << l) - 1;
        long prev = -1;
        for (int i = 0; i < indices.length; i++) {
            long x = indices[i];
            if (x <= prev || x >= n) {
                throw new IllegalArgumentException("index " + x + " at position " + i + " is not increasing within [0, " + n + ")");
            }
            prev = x;
            if (l > 0) {
                putBits(lower, (long) i * l, l, x & mask);
            }
            long u = (x >>> l) + i;
            upper[(int) (u >>> 6)] |= 1L << u;
        }
        return new Encoded(n, k, l, lower, upper);
    }

    /** The indices, checking that the code is canonical: exactly k ones, increasing values below n, zero padding. */
    static long[] decode(Encoded e) {
        long n = e.n();
        int k = Math.toIntExact(e.k());
        int l = e.lowBits();
        if (l != lowBits(n, k)) {
            throw new StorageException("corrupt index section: " + l + " low bits, expected " + lowBits(n, k) + " for n=" + n + ", k=" + k);
        }
        long upperBits = e.upperBitCount();
        long[] upper = e.upper();
        long[] lower = e.lower();
        if (upper.length != words(upperBits, "upper") || lower.length != words(e.lowerBitCount(), "lower")) {
            throw new IllegalArgumentException("word arrays do not match n=" + n + ", k=" + k);
        }
        long[] out = new long[k];
        int i = 0;
        long prev = -1;
        for (int w = 0; w < upper.length; w++) {
            long word = upper[w];
            while (word != 0) {
                long pos = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                word &= word - 1;
                if (pos >= upperBits) {
                    throw new StorageException("corrupt index section: non-zero padding after the Elias-Fano upper bits");
                }
                if (i == k) {
                    throw new StorageException("corrupt index section: more than k=" + k + " indices in the Elias-Fano upper bits");
                }
                long x = ((pos - i) << l) | (l == 0 ? 0 : getBits(lower, (long) i * l, l));
                if (x <= prev || x >= n) {
                    throw new StorageException("corrupt index section: index #" + i + " = " + x
                            + (x >= n ? " is not below n=" + n : " does not increase (previous " + prev + ")"));
                }
                out[i++] = prev = x;
            }
        }
        if (i != k) {
            throw new StorageException("corrupt index section: " + i + " indices in the Elias-Fano upper bits, header says k=" + k);
        }
        long lowerBits = e.lowerBitCount();
        if (lowerBits % 64 != 0 && (lower[lower.length - 1] >>> (lowerBits % 64)) != 0) {
            throw new StorageException("corrupt index section: non-zero padding after the Elias-Fano lower bits");
        }
        return out;
    }

    /** Writes the low {@code width} (1..63) bits of {@code v} at bit offset {@code at}. */
    private static void putBits(long[] words, long at, int width, long v) {
        int w = (int) (at >>> 6);
        int s = (int) (at & 63);
        words[w] |= v << s;
        if (s + width > 64) {
            words[w + 1] |= v >>> (64 - s);
        }
    }

    private static long getBits(long[] words, long at, int width) {
        int w = (int) (at >>> 6);
        int s = (int) (at & 63);
        long v = words[w] >>> s;
        if (s + width > 64) {
            v |= words[w + 1] << (64 - s);
        }
        return v & ((1L << width) - 1);
    }
}
