package dev.nps.cmaes;

import static dev.nps.cmaes.ProtoArrays.boxed;
import static dev.nps.cmaes.ProtoArrays.unboxed;

import dev.nps.protocol.CmaesState;

/**
 * Per-coordinate bounds (infinite where a side is open) and the map from the unbounded genotype y that
 * CMA-ES works on to the phenotype x inside the box: reflection at the bounds (see {@link CmaEs}).
 */
final class BoxBounds {
    private final double[] lower;
    private final double[] upper;

    /** Bounds already checked by the caller (taken over, not copied). */
    BoxBounds(double[] lower, double[] upper) {
        this.lower = lower;
        this.upper = upper;
    }

    static BoxBounds fromProto(CmaesState s, int n) {
        double[] lower = unboxed("lower", s.getLowerList(), n);
        return new BoxBounds(lower, unboxed("upper", s.getUpperList(), n));
    }

    void writeTo(CmaesState.Builder s) {
        s.addAllLower(boxed(lower)).addAllUpper(boxed(upper));
    }

    double[] toPhenotype(double[] y) {
        double[] x = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            x[i] = reflect(y[i], lower[i], upper[i]);
        }
        return x;
    }

    /**
     * Maps genotype {@code y} into {@code [lo, up]} by mirroring at the bounds: identity inside, and for
     * a finite box a triangle wave of period 2 (up - lo); with one infinite bound, a single mirror.
     */
    static double reflect(double y, double lo, double up) {
        if (y >= lo && y <= up) {
            return y;
        }
        if (lo == Double.NEGATIVE_INFINITY) {
            return up - (y - up);                            // y > up
        }
        if (up == Double.POSITIVE_INFINITY) {
            return lo + (lo - y);                            // y < lo
        }
        double w = up - lo;
        double t = y - lo;
        t -= 2 * w * Math.floor(t / (2 * w));                // t in [0, 2w)
        double x = t <= w ? lo + t : lo + (2 * w - t);
        return Math.min(up, Math.max(lo, x));                // guard against rounding at the edges
    }

    /** Shifts each boxed coordinate of {@code mean} by whole periods 2w into [lo - w/2, up + w/2): same
     *  phenotypes, no drift. */
    void foldIntoPeriod(double[] mean) {
        for (int i = 0; i < mean.length; i++) {
            if (Double.isFinite(lower[i]) && Double.isFinite(upper[i])) {
                double w = upper[i] - lower[i];
                double start = lower[i] - w / 2;
                if (mean[i] < start || mean[i] >= start + 2 * w) {
                    mean[i] -= 2 * w * Math.floor((mean[i] - start) / (2 * w));
                }
            }
        }
    }
}
