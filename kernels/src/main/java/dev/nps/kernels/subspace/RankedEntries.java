package dev.nps.kernels.subspace;

import java.util.Arrays;

/**
 * The fast path of {@link SubspaceMask#addMasked}: per subspace, the entries a mask could keep,
 * ranked by (|tau| descending, flattened index ascending). A mask keeps the top
 * {@code kept[s]} of subspace s, which in this order is a prefix: materializing it touches only
 * the kept entries (a scatter-add of O(k)), instead of classifying all n entries.
 *
 * <p>It is built once per task vector and shared read-only by every evaluator. The kept set, and
 * the float arithmetic on each kept entry, are those of the scalar reference exactly, so the
 * result is bit-identical ({@code RankedEntriesTest}); each entry is touched once per task, so
 * the order of the scatter does not matter. Subspace s stores the entries of magnitude at least
 * the {@code min(size_s, k)}-th largest of its partition's magnitudes (at that magnitude, only as
 * many as a mask can take, in flattened order): enough for every mask that keeps at most k
 * entries per subspace, also when {@code tau} is a sign-filtered copy of the partitioned vector
 * (zeroed entries only leave). A mask outside that ({@link #covers}) takes the reference path.
 */
public final class RankedEntries {
    /**
     * Stored entries at most this share of n (8 bytes each, so at most 1.5x tau's own memory):
     * the band partition stores about 3k entries, so keeps up to 0.25 take the fast path.
     */
    public static final double MAX_STORED_SHARE = 0.75;

    private final float[] lowerBounds;
    private final int[] cap;          // cap[s] = min(size_s, k) of the partition
    private final float[] cutoff;     // the cap[s]-th largest magnitude of subspace s in the partition
    private final int[] tiesStored;   // entries stored at the cutoff (the first ones in flattened order)
    private final boolean[] tiesComplete;
    private final long[][] ranked;    // ranked[s][j] = bits(tau) << 32 | flat index, by |tau| desc then index asc
    private final long[] tensorStart; // flat index of each tensor's first entry, plus the total

    private RankedEntries(float[] lowerBounds, int[] cap, float[] cutoff, int[] tiesStored, boolean[] tiesComplete,
                          long[][] ranked, long[] tensorStart) {
        this.lowerBounds = lowerBounds;
        this.cap = cap;
        this.cutoff = cutoff;
        this.tiesStored = tiesStored;
        this.tiesComplete = tiesComplete;
        this.ranked = ranked;
        this.tensorStart = tensorStart;
    }

    /**
     * The ranked entries of {@code tau} (the vector the masks will be applied to: the partitioned
     * one, or a copy of it with some entries zeroed), or null when they would exceed
     * {@link #MAX_STORED_SHARE} of its entries (the reference path is then used).
     */
    public static RankedEntries build(SubspacePartition partition, float[][] tau) {
        int m = partition.subspaces();
        float[] lower = partition.lowerBounds();
        long n = 0;
        long[] tensorStart = new long[tau.length + 1];
        for (int p = 0; p < tau.length; p++) {
            tensorStart[p] = n;
            n += tau[p].length;
        }
        tensorStart[tau.length] = n;
        if (n != partition.size()) {
            throw new IllegalArgumentException("task vector has " + n + " entries, its partition " + partition.size());
        }
        int[] cap = new int[m + 1];
        float[] cutoff = new float[m + 1];
        long capTotal = 0;
        for (int s = 0; s <= m; s++) {
            cap[s] = (int) Math.min(partition.subspaceSize(s), partition.keepCount());
            cutoff[s] = cap[s] == 0 ? Float.POSITIVE_INFINITY : partition.largest(s, cap[s]);
            capTotal += cap[s];
        }
        if (capTotal > MAX_STORED_SHARE * n) {
            return null;
        }
        // Per subspace: every entry above the cutoff, then the first (cap - above) at the cutoff in
        // flattened order: a mask's ties at the cutoff never need more (they are <= cap - above of
        // the partitioned vector, and zeroing entries only lowers "above").
        int[] above = new int[m + 1];
        int[] at = new int[m + 1];
        for (float[] t : tau) {
            for (float v : t) {
                float a = Math.abs(v);
                int s = SubspacePartition.subspaceOf(lower, a);
                if (a > cutoff[s]) {
                    above[s]++;
                } else if (a == cutoff[s]) {
                    at[s]++;
                }
            }
        }
        int[] tiesStored = new int[m + 1];
        boolean[] tiesComplete = new boolean[m + 1];
        long stored = 0;
        for (int s = 0; s <= m; s++) {
            tiesStored[s] = Math.min(at[s], Math.max(0, cap[s] - above[s]));
            tiesComplete[s] = tiesStored[s] == at[s];
            stored += above[s] + tiesStored[s];
        }
        if (stored > MAX_STORED_SHARE * n) {
            return null;
        }
        long[][] ranked = new long[m + 1][];
        for (int s = 0; s <= m; s++) {
            ranked[s] = new long[above[s] + tiesStored[s]];
        }
        int[] fill = new int[m + 1];
        int[] tiesLeft = tiesStored.clone();
        long flat = 0;
        for (float[] t : tau) {
            for (float v : t) {
                float a = Math.abs(v);
                int s = SubspacePartition.subspaceOf(lower, a);
                if (a > cutoff[s] || (a == cutoff[s] && tiesLeft[s]-- > 0)) {
                    ranked[s][fill[s]++] = ((long) (0x7fffffff - Float.floatToRawIntBits(a)) << 32) | flat;
                }
                flat++;
            }
        }
        for (long[] r : ranked) {
            Arrays.parallelSort(r); // distinct keys: the order is total, whatever the threads
            // Re-key each entry as (its signed value, flat index): the order holds (|value| is what
            // was ranked) and the scatter then reads no tau at random.
            for (int j = 0; j < r.length; j++) {
                long f = r[j] & 0xffffffffL;
                int p = tensorOf(tensorStart, f);
                r[j] = ((long) Float.floatToRawIntBits(tau[p][(int) (f - tensorStart[p])]) << 32) | f;
            }
        }
        return new RankedEntries(lower, cap, cutoff, tiesStored, tiesComplete, ranked, tensorStart);
    }

