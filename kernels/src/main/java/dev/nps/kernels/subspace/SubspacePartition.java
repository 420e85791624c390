package dev.nps.kernels.subspace;

import java.util.Arrays;

/**
 * One task vector's entries split into magnitude subspaces, the search space of NPS.
 *
 * <p>Subspace 0 holds the entries below the searched region and always has weight 1; subspaces
 * 1..M are equal-count magnitude intervals. With {@link Kind#ALL} the region is every entry
 * (subspace 0 is empty, the paper's partition); with {@link Kind#BAND} it is the top
 * {@code c * k * n} entries, so that every searched subspace lies near the keep threshold and a
 * change of weight actually changes the mask.
 *
 * <p>The magnitudes are sorted once here; a candidate's per-subspace keep counts then cost
 * O(M log n) ({@link #maskFor}), never a sort.
 */
public final class SubspacePartition {

    /** Which entries the M searched subspaces cover. */
    public enum Kind { ALL, BAND }

    private final float[] sorted;       // all |tau| ascending
    private final float[] lowerBounds;  // lowerBounds[s]: smallest magnitude of subspace s (s = 0..M)
    private final int[] start;          // subspace s occupies sorted[start[s] .. start[s+1])
    private final long keepCount;

    private SubspacePartition(float[] sorted, float[] lowerBounds, int[] start, long keepCount) {
        this.sorted = sorted;
        this.lowerBounds = lowerBounds;
        this.start = start;
        this.keepCount = keepCount;
    }

    /**
     * @param tau the task vector, flattened in parameter order
     * @param subspaces M, the number of searched subspaces
     * @param keepCount k, the number of entries every mask keeps
     * @param kind partition kind
     * @param bandFactor c for {@link Kind#BAND}: the region is the top min(n, ceil(c * k)) entries
     */
    public static SubspacePartition build(float[][] tau, int subspaces, long keepCount, Kind kind, double bandFactor) {
        if (subspaces < 1) {
            throw new IllegalArgumentException("subspaces must be >= 1, got " + subspaces);
        }
        long n = 0;
        for (float[] t : tau) {
            n += t.length;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("task vector too large for one partition: " + n + " entries");
        }
        if (keepCount < 0 || keepCount > n) {
            throw new IllegalArgumentException("keep count " + keepCount + " outside [0, " + n + "]");
        }
        float[] sorted = new float[(int) n];
        int p = 0;
        for (float[] t : tau) {
            for (float v : t) {
                sorted[p++] = Math.abs(v);
            }
        }
        Arrays.sort(sorted);
        int total = sorted.length;
        int regionSize = kind == Kind.ALL ? total
                : (int) Math.min(total, (long) Math.ceil(bandFactor * keepCount));
        if (kind == Kind.BAND && bandFactor < 1.0) {
            throw new IllegalArgumentException("band factor must be >= 1, got " + bandFactor);
        }
        int regionStart = total - regionSize;
        // Subspace s >= 1 starts at the magnitude found at its equal-count quantile; entries of
        // equal magnitude always share a subspace, so boundaries are values, not positions.
        float[] lower = new float[subspaces + 1];
        lower[0] = 0f;
        for (int s = 1; s <= subspaces; s++) {
            int q = regionStart + (int) (((long) (s - 1) * regionSize) / subspaces);
            lower[s] = total == 0 ? Float.POSITIVE_INFINITY : sorted[Math.min(q, total - 1)];
            if (s > 1 && lower[s] < lower[s - 1]) {
                lower[s] = lower[s - 1];
            }
        }
        if (kind == Kind.ALL) {
            lower[1] = 0f; // every entry, zeros included, is searched
        }
        int[] start = new int[subspaces + 2];
        for (int s = 0; s <= subspaces; s++) {
            start[s] = s == 0 ? 0 : firstAtLeast(sorted, lower[s]);
        }
        start[subspaces + 1] = total;
        return new SubspacePartition(sorted, lower, start, keepCount);
    }

    /** Number of searched subspaces M. */
    public int subspaces() {
        return lowerBounds.length - 1;
    }

    public long keepCount() {
        return keepCount;
    }

    public long size() {
        return sorted.length;
    }

    /** Entries in subspace s (0 = fixed region below the searched subspaces). */
    public int subspaceSize(int s) {
        return start[s + 1] - start[s];
    }

    /** The c-th largest magnitude of subspace s (1 <= c <= its size). */
    float largest(int s, int c) {
        return sorted[start[s + 1] - c];
    }

    /** Lower magnitude bound of each subspace 0..M (a copy). */
    public float[] lowerBounds() {
        return lowerBounds.clone();
    }

