package dev.nps.coordinator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which running candidates cannot be among the mu best of their generation.
 *
 * <p>Candidate c is dropped when upper(c) &lt; the mu-th largest lower bound among the other
 * candidates: then at least mu others end strictly better than c, so c's rank is at least mu
 * whatever its remaining batches score. CMA-ES (positive weights only) updates mean, paths,
 * covariance and sigma from the mu best ranks alone, so every dropped candidate is outside the set
 * that moves the search, and the trajectory is the one a full evaluation would give — provided the
 * dropped candidates are told a fitness that ranks behind the mu best, see {@link CoordinatorActor}.
 */
final class AbortRule {
    private AbortRule() {
    }

    /**
     * @param lower   per candidate, a lower bound of its final accuracy
     * @param upper   per candidate, an upper bound of its final accuracy
     * @param running per candidate, whether it may be dropped (still scored, not a follower)
     * @return indices to drop, ascending
     */
    static List<Integer> toAbort(double[] lower, double[] upper, boolean[] running, int mu) {
        int n = lower.length;
        List<Integer> out = new ArrayList<>();
        if (mu >= n) {
            return out;
        }
        double[] sorted = lower.clone();
        Arrays.sort(sorted); // ascending: the k-th largest is sorted[n - k]
        double muth = sorted[n - mu];
        double next = sorted[n - mu - 1];
        for (int c = 0; c < n; c++) {
            if (!running[c]) {
                continue;
            }
            // Removing c's own lower bound from the list shifts the mu-th largest down one place
            // exactly when c's bound is among the mu largest.
            double threshold = lower[c] >= muth ? next : muth;
            if (upper[c] < threshold) {
                out.add(c);
            }
        }
        return out;
    }
}
