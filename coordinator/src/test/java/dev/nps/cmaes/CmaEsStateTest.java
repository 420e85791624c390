package dev.nps.cmaes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.nps.protocol.CmaesState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Seeded reproducibility and protobuf snapshot/restore. */
class CmaEsStateTest {
    static final int N = 8;

    static CmaEs fresh(long seed) {
        double[] x0 = new double[N];
        Arrays.fill(x0, 0.1);
        // Bounds on some coordinates so the reflection and mean folding are part of the state under test.
        double[] lo = new double[N];
        double[] up = new double[N];
        Arrays.fill(lo, Double.NEGATIVE_INFINITY);
        Arrays.fill(up, Double.POSITIVE_INFINITY);
        lo[0] = -0.5;
        up[0] = 0.5;
        lo[1] = 0.0;
        up[2] = 0.3;
        return new CmaEs(x0, 0.5, CmaEsOptions.defaults(seed).withBounds(lo, up));
    }

    /** One generation on Rosenbrock; returns the asked candidates (flattened) for comparison. */
    static double[] step(CmaEs es) {
        double[][] xs = es.ask().toArray(double[][]::new);
        double[] fit = new double[xs.length];
        for (int k = 0; k < xs.length; k++) {
            fit[k] = CmaEsBenchmarkTest.rosenbrock(xs[k]);
        }
        es.tell(xs, fit);
        return Arrays.stream(xs).flatMapToDouble(Arrays::stream).toArray();
    }

    static CmaEs roundTrip(CmaEs es) throws InvalidProtocolBufferException {
        return CmaEs.fromProto(CmaesState.parseFrom(es.toProto().toByteArray()));
    }

    @Test
    void sameSeedSameTrajectoryDifferentSeedDifferent() {
        CmaEs a = fresh(7);
        CmaEs b = fresh(7);
        CmaEs c = fresh(8);
        boolean differs = false;
        for (int g = 0; g < 50; g++) {
            double[] xa = step(a);
            assertArrayEquals(xa, step(b));
            differs |= !Arrays.equals(xa, step(c));
        }
        assertTrue(differs);
        assertArrayEquals(a.toProto().toByteArray(), b.toProto().toByteArray());
    }

    /**
     * Pins the exact trajectory (identical under the JIT and -Xint here): any platform or JVM where this
     * fails is not bit-reproducible. Update the digest only when the algorithm is changed on purpose.
     */
    @Test
    void trajectoryIsPinned() throws Exception {
        CmaEs es = fresh(123);
        for (int g = 0; g < 300; g++) {
            step(es);
        }
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(es.toProto().toByteArray());
        assertEquals("e5159db5605cbaaba5a0533e27425e8f35de35c9989472127a069e5a9b7edee8",
                java.util.HexFormat.of().formatHex(digest));
    }

    @Test
    void snapshotAfterTellResumesBitIdentically() throws Exception {
        CmaEs uninterrupted = fresh(42);
        List<double[]> expected = new ArrayList<>();
        for (int g = 0; g < 120; g++) {
            expected.add(step(uninterrupted));
        }
        CmaEs first = fresh(42);
        for (int g = 0; g < 37; g++) {
            assertArrayEquals(expected.get(g), step(first));
        }
        CmaEs resumed = roundTrip(first);
        assertArrayEquals(first.toProto().toByteArray(), resumed.toProto().toByteArray());
        for (int g = 37; g < 120; g++) {
            assertArrayEquals(expected.get(g), step(resumed), "generation " + g);
        }
        assertArrayEquals(uninterrupted.toProto().toByteArray(), resumed.toProto().toByteArray());
        assertEquals(uninterrupted.bestFitness(), resumed.bestFitness());
        assertArrayEquals(uninterrupted.bestSolution(), resumed.bestSolution());
        assertEquals(120, resumed.generation());
        assertEquals(120L * resumed.lambda(), resumed.evaluations());
    }

    @Test
    void snapshotBetweenAskAndTellKeepsPendingCandidates() throws Exception {
        CmaEs uninterrupted = fresh(3);
        CmaEs first = fresh(3);
        for (int g = 0; g < 20; g++) {
            step(uninterrupted);
            step(first);
        }
        List<double[]> asked = first.ask();
        CmaEs resumed = roundTrip(first);
        List<double[]> again = resumed.ask();
        assertEquals(asked.size(), again.size());
        for (int k = 0; k < asked.size(); k++) {
            assertArrayEquals(asked.get(k), again.get(k));
        }
        for (int g = 20; g < 60; g++) {
            assertArrayEquals(step(uninterrupted), step(resumed), "generation " + g);
        }
        assertArrayEquals(uninterrupted.toProto().toByteArray(), resumed.toProto().toByteArray());
    }

    @Test
    void tellOrderDoesNotMatter() {
        CmaEs inOrder = fresh(11);
        CmaEs shuffled = fresh(11);
        for (int g = 0; g < 30; g++) {
            double[][] xs = inOrder.ask().toArray(double[][]::new);
            double[] fit = new double[xs.length];
            for (int k = 0; k < xs.length; k++) {
                fit[k] = Math.floor(CmaEsBenchmarkTest.rosenbrock(xs[k])); // floor creates ties
            }
            inOrder.tell(xs, fit);
            double[][] ys = shuffled.ask().toArray(double[][]::new);
            int m = ys.length;
            double[][] rev = new double[m][];
            double[] revFit = new double[m];
            for (int k = 0; k < m; k++) {
                rev[k] = ys[m - 1 - k];
                revFit[k] = fit[m - 1 - k];
            }
            shuffled.tell(rev, revFit);
        }
        assertArrayEquals(inOrder.toProto().toByteArray(), shuffled.toProto().toByteArray());
    }

    @Test
    void askIsIdempotentUntilTell() {
        CmaEs es = fresh(5);
        List<double[]> a = es.ask();
        List<double[]> b = es.ask();
        for (int k = 0; k < a.size(); k++) {
            assertArrayEquals(a.get(k), b.get(k));
        }
        a.get(0)[0] = 1e9; // callers get copies
        assertFalse(es.ask().get(0)[0] == 1e9);
    }

    @Test
    void protoCarriesConstantsAndRejectsInconsistentState() {
        CmaEs es = fresh(1);
        step(es);
        CmaesState s = es.toProto();
        assertEquals(N, s.getDimension());
        assertEquals(4 + (int) Math.floor(3 * Math.log(N)), s.getLambda());
        assertEquals(s.getLambda() / 2, s.getMu());
        assertEquals(1.0, s.getWeightsList().stream().mapToDouble(Double::doubleValue).sum(), 1e-12);
        assertEquals(N * N, s.getCCount());
        var bad = assertThrows(IllegalArgumentException.class,
                () -> CmaEs.fromProto(s.toBuilder().clearMean().addAllMean(s.getMeanList().subList(1, N)).build()));
        assertEquals("CMA-ES state: mean has 7 entries, expected 8", bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CmaEs.fromProto(s.toBuilder().setFormatVersion(99).build()));
        assertThrows(IllegalArgumentException.class, () -> CmaEs.fromProto(s.toBuilder().clearRng().build()));
    }
}