    /** The subspace of an entry of magnitude a. */
    public int subspaceOf(float a) {
        return subspaceOf(lowerBounds, a);
    }

    /**
     * The last subspace whose lower bound is <= a (bounds ascend, bound 0 is 0). The scan starts
     * at the bottom: with the band partition nearly every entry lies in subspace 0 and costs one
     * comparison; equal-count buckets cost M/2 on average either way.
     */
    static int subspaceOf(float[] lowerBounds, float a) {
        int s = 0;
        while (s + 1 < lowerBounds.length && a >= lowerBounds[s + 1]) {
            s++;
        }
        return s;
    }

    /**
     * The mask that keeps the top-k entries by reweighted magnitude w_s * |tau|, with w_0 = 1.
     * Ties on the reweighted magnitude go to the higher subspace first, then, within a subspace,
     * to the entry that comes first in flattened order.
     *
     * @param weights w_1..w_M, each finite and > 0
     */
    public SubspaceMask maskFor(double[] weights) {
        int m = subspaces();
        if (weights.length != m) {
            throw new IllegalArgumentException("expected " + m + " subspace weights, got " + weights.length);
        }
        double[] w = new double[m + 1];
        w[0] = 1.0;
        for (int s = 1; s <= m; s++) {
            if (!(weights[s - 1] > 0) || !Double.isFinite(weights[s - 1])) {
                throw new IllegalArgumentException("subspace weight " + s + " must be finite and > 0, got " + weights[s - 1]);
            }
            w[s] = weights[s - 1];
        }
        long[] kept = new long[m + 1];
        if (keepCount > 0) {
            // T* = the k-th largest reweighted magnitude = the smallest T with count(r > T) < k.
            // Non-negative doubles order like their bit patterns, so search over the bits.
            long lo = 0;
            long hi = Double.doubleToRawLongBits(maxReweighted(w));
            while (lo < hi) {
                long mid = lo + (hi - lo) / 2;
                if (countAbove(w, Double.longBitsToDouble(mid)) < keepCount) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            double threshold = Double.longBitsToDouble(lo);
            long assigned = 0;
            for (int s = 0; s <= m; s++) {
                kept[s] = countAbove(s, w[s], threshold);
                assigned += kept[s];
            }
            for (int s = m; s >= 0 && assigned < keepCount; s--) {
                long ties = countAtLeast(s, w[s], threshold) - kept[s];
                long take = Math.min(ties, keepCount - assigned);
                kept[s] += take;
                assigned += take;
            }
        }
        return maskFromCounts(kept);
    }

    /** The mask keeping, in each subspace s, its {@code kept[s]} largest-magnitude entries. */
    public SubspaceMask maskFromCounts(long[] kept) {
        int m = subspaces();
        float[] thresholds = new float[m + 1];
        long[] ties = new long[m + 1];
        for (int s = 0; s <= m; s++) {
            int size = subspaceSize(s);
            if (kept[s] < 0 || kept[s] > size) {
                throw new IllegalArgumentException("subspace " + s + " keeps " + kept[s] + " of " + size);
            }
            if (kept[s] == 0) {
                thresholds[s] = Float.POSITIVE_INFINITY;
                continue;
            }
            float t = sorted[start[s + 1] - (int) kept[s]];
            thresholds[s] = t;
            long above = start[s + 1] - firstAbove(sorted, t, start[s], start[s + 1]);
            ties[s] = kept[s] - above;
        }
        return new SubspaceMask(lowerBounds, thresholds, ties, kept);
    }

    private double maxReweighted(double[] w) {
        double max = 0;
        for (int s = 0; s < w.length; s++) {
            if (subspaceSize(s) > 0) {
                max = Math.max(max, w[s] * sorted[start[s + 1] - 1]);
            }
        }
        return max;
    }

    private long countAbove(double[] w, double threshold) {
        long c = 0;
        for (int s = 0; s < w.length; s++) {
            c += countAbove(s, w[s], threshold);
        }
        return c;
    }

    /** Entries of subspace s with w * a > threshold. */
    private long countAbove(int s, double w, double threshold) {
        int lo = start[s];
        int hi = start[s + 1];
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (w * sorted[mid] > threshold) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return start[s + 1] - lo;
    }

    /** Entries of subspace s with w * a >= threshold. */
    private long countAtLeast(int s, double w, double threshold) {
        int lo = start[s];
        int hi = start[s + 1];
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (w * sorted[mid] >= threshold) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return start[s + 1] - lo;
    }

    private static int firstAtLeast(float[] a, float v) {
        int lo = 0;
        int hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] >= v) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private static int firstAbove(float[] a, float v, int from, int to) {
        int lo = from;
        int hi = to;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] > v) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }
}
