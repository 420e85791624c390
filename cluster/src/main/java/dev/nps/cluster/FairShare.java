package dev.nps.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Weighted fair shares of a cluster's slots, the arithmetic of {@link SlotScheduler}: pure, so
 * tested apart from actors.
 *
 * <p>{@link #fluid} is weighted max-min fairness (water-filling): run i gets
 * min(limit_i, weight_i * level), the level chosen so that the shares sum to min(n, sum of
 * limits), where a run's limit is the lesser of its cap and its demand (slots it can use now).
 * So a run never holds more than it can use, and what it cannot use goes to the others by weight.
 *
 * <p>{@link #targets} turns that into whole slots: every run gets the floor of its share, and the
 * slots left over go one each to runs with a fractional share, those furthest behind their fair
 * slot time first ({@code lag}). Over time the extras rotate, so a run's slot time converges to its
 * fluid share (4 slots, weights 3:1:1:1: 2 slots, then 2 slots rotating among three runs). A run
 * holding an extra keeps it until another is behind by more than {@code quantum} more: that
 * hysteresis bounds how often a slot changes runs.
 */
final class FairShare {
    private static final double EPS = 1e-9;

    private FairShare() {
    }

    /** Fluid shares of {@code n} slots; {@code weights} > 0, {@code limits} >= 0. */
    static double[] fluid(int n, double[] weights, int[] limits) {
        int k = weights.length;
        double[] f = new double[k];
        boolean[] fixed = new boolean[k];
        double left = n;
        double weightLeft = 0;
        for (double w : weights) {
            weightLeft += w;
        }
        boolean changed = true;
        while (changed && weightLeft > EPS) {
            changed = false;
            double level = left / weightLeft;
            for (int i = 0; i < k; i++) {
                if (!fixed[i] && limits[i] <= weights[i] * level + EPS) { // wants no more than its share: gets all it wants
                    fixed[i] = true;
                    f[i] = limits[i];
                    left -= limits[i];
                    weightLeft -= weights[i];
                    changed = true;
                }
            }
        }
        double level = weightLeft > EPS ? Math.max(0, left) / weightLeft : 0;
        for (int i = 0; i < k; i++) {
            if (!fixed[i]) {
                f[i] = weights[i] * level;
            }
        }
        return f;
    }

    /**
     * Whole slots per run.
     *
     * @param fluid      from {@link #fluid}
     * @param lag        per run, fair slot time minus slot time received (any unit; higher = further behind)
     * @param holdsExtra per run, whether it holds more slots than the floor of its share now
     * @param quantum    how much further behind (unit of {@code lag}) a run must be to take an extra from its holder
     */
    static int[] targets(double[] fluid, double[] lag, boolean[] holdsExtra, double quantum) {
        int k = fluid.length;
        int[] t = new int[k];
        double total = 0;
        int given = 0;
        List<Integer> fractional = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            t[i] = (int) Math.floor(fluid[i] + EPS);
            given += t[i];
            total += fluid[i];
            if (fluid[i] - t[i] > EPS) {
                fractional.add(i);
            }
        }
        int extras = (int) Math.round(total) - given;
        fractional.sort(Comparator.<Integer>comparingDouble(i -> -(lag[i] + (holdsExtra[i] ? quantum : 0)))
                .thenComparingInt(i -> i));
        for (int j = 0; j < extras && j < fractional.size(); j++) {
            t[fractional.get(j)]++;
        }
        return t;
    }
}
