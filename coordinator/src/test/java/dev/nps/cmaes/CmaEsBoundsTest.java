package dev.nps.cmaes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** Reflection boundary handling and input validation. */
class CmaEsBoundsTest {
    static final double INF = Double.POSITIVE_INFINITY;

    @Test
    void reflectionIsIdentityInsideAndMirrorsOutside() {
        assertEquals(0.3, CmaEs.reflect(0.3, 0, 1));
        assertEquals(0.0, CmaEs.reflect(0.0, 0, 1));
        assertEquals(1.0, CmaEs.reflect(1.0, 0, 1));
        assertEquals(0.7, CmaEs.reflect(1.3, 0, 1), 1e-15);
        assertEquals(0.2, CmaEs.reflect(-0.2, 0, 1), 1e-15);
        assertEquals(0.3, CmaEs.reflect(2.3, 0, 1), 1e-15);   // period 2w
        assertEquals(0.5, CmaEs.reflect(-1.5, 0, 1), 1e-15);
        assertEquals(0.9, CmaEs.reflect(-3.1, 0, 1), 1e-15);
        assertEquals(3.0, CmaEs.reflect(-3.0, 0, INF));        // one-sided: single mirror
        assertEquals(-1.0, CmaEs.reflect(3.0, -INF, 1));
        assertEquals(-7.5, CmaEs.reflect(-7.5, -INF, INF));
        for (double y = -50; y < 50; y += 0.0137) {
            double x = CmaEs.reflect(y, -2, 3);
            assertTrue(x >= -2 && x <= 3, "reflect(" + y + ") = " + x);
        }
    }

    /** Minimises sum (x_i - target_i)^2 in the box, checking every candidate lies inside. */
    static CmaEs minimise(double[] target, double[] lo, double[] up, double[] x0, long seed) {
        CmaEs es = new CmaEs(x0, 0.3, CmaEsOptions.defaults(seed).withBounds(lo, up).withTolFun(1e-14));
        while (es.stop().isEmpty()) {
            double[][] xs = es.ask().toArray(double[][]::new);
            double[] f = new double[xs.length];
            for (int k = 0; k < xs.length; k++) {
                for (int i = 0; i < target.length; i++) {
                    assertTrue(xs[k][i] >= lo[i] && xs[k][i] <= up[i], "candidate outside the box");
                    f[k] += (xs[k][i] - target[i]) * (xs[k][i] - target[i]);
                }
            }
            es.tell(xs, f);
        }
        return es;
    }

    @Test
    void findsOptimumOnTheBoundaryOfTheBox() {
        // Unconstrained optimum (-1, ..., -1, 2, 2) lies outside [0,1]^6: the constrained one is the corner (0,..,0,1,1).
        double[] target = {-1, -1, -1, -1, 2, 2};
        double[] lo = new double[6];
        double[] up = new double[6];
        Arrays.fill(up, 1.0);
        double[] x0 = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
        CmaEs es = minimise(target, lo, up, x0, 9);
        double[] best = es.bestSolution();
        double[] expected = {0, 0, 0, 0, 1, 1};
        for (int i = 0; i < 6; i++) {
            assertEquals(expected[i], best[i], 1e-6, "coordinate " + i);
        }
        assertEquals(6.0, es.bestFitness(), 1e-5);
        double[] mean = es.mean();
        for (int i = 0; i < 6; i++) {
            assertTrue(mean[i] >= 0 && mean[i] <= 1);
        }
    }

    @Test
    void interiorOptimumAndMixedBounds() {
        double[] target = {0.25, -3, 4, 0.7};
        double[] lo = {0, -INF, -INF, 0.5};
        double[] up = {1, INF, 5, INF};
        CmaEs es = minimise(target, lo, up, new double[] {0.5, 0, 0, 1}, 4);
        assertTrue(es.bestFitness() < 1e-12, "best " + es.bestFitness());
        assertTrue(es.stop().contains(StopReason.TOLFUN) || es.stop().contains(StopReason.TOLX), es.stop().toString());
    }

    @Test
    void rejectsBadInputWithOneLineMessages() {
        CmaEsOptions box = CmaEsOptions.defaults(1).withBounds(2, 0, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> new CmaEs(new double[] {0.5, 1.5}, 0.1, box));
        assertEquals("CMA-ES: x0[1] = 1.5 lies outside its bounds [0.0, 1.0]", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new CmaEs(new double[] {0.5, 0.5}, 0.1, CmaEsOptions.defaults(1).withBounds(2, 1, 1)));
        assertThrows(IllegalArgumentException.class,
                () -> new CmaEs(new double[] {0.5}, 0.1, box));
        assertThrows(IllegalArgumentException.class, () -> new CmaEs(new double[] {0.5}, 0, CmaEsOptions.defaults(1)));
        assertThrows(IllegalArgumentException.class, () -> new CmaEs(new double[0], 1, CmaEsOptions.defaults(1)));
        assertThrows(IllegalArgumentException.class, () -> CmaEsOptions.defaults(1).withLambda(1));

        CmaEs es = new CmaEs(new double[] {0.5, 0.5}, 0.1, box);
        assertThrows(IllegalStateException.class, () -> es.tell(new double[0][], new double[0]));
        double[][] xs = es.ask().toArray(double[][]::new);
        double[] f = new double[xs.length];
        f[2] = Double.NaN;
        assertEquals("CMA-ES: fitness[2] is NaN",
                assertThrows(IllegalArgumentException.class, () -> es.tell(xs, f)).getMessage());
        f[2] = 0;
        double[][] dup = xs.clone();
        dup[1] = xs[0];
        assertEquals("CMA-ES: candidate 1 is not one of the candidates of the last ask()",
                assertThrows(IllegalArgumentException.class, () -> es.tell(dup, f)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> es.tell(Arrays.copyOf(xs, 3), Arrays.copyOf(f, 3)));
        es.tell(xs, f); // failed tells leave the ask outstanding
        assertEquals(1, es.generation());
        assertEquals(EnumSet.of(StopReason.TOLFUN), es.stop()); // all fitness values equal
    }

    @Test
    void defaultsFollowTheTutorial() {
        CmaEs es = new CmaEs(new double[10], 1, CmaEsOptions.defaults(0));
        assertEquals(10, es.lambda());   // 4 + floor(3 ln 10)
        assertEquals(5, es.mu());
        assertTrue(es.stop().isEmpty());
        assertEquals(Double.POSITIVE_INFINITY, es.bestFitness());
        assertEquals(null, es.bestSolution());
        assertEquals(1.0, es.conditionNumber());
    }
}
