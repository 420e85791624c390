package dev.nps.kernels;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * Exact global top-k by absolute value over a flattened vector given as {@code float[][]}
 * (arrays concatenated in order, as {@code ParameterSet.flatView()} gives them).
 *
 * <p>Tie rule: keep every entry with {@code |x| > t} and, among entries with {@code |x| == t},
 * the first ones in flattened order until exactly {@code k} are kept, where {@code t} is the
 * k-th largest {@code |x|}. {@code -0.0} and {@code 0.0} are equal; NaN is refused.
 *
 * <p>Selection is a radix select on the IEEE bit pattern of {@code |x|} (for non-negative
 * floats the bits order like the values): a histogram of the top 16 bits, then of the low 15
 * bits within the one bucket holding the k-th value. Large inputs first try a single pass that
 * uses a small sample to bracket the answer and copies only the entries inside the bracket.
 * Expected O(n), no copy of the input, no sort of it. That pass runs in 1M-entry chunks on the
 * common fork-join pool; the result depends only on the values, never on the split.
 */
public final class TopK {
    private static final int ABS = 0x7fffffff;
    private static final int INF_BITS = 0x7f800000;
    private static final int HI_SHIFT = 15;
    private static final int LO_MASK = (1 << HI_SHIFT) - 1;
    private static final int HI_BUCKETS = 1 << 16;
    private static final int INF_BUCKET = INF_BITS >>> HI_SHIFT;

    private TopK() {
    }

    /**
     * Where the top-k boundary lies: entries with {@code |x| > magnitude} are kept, and of the
     * {@code tiesTotal} entries with {@code |x| == magnitude} the first {@code tiesKept} in
     * flattened order. For k = 0 the magnitude is +infinity and no tie is kept.
     */
    public record Threshold(float magnitude, long tiesKept, long tiesTotal) {

        public Threshold {
            if (!(magnitude >= 0) || tiesKept < 0 || tiesKept > tiesTotal) {
                throw new IllegalArgumentException("bad threshold " + magnitude + " keeping " + tiesKept + " of " + tiesTotal + " ties");
            }
        }

        /** {@code Float.floatToRawIntBits(magnitude)}: compare with {@code bits(x) & 0x7fffffff}. */
        public int absBits() {
            return Float.floatToRawIntBits(magnitude);
        }

        /** True when every entry equal to the threshold is kept, so keeping is a pure per-entry test. */
        public boolean allTiesKept() {
            return tiesKept == tiesTotal;
        }

        /** Per-entry test, valid only when {@link #allTiesKept()}. */
        public boolean keeps(float x) {
            if (!allTiesKept()) {
                throw new IllegalStateException("only some ties are kept: mask in flattened order or use tieQuotas");
            }
            return (Float.floatToRawIntBits(x) & ABS) >= absBits();
        }

        /**
         * How many of each array's ties (entries equal to the threshold) are kept: the first
         * {@code quota[j]} ties of array {@code j}. Lets arrays be masked independently (in
         * parallel) with the same result as one pass in flattened order.
         */
        public long[] tieQuotas(float[][] values) {
            long[] quota = new long[values.length];
            if (allTiesKept()) {
                Arrays.fill(quota, Long.MAX_VALUE); // every tie kept: no need to count
                return quota;
            }
            long left = tiesKept;
            int tb = absBits();
            for (int j = 0; j < values.length && left > 0; j++) {
                long eq = 0;
                for (float x : values[j]) {
                    if ((Float.floatToRawIntBits(x) & ABS) == tb) {
                        eq++;
                    }
                }
                quota[j] = Math.min(eq, left);
                left -= quota[j];
            }
            return quota;
        }

