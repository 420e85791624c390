package dev.nps.cmaes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.protocol.CmaesRngState;
import org.junit.jupiter.api.Test;

class CmaRandomTest {

    @Test
    void knownAnswersAndReproducibility() {
        // splitmix64's first output from seed 0 is the well-known 0xE220A8397B1DCDAF.
        assertEquals(0xE220A8397B1DCDAFL, new CmaRandom(0).toProto().getS0());
        // xoshiro256** reference outputs from state {1, 2, 3, 4}.
        CmaRandom x = CmaRandom.fromProto(CmaesRngState.newBuilder().setS0(1).setS1(2).setS2(3).setS3(4).build());
        assertEquals(11520L, x.nextLong());
        assertEquals(0L, x.nextLong());
        assertEquals(1509978240L, x.nextLong());
        assertEquals(1215971899390074240L, x.nextLong());
        CmaRandom a = new CmaRandom(77);
        CmaRandom b = new CmaRandom(77);
        for (int i = 0; i < 1000; i++) {
            assertEquals(a.nextLong(), b.nextLong());
        }
    }

    @Test
    void gaussianMomentsAndSnapshotWithCachedSpare() {
        CmaRandom r = new CmaRandom(2024);
        int m = 400_000;
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < m; i++) {
            double g = r.nextGaussian();
            sum += g;
            sumSq += g * g;
        }
        assertEquals(0, sum / m, 0.01);
        assertEquals(1, sumSq / m, 0.01);

        r.nextGaussian(); // now a spare normal is cached
        assertTrue(r.toProto().getHasSpareGaussian());
        CmaRandom copy = CmaRandom.fromProto(r.toProto());
        for (int i = 0; i < 101; i++) {
            assertEquals(Double.doubleToRawLongBits(r.nextGaussian()), Double.doubleToRawLongBits(copy.nextGaussian()));
        }
    }
}