    /** Whether this index holds every entry {@code mask} can keep (else use the reference path). */
    public boolean covers(SubspaceMask mask) {
        long[] kept = mask.keptPerSubspace();
        if (kept.length != cap.length || !Arrays.equals(mask.lowerBounds(), lowerBounds)) {
            return false;
        }
        for (int s = 0; s < kept.length; s++) {
            if (kept[s] > cap[s] || mask.thresholds()[s] < cutoff[s]
                    || (mask.thresholds()[s] == cutoff[s] && !tiesComplete[s] && mask.ties()[s] > tiesStored[s])) {
                return false;
            }
        }
        return true;
    }

    /**
     * Exactly {@link SubspaceMask#addMasked}{@code (out, tau, lambda, scales)} for a mask this
     * index {@link #covers}, with tau the vector it was built from (its kept values are stored here).
     */
    void addMasked(SubspaceMask mask, float[][] out, double lambda, double[] scales) {
        float[] thresholds = mask.thresholds();
        long[] ties = mask.ties();
        for (int s = 0; s < ranked.length; s++) {
            long[] r = ranked[s];
            float t = thresholds[s];
            if (t == Float.POSITIVE_INFINITY || r.length == 0) {
                continue;
            }
            int above = firstNotAbove(r, t);              // entries with |tau| > t
            int atMost = firstBelow(r, t, above);         // ... and those with |tau| == t follow
            int end = above + (int) Math.min(ties[s], atMost - above);
            double f = scales == null ? lambda : lambda * scales[s];
            int p = 0;
            for (int j = 0; j < end; j++) {
                long flat = r[j] & 0xffffffffL;
                if (flat < tensorStart[p] || flat >= tensorStart[p + 1]) {
                    p = tensorOf(tensorStart, flat);
                }
                int i = (int) (flat - tensorStart[p]);
                out[p][i] = (float) (out[p][i] + f * Float.intBitsToFloat((int) (r[j] >>> 32)));
            }
        }
    }

    private static float magnitude(long entry) {
        return Float.intBitsToFloat((int) (entry >>> 32) & 0x7fffffff);
    }

    /** First position whose magnitude is <= t (magnitudes descend). */
    private static int firstNotAbove(long[] r, float t) {
        int lo = 0;
        int hi = r.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (magnitude(r[mid]) > t) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** First position from {@code from} whose magnitude is < t. */
    private static int firstBelow(long[] r, float t, int from) {
        int lo = from;
        int hi = r.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (magnitude(r[mid]) >= t) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static int tensorOf(long[] tensorStart, long flat) {
        int lo = 0;
        int hi = tensorStart.length - 2;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (tensorStart[mid] <= flat) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** Entries stored, over all subspaces (memory: 8 bytes each). */
    public long storedEntries() {
        long c = 0;
        for (long[] r : ranked) {
            c += r.length;
        }
        return c;
    }
}
