package dev.nps.kernels.subspace;

import java.util.Arrays;

/**
 * A candidate's mask over one task vector, described by a few numbers per subspace: entries of
 * subspace s are kept when |tau| > threshold[s], plus the first ties[s] entries (in flattened
 * order) with |tau| == threshold[s]. Two candidates with equal {@link #keptPerSubspace()}
 * produce the same mask, which makes the counts a cache key.
 */
public record SubspaceMask(float[] lowerBounds, float[] thresholds, long[] ties, long[] keptPerSubspace) {

    public SubspaceMask {
        lowerBounds = lowerBounds.clone();
        thresholds = thresholds.clone();
        ties = ties.clone();
        keptPerSubspace = keptPerSubspace.clone();
    }

    public long keptTotal() {
        return Arrays.stream(keptPerSubspace).sum();
    }

    /**
     * The scalar reference: out += lambda * scale[s] * tau over the kept entries, in one pass over the flattened task
     * vector. {@code scales} has one factor per subspace 0..M (null means all 1).
     */
    public void addMasked(float[][] out, float[][] tau, double lambda, double[] scales) {
        long[] tiesLeft = ties.clone();
        for (int p = 0; p < tau.length; p++) {
            float[] src = tau[p];
            float[] dst = out[p];
            for (int i = 0; i < src.length; i++) {
                float v = src[i];
                float a = Math.abs(v);
                int s = SubspacePartition.subspaceOf(lowerBounds, a);
                float t = thresholds[s];
                boolean keep = a > t || (a == t && tiesLeft[s]-- > 0);
                if (keep) {
                    double f = scales == null ? lambda : lambda * scales[s];
                    dst[i] = (float) (dst[i] + f * v);
                }
            }
        }
    }

    /**
     * The same as {@link #addMasked(float[][], float[][], double, double[])}, bit for bit, through
     * {@code ranked} (the {@link RankedEntries} built from this {@code tau}, or null) where it covers this mask:
     * O(kept) instead of a pass over every entry.
     */
    public void addMasked(float[][] out, float[][] tau, double lambda, double[] scales, RankedEntries ranked) {
        if (ranked != null && ranked.covers(this)) {
            ranked.addMasked(this, out, lambda, scales);
        } else {
            addMasked(out, tau, lambda, scales);
        }
    }

    /** The mask as booleans, for tests and reports. */
    public boolean[][] toBooleans(float[][] tau) {
        long[] tiesLeft = ties.clone();
        boolean[][] mask = new boolean[tau.length][];
        for (int p = 0; p < tau.length; p++) {
            mask[p] = new boolean[tau[p].length];
            for (int i = 0; i < tau[p].length; i++) {
                float a = Math.abs(tau[p][i]);
                int s = SubspacePartition.subspaceOf(lowerBounds, a);
                mask[p][i] = a > thresholds[s] || (a == thresholds[s] && tiesLeft[s]-- > 0);
            }
        }
        return mask;
    }
}
