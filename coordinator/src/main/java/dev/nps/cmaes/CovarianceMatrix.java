package dev.nps.cmaes;

import static dev.nps.cmaes.ProtoArrays.boxed;

import dev.nps.protocol.CmaesState;
import java.util.Arrays;

/**
 * The covariance matrix C of the search distribution together with its eigensystem C = B D^2 B^T, which
 * sampling and the step-size path use (purecma's {@code DecomposingPositiveMatrix}). C is n*n row-major and
 * kept exactly symmetric: every update computes the upper triangle and mirrors it. B and D are refreshed
 * lazily by {@link SymmetricEigen} (Jacobi), so they may lag C by the gap the caller allows.
 */
final class CovarianceMatrix {
    private final int n;
    private final double[] c;    // n*n row-major, symmetric
    private final double[] b;    // eigenvectors of C as columns
    private final double[] d;    // sqrt(eigenvalues of C): the principal axis lengths
    private long eigenEvals;     // evaluation count at the last decomposition

    /** C = B = D = I. */
    CovarianceMatrix(int n) {
        this.n = n;
        c = identity(n);
        b = identity(n);
        d = new double[n];
        Arrays.fill(d, 1.0);
    }

    /** Restores a snapshot's matrices (taken over, sizes already checked). */
    CovarianceMatrix(int n, double[] c, double[] b, double[] d, long eigenEvals) {
        this.n = n;
        this.c = c;
        this.b = b;
        this.d = d;
        this.eigenEvals = eigenEvals;
    }

    void writeTo(CmaesState.Builder s) {
        s.addAllC(boxed(c)).addAllB(boxed(b)).addAllD(boxed(d)).setEigenEvaluations(eigenEvals);
    }

    /** B D z: maps z ~ N(0, I) to a sample of N(0, C) (39). */
    double[] transform(double[] z) {
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double yi = 0;
            for (int j = 0; j < n; j++) {
                yi += b[i * n + j] * (d[j] * z[j]);
            }
            y[i] = yi;
        }
        return y;
    }

    /** C^{-1/2} v = B D^{-1} B^T v, with the eigensystem of the last decomposition. */
    double[] invSqrt(double[] v) {
        double[] t = new double[n];
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += b[i * n + j] * v[i];
            }
            t[j] = s / d[j];
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += b[i * n + j] * t[j];
            }
            out[i] = s;
        }
        return out;
    }

    /** C <- factor C. */
    void scale(double factor) {
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                set(i, j, factor * c[i * n + j]);
            }
        }
    }

    /** Rank-one update C <- C + rate v v^T. */
    void addRankOne(double rate, double[] v) {
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                set(i, j, c[i * n + j] + rate * v[i] * v[j]);
            }
        }
    }

    /** Rank-mu update C <- C + rate sum_r w_r y_r y_r^T. */
    void addRankMu(double rate, double[] w, double[][] y) {
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double sum = 0;
                for (int r = 0; r < w.length; r++) {
                    sum += w[r] * y[r][i] * y[r][j];
                }
                set(i, j, c[i * n + j] + rate * sum);
            }
        }
    }

    /** Writes both triangles from one value, which keeps C exactly symmetric. */
    private void set(int i, int j, double v) {
        c[i * n + j] = v;
        c[j * n + i] = v;
    }

    /** Re-decomposes C if more than {@code gapEvals} evaluations passed since the last decomposition. */
    void decomposeIfStale(long evaluations, double gapEvals) {
        if (evaluations - eigenEvals > gapEvals) {
            decompose();
            eigenEvals = evaluations;
        }
    }

    /** C = B D^2 B^T. Eigenvalues that rounding drove to (or below) zero are floored at 1e-30 of the largest,
     *  which makes the condition stop fire instead of dividing by zero. */
    private void decompose() {
        double[] values = new double[n];
        SymmetricEigen.decompose(c, n, values, b);
        double vMax = max(values);
        if (!(vMax > 0) || Double.isInfinite(vMax)) {
            throw new IllegalStateException("CMA-ES: covariance matrix degenerated (largest eigenvalue " + vMax + ")");
        }
        for (int i = 0; i < n; i++) {
            d[i] = Math.sqrt(Math.max(values[i], vMax * 1e-30));
        }
    }

    /** Largest principal axis length, sqrt of C's largest eigenvalue at the last decomposition. */
    double largestAxis() {
        return max(d);
    }

    /** Ratio of C's largest to its smallest eigenvalue at the last decomposition. */
    double conditionNumber() {
        double ratio = max(d) / min(d);
        return ratio * ratio;
    }

    private static double[] identity(int n) {
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) {
            m[i * n + i] = 1.0;
        }
        return m;
    }

    private static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    private static double min(double[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : v) {
            m = Math.min(m, x);
        }
        return m;
    }
}