        /** Zeroes, in place, every entry of {@code values} (the array this was selected on) not in the top k. */
        public void apply(float[][] values) {
            int tb = absBits();
            if (allTiesKept()) {
                for (float[] a : values) { // no running tie count: branch-free, vectorizable
                    for (int i = 0; i < a.length; i++) {
                        int bits = Float.floatToRawIntBits(a[i]);
                        int keep = (tb - 1 - (bits & ABS)) >> 31; // all ones when |x| >= t, else 0
                        a[i] = Float.intBitsToFloat(bits & keep);
                    }
                }
                return;
            }
            long left = tiesKept;
            for (float[] a : values) {
                for (int i = 0; i < a.length; i++) {
                    int bits = Float.floatToRawIntBits(a[i]) & ABS;
                    if (bits < tb || (bits == tb && left-- <= 0)) {
                        a[i] = 0f;
                    }
                }
            }
        }

        /** The top-k mask of {@code values} (the array this was selected on). */
        public boolean[][] mask(float[][] values) {
            int tb = absBits();
            long left = tiesKept;
            boolean[][] m = new boolean[values.length][];
            for (int j = 0; j < values.length; j++) {
                float[] a = values[j];
                boolean[] mj = new boolean[a.length];
                for (int i = 0; i < a.length; i++) {
                    int bits = Float.floatToRawIntBits(a[i]) & ABS;
                    mj[i] = bits > tb || (bits == tb && left-- > 0);
                }
                m[j] = mj;
            }
            return m;
        }
    }

    /** {@code ceil(keep * n)} in double, the number of entries a keep ratio keeps. */
    public static long keepCount(double keep, long n) {
        if (!(keep > 0 && keep <= 1)) {
            throw new IllegalArgumentException("keep must be in (0, 1], got " + keep);
        }
        if (n < 0) {
            throw new IllegalArgumentException("element count must be >= 0, got " + n);
        }
        return (long) Math.ceil(keep * n);
    }

    /** Total number of entries. */
    public static long size(float[][] values) {
        long n = 0;
        for (float[] a : values) {
            n += a.length;
        }
        return n;
    }

    /** Zeroes, in place, every entry of {@code values} outside its global top k. */
    public static void keepTopK(float[][] values, long k) {
        select(values, k).apply(values);
    }

    /** The global top-k mask of {@code values}. */
    public static boolean[][] mask(float[][] values, long k) {
        return select(values, k).mask(values);
    }

