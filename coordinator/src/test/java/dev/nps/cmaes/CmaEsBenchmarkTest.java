package dev.nps.cmaes;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Median evaluations to ftarget = 1e-8 over 11 seeds against pycma 4.5.0 (default population), within
 * +-20%. pycma's numbers come from the issue (regenerate with tools/pycma_reference.py, which writes
 * coordinator/src/test/resources/golden/pycma_medians.json). Like pycma's {@code countevals}, a run's count
 * is the evaluation count when it stops, whichever criterion stopped it; runs that end in Rosenbrock's
 * local minimum (occasional in 10-D/20-D) are counted that way too, and at most 3 of 11 may miss ftarget.
 */
class CmaEsBenchmarkTest {
    static final double FTARGET = 1e-8;
    static final int SEEDS = 11;

    static double sphere(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return s;
    }

    /** Ellipsoid with condition 1e6: f = sum_i 10^(6 i/(n-1)) x_i^2. */
    static double ellipsoid(double[] x) {
        int n = x.length;
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += StrictMath.pow(10, 6.0 * i / (n - 1)) * x[i] * x[i];
        }
        return s;
    }

    static double rosenbrock(double[] x) {
        double s = 0;
        for (int i = 0; i + 1 < x.length; i++) {
            double a = x[i + 1] - x[i] * x[i];
            double b = 1 - x[i];
            s += 100 * a * a + b * b;
        }
        return s;
    }

    record Run(long evaluations, boolean reached) {}

    static Run run(ToDoubleFunction<double[]> f, int n, double x0, double sigma0, long seed) {
        double[] start = new double[n];
        Arrays.fill(start, x0);
        CmaEs es = new CmaEs(start, sigma0, CmaEsOptions.defaults(seed).withFtarget(FTARGET));
        while (es.stop().isEmpty()) {
            List<double[]> xs = es.ask();
            double[][] cand = xs.toArray(double[][]::new);
            double[] fit = new double[cand.length];
            for (int k = 0; k < cand.length; k++) {
                fit[k] = f.applyAsDouble(cand[k]);
            }
            es.tell(cand, fit);
        }
        return new Run(es.evaluations(), es.bestFitness() <= FTARGET);
    }

    static void check(String function, int n, double pycmaMedian) {
        ToDoubleFunction<double[]> f = switch (function) {
            case "sphere" -> CmaEsBenchmarkTest::sphere;
            case "ellipsoid" -> CmaEsBenchmarkTest::ellipsoid;
            case "rosenbrock" -> CmaEsBenchmarkTest::rosenbrock;
            default -> throw new IllegalArgumentException(function);
        };
        boolean rosen = function.equals("rosenbrock");
        long[] evals = new long[SEEDS];
        int reached = 0;
        for (int s = 0; s < SEEDS; s++) {
            Run r = run(f, n, rosen ? 0.0 : 0.5, rosen ? 0.5 : 0.3, s + 1);
            evals[s] = r.evaluations();
            reached += r.reached() ? 1 : 0;
        }
        Arrays.sort(evals);
        long median = evals[SEEDS / 2];
        double ratio = median / pycmaMedian;
        System.out.printf("CMA-ES %-10s %2d-D: median evals %6d vs pycma %6.0f (ratio %.3f)%s, reached ftarget %d/%d, sorted %s%n",
                function, n, median, pycmaMedian, ratio, goldenComparison(function, n, median), reached, SEEDS,
                Arrays.toString(evals));
        assertTrue(reached >= SEEDS - 3, function + " " + n + "-D reached ftarget only " + reached + "/" + SEEDS);
        assertTrue(ratio >= 0.8 && ratio <= 1.2,
                function + " " + n + "-D: median " + median + " not within 20% of pycma's " + pycmaMedian);
    }

    /** Comparison with the measured pycma median in the golden JSON, when that file exists. */
    static String goldenComparison(String function, int n, long median) {
        try (InputStream in = CmaEsBenchmarkTest.class.getResourceAsStream("/golden/pycma_medians.json")) {
            if (in == null) {
                return "";
            }
            for (JsonNode c : new ObjectMapper().readTree(in).path("cases")) {
                if (c.path("function").asText().equals(function) && c.path("dim").asInt() == n) {
                    double golden = c.path("medianEvaluations").asDouble();
                    return String.format("; golden JSON %.0f (ratio %.3f)", golden, median / golden);
                }
            }
            return "";
        } catch (IOException e) {
            return "; golden JSON unreadable: " + e.getMessage();
        }
    }

    @ParameterizedTest(name = "{0} {1}-D vs pycma median {2}")
    @CsvSource({
        "sphere, 5, 616", "sphere, 10, 1250", "sphere, 20, 2268",
        "ellipsoid, 5, 1864", "ellipsoid, 10, 5480",
        "rosenbrock, 5, 1896", "rosenbrock, 10, 5880",
    })
    void matchesPycmaMedians(String function, int n, double pycmaMedian) {
        check(function, n, pycmaMedian);
    }

    @Tag("slow")
    @ParameterizedTest(name = "{0} {1}-D vs pycma median {2}")
    @CsvSource({"ellipsoid, 20, 17556", "rosenbrock, 20, 20430"})
    void matchesPycmaMediansIn20D(String function, int n, double pycmaMedian) {
        check(function, n, pycmaMedian);
    }
}
