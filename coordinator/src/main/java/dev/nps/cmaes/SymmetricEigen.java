package dev.nps.cmaes;

/**
 * Eigendecomposition of a small symmetric matrix by the cyclic Jacobi method: a sequence of plane
 * rotations, each zeroing one off-diagonal entry, until the off-diagonal part vanishes to rounding.
 * O(n^3) per sweep with quadratic convergence (typically 6-10 sweeps); meant for n up to a few dozen,
 * where it is accurate (also for tiny eigenvalues) and, using only + - * / and sqrt, bit-reproducible.
 */
final class SymmetricEigen {
    private static final int MAX_SWEEPS = 100;

    private SymmetricEigen() {}

    /**
     * Decomposes symmetric {@code a} (n*n, row-major; only read) as {@code a = V diag(values) V^T}.
     *
     * @param values receives the n eigenvalues (unsorted)
     * @param vectors receives V (n*n, row-major): column k is the unit eigenvector of {@code values[k]}
     */
    static void decompose(double[] a, int n, double[] values, double[] vectors) {
        if (a.length != n * n || values.length != n || vectors.length != n * n) {
            throw new IllegalArgumentException("eigen: array sizes do not match n=" + n);
        }
        double[] m = a.clone();
        java.util.Arrays.fill(vectors, 0.0);
        for (int i = 0; i < n; i++) {
            vectors[i * n + i] = 1.0;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0.0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += m[p * n + q] * m[p * n + q];
                }
            }
            if (off == 0.0) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = m[p * n + q];
                    if (apq == 0.0) {
                        continue;
                    }
                    double app = m[p * n + p];
                    double aqq = m[q * n + q];
                    // After a few sweeps, drop entries that are below rounding of both diagonal entries.
                    if (sweep > 3 && Math.abs(app) + 100.0 * Math.abs(apq) == Math.abs(app)
                            && Math.abs(aqq) + 100.0 * Math.abs(apq) == Math.abs(aqq)) {
                        m[p * n + q] = 0.0;
                        m[q * n + p] = 0.0;
                        continue;
                    }
                    // Rotation angle: t = tan(phi) is the smaller root of t^2 + 2 theta t - 1 = 0.
                    double theta = (aqq - app) / (2.0 * apq);
                    double t;
                    if (Math.abs(theta) > 1e150) {
                        t = 0.5 / theta; // theta^2 would overflow
                    } else {
                        t = 1.0 / (Math.abs(theta) + Math.sqrt(theta * theta + 1.0));
                        if (theta < 0.0) {
                            t = -t;
                        }
                    }
                    double c = 1.0 / Math.sqrt(t * t + 1.0);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        if (k == p || k == q) {
                            continue;
                        }
                        double akp = m[k * n + p];
                        double akq = m[k * n + q];
                        double nkp = c * akp - s * akq;
                        double nkq = s * akp + c * akq;
                        m[k * n + p] = nkp;
                        m[p * n + k] = nkp;
                        m[k * n + q] = nkq;
                        m[q * n + k] = nkq;
                    }
                    m[p * n + p] = app - t * apq;
                    m[q * n + q] = aqq + t * apq;
                    m[p * n + q] = 0.0;
                    m[q * n + p] = 0.0;
                    for (int k = 0; k < n; k++) {
                        double vkp = vectors[k * n + p];
                        double vkq = vectors[k * n + q];
                        vectors[k * n + p] = c * vkp - s * vkq;
                        vectors[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            values[i] = m[i * n + i];
        }
    }
}
