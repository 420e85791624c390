package dev.nps.cmaes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SymmetricEigenTest {

    /** A = Q diag(lambda) Q^T with a random orthogonal Q (Gram-Schmidt), eigenvalues spanning 1e-6..1e6. */
    @Test
    void recoversKnownSpectrumAndOrthonormalVectors() {
        int n = 12;
        CmaRandom r = new CmaRandom(99);
        double[] q = new double[n * n];
        for (int j = 0; j < n; j++) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = r.nextGaussian();
            }
            for (int k = 0; k < j; k++) {
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += v[i] * q[i * n + k];
                }
                for (int i = 0; i < n; i++) {
                    v[i] -= dot * q[i * n + k];
                }
            }
            double norm = Math.sqrt(Arrays.stream(v).map(x -> x * x).sum());
            for (int i = 0; i < n; i++) {
                q[i * n + j] = v[i] / norm;
            }
        }
        double[] lambda = new double[n];
        for (int k = 0; k < n; k++) {
            lambda[k] = Math.pow(10, -6 + 12.0 * k / (n - 1));
        }
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += q[i * n + k] * lambda[k] * q[j * n + k];
                }
                a[i * n + j] = s;
            }
        }
        for (int i = 0; i < n; i++) {  // exact symmetry, as CmaEs keeps C
            for (int j = 0; j < i; j++) {
                a[i * n + j] = a[j * n + i];
            }
        }
        double[] values = new double[n];
        double[] v = new double[n * n];
        SymmetricEigen.decompose(a, n, values, v);

        double[] sorted = values.clone();
        Arrays.sort(sorted);
        for (int k = 0; k < n; k++) {
            // Absolute accuracy ~ eps ||A|| = 2e-10 (building A already rounds that much), plus relative 1e-9.
            assertEquals(lambda[k], sorted[k], 1e-8 + 1e-9 * lambda[k], "eigenvalue " + k);
        }
        for (int j = 0; j < n; j++) {
            for (int k = 0; k < n; k++) {
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += v[i * n + j] * v[i * n + k];
                }
                assertEquals(j == k ? 1.0 : 0.0, dot, 1e-13, "V^T V at " + j + "," + k);
            }
            for (int i = 0; i < n; i++) {  // A v_j = lambda_j v_j
                double av = 0;
                for (int k = 0; k < n; k++) {
                    av += a[i * n + k] * v[k * n + j];
                }
                assertEquals(values[j] * v[i * n + j], av, 1e-8);
            }
        }
    }

    @Test
    void diagonalAndOneByOne() {
        double[] values = new double[3];
        double[] v = new double[9];
        SymmetricEigen.decompose(new double[] {3, 0, 0, 0, 1, 0, 0, 0, 2}, 3, values, v);
        assertEquals(Arrays.toString(new double[] {3, 1, 2}), Arrays.toString(values));
        double[] one = new double[1];
        double[] v1 = new double[1];
        SymmetricEigen.decompose(new double[] {4}, 1, one, v1);
        assertEquals(4, one[0]);
        assertEquals(1, v1[0]);
    }
}
