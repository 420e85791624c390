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
     * The running candidates of a generation to drop now, ascending. No more are dropped than
     * leave mu alive: that cap never binds in EXACT mode (the true top mu are never dropped), it
     * keeps STATISTICAL from leaving fewer than mu candidates with an exact score.
     */
    static List<Integer> hopeless(CandidateState[] candidates, AbortMode mode, double delta, int mu) {
        List<Integer> out = new ArrayList<>();
        if (mode == AbortMode.OFF) {
            return out;
        }
        int n = candidates.length;
        double[] lower = new double[n];
        double[] upper = new double[n];
        boolean[] running = new boolean[n];
        int alive = 0;
        for (int k = 0; k < n; k++) {
            CandidateState c = candidates[k];
            if (mode == AbortMode.STATISTICAL) {
                double[] b = c.statisticalBounds(delta);
                lower[k] = b[0];
                upper[k] = b[1];
            } else {
                lower[k] = c.lower();
                upper[k] = c.upper();
            }
            running[k] = !c.isFollower() && c.status() == CandidateState.Status.RUNNING;
            alive += c.status() == CandidateState.Status.ABORTED ? 0 : 1;
        }
        for (int k : toAbort(lower, upper, running, mu)) {
            if (alive <= mu) {
                break;
            }
            alive--;
            out.add(k);
        }
        return out;
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