    /** Finds the top-k boundary of {@code values} by absolute value in expected O(n). */
    public static Threshold select(float[][] values, long k) {
        long n = size(values);
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("top-k: k must be in [0, " + n + "], got " + k);
        }
        if (k > 0 && n >= SAMPLED_MIN_SIZE) {
            Threshold t = selectSampled(values, n, k, SAMPLE_SIZE);
            if (t != null) {
                return t;
            }
        }
        return selectRadix(values, n, k);
    }

    /** Below this size the two histogram passes run in cache and sampling does not pay. */
    static final long SAMPLED_MIN_SIZE = 1 << 20;
    static final int SAMPLE_SIZE = 1 << 14;
    private static final int BLOCK = 1 << 12;

    /**
     * One pass over the data instead of two: the abs values of a fixed pseudo-random sample
     * bracket the k-th largest in [lo, hi] with high probability; the pass counts entries above
     * hi and copies the few in [lo, hi], which are then radix-selected. Returns null (caller
     * falls back to {@link #selectRadix}) when the bracket missed, the candidates would not be
     * few (heavy ties), or a NaN was seen. The sample only affects speed, never the result.
     */
    static Threshold selectSampled(float[][] values, long n, long k, int sampleSize) {
        int s = (int) Math.min(sampleSize, n);
        int[] sample = new int[s];
        SplittableRandom rnd = new SplittableRandom(0x5DEECE66DL);
        long[] pos = new long[s];
        for (int i = 0; i < s; i++) {
            pos[i] = rnd.nextLong(n);
        }
        Arrays.sort(pos);
        int j = 0;
        long start = 0;
        for (int i = 0; i < s; i++) {
            while (pos[i] >= start + values[j].length) {
                start += values[j++].length;
            }
            sample[i] = Float.floatToRawIntBits(values[j][(int) (pos[i] - start)]) & ABS;
        }
        Arrays.sort(sample); // ascending; descending rank r is sample[s - 1 - r]
        double q = (double) k / n * s;
        double margin = 4 * Math.sqrt(q * (1 - (double) k / n)) + 8;
        long rHi = (long) Math.floor(q - margin); // descending rank bounding from above
        long rLo = (long) Math.ceil(q + margin);
        int hi = rHi < 0 ? Integer.MAX_VALUE : sample[s - 1 - (int) rHi];
        int lo = rLo >= s ? 0 : sample[s - 1 - (int) rLo];

        // Chunks are scanned in parallel; the answer depends only on the multiset of values, so
        // it does not depend on how the work was split.
        List<List<Piece>> chunks = chunks(values, CHUNK);
        // Expected candidates: (2 margin + 1) / s of the entries, at most ~3%; the budget (4x
        // that worst case) bounds memory when heavy ties put far more inside the bracket.
        double expected = (2 * margin + 1) / s;
        AtomicLong budget = new AtomicLong(Math.max(BLOCK * 64L, n / 8));
        int lo0 = lo;
        int hi0 = hi;
        Scan[] scans = IntStream.range(0, chunks.size()).parallel()
                .mapToObj(i -> scan(chunks.get(i), lo0, hi0, expected, budget))
                .toArray(Scan[]::new);
        long above = 0;
        long candidates = 0;
        for (Scan sc : scans) {
            if (sc == null || sc.max > INF_BITS) {
                return null; // too many candidates, or a NaN: the radix path handles (or reports) it
            }
            above += sc.above;
            candidates += sc.count;
        }
        if (above >= k || above + candidates < k) {
            return null;
        }
        // Radix select among the candidates: the (k - above)-th largest.
        long need = k - above;
        long[] hist = new long[HI_BUCKETS];
        for (Scan sc : scans) {
            for (int i = 0; i < sc.count; i++) {
                hist[sc.buf[i] >>> HI_SHIFT]++;
            }
        }
        int b = HI_BUCKETS - 1;
        while (hist[b] < need) {
            need -= hist[b--];
        }
        long[] low = new long[LO_MASK + 1];
        for (Scan sc : scans) {
            for (int i = 0; i < sc.count; i++) {
                if (sc.buf[i] >>> HI_SHIFT == b) {
                    low[sc.buf[i] & LO_MASK]++;
                }
            }
        }
        int lob = LO_MASK;
        while (low[lob] < need) {
            need -= low[lob--];
        }
        return new Threshold(Float.intBitsToFloat((b << HI_SHIFT) | lob), need, low[lob]);
    }

    private static final int CHUNK = 1 << 20;

    /** A slice of one array. */
    private record Piece(float[] a, int from, int to) {
    }

    /** Consecutive slices of about {@code chunk} entries in all, in flattened order. */
    private static List<List<Piece>> chunks(float[][] values, int chunk) {
        List<List<Piece>> out = new ArrayList<>();
        List<Piece> cur = new ArrayList<>();
        long size = 0;
        for (float[] a : values) {
            for (int from = 0; from < a.length; ) {
                int to = (int) Math.min(a.length, from + (chunk - size));
                cur.add(new Piece(a, from, to));
                size += to - from;
                from = to;
                if (size == chunk) {
                    out.add(cur);
                    cur = new ArrayList<>();
                    size = 0;
                }
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    /** One chunk's share: entries above the bracket, the largest abs bits seen, the candidates. */
    private record Scan(long above, int max, int[] buf, int count) {
    }

    /** Scans a chunk; null when growing its candidate buffer would exceed the shared budget. */
    private static Scan scan(List<Piece> chunk, int lo, int hi, double expected, AtomicLong budget) {
        long len = 0;
        for (Piece p : chunk) {
            len += p.to - p.from;
        }
        int initial = (int) Math.min(len + BLOCK, Math.max(BLOCK, 1.5 * expected * len + BLOCK));
        if (budget.addAndGet(-initial) < 0) {
            return null;
        }
        int width = hi - lo; // candidates: lo <= a <= hi, i.e. (a - lo) <= width unsigned
        int[] buf = new int[initial];
        int c = 0;
        long above = 0;
        int max = 0;
        for (Piece p : chunk) {
            float[] a = p.a;
            for (int from = p.from; from < p.to; from += BLOCK) {
                int to = Math.min(p.to, from + BLOCK);
                if (buf.length - c < BLOCK) {
                    if (budget.addAndGet(-buf.length) < 0) {
                        return null;
                    }
                    buf = Arrays.copyOf(buf, 2 * buf.length);
                }
                int blockAbove = 0;
                for (int i = from; i < to; i++) {
                    int bits = Float.floatToRawIntBits(a[i]) & ABS;
                    max = Math.max(max, bits);
                    blockAbove += (hi - bits) >>> 31; // 1 when bits > hi; both are non-negative
                    if (Integer.compareUnsigned(bits - lo, width) <= 0) {
                        buf[c++] = bits;
                    }
                }
                above += blockAbove;
            }
        }
        return new Scan(above, max, buf, c);
    }

    /** Two histogram passes over the data: top 16 bits of |x|, then the low 15 bits in one bucket. */
    static Threshold selectRadix(float[][] values, long n, long k) {
        long[] hist = highHistogram(values);
        checkNoNaN(values, hist);
        if (k == 0) {
            return new Threshold(Float.POSITIVE_INFINITY, 0, hist[INF_BUCKET]);
        }
        long above = 0;
        int hi = HI_BUCKETS - 1;
        while (above + hist[hi] < k) {
            above += hist[hi--];
        }
        long[] low = lowHistogram(values, hi);
        int lo = LO_MASK;
        while (above + low[lo] < k) {
            above += low[lo--];
        }
        float t = Float.intBitsToFloat((hi << HI_SHIFT) | lo);
        return new Threshold(t, k - above, low[lo]);
    }

    /** Counts of |x| by its top 16 bits. int counters (flushed before they could overflow) keep the table in L2. */
    private static long[] highHistogram(float[][] values) {
        long[] total = new long[HI_BUCKETS];
        int[] h = new int[HI_BUCKETS];
        long pending = 0;
        for (float[] a : values) {
            if (pending + a.length > Integer.MAX_VALUE) {
                flush(h, total);
                pending = 0;
            }
            pending += a.length;
            for (float x : a) {
                h[(Float.floatToRawIntBits(x) & ABS) >>> HI_SHIFT]++;
            }
        }
        flush(h, total);
        return total;
    }

    private static void flush(int[] h, long[] total) {
        for (int i = 0; i < h.length; i++) {
            total[i] += h[i];
            h[i] = 0;
        }
    }

    /** Counts of |x| by its low 15 bits, over entries whose top 16 bits are {@code hi}. */
    private static long[] lowHistogram(float[][] values, int hi) {
        long[] h = new long[LO_MASK + 1];
        for (float[] a : values) {
            for (float x : a) {
                int bits = Float.floatToRawIntBits(x) & ABS;
                if (bits >>> HI_SHIFT == hi) {
                    h[bits & LO_MASK]++;
                }
            }
        }
        return h;
    }

    /**
     * NaN bit patterns lie above +infinity: any count in a bucket above infinity's is a NaN; the
     * infinity bucket itself is scanned (rare) to tell NaN from infinity and count infinities.
     */
    private static void checkNoNaN(float[][] values, long[] hist) {
        boolean suspect = false;
        for (int b = INF_BUCKET + 1; b < HI_BUCKETS && !suspect; b++) {
            suspect = hist[b] != 0;
        }
        if (!suspect && hist[INF_BUCKET] == 0) {
            return;
        }
        long infinities = 0;
        long index = 0;
        for (float[] a : values) {
            for (float x : a) {
                if (Float.isNaN(x)) {
                    throw new IllegalArgumentException("top-k: NaN at flat index " + index);
                }
                if (Float.isInfinite(x)) {
                    infinities++;
                }
                index++;
            }
        }
        hist[INF_BUCKET] = infinities; // now exact: only infinities remain in that bucket
    }
}
