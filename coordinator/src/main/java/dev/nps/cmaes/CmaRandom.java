package dev.nps.cmaes;

import dev.nps.protocol.CmaesRngState;

/**
 * xoshiro256** (Blackman and Vigna) seeded by splitmix64, with standard normals from Marsaglia's polar
 * method. The whole state is four longs plus the cached second normal, so it snapshots into
 * {@link CmaesRngState} and a restored generator continues with the identical stream. Only exact
 * arithmetic and {@link StrictMath} are used, so streams are bit-identical on every JVM and platform.
 */
final class CmaRandom {
    private long s0, s1, s2, s3;
    private boolean hasSpare;
    private double spare;

    CmaRandom(long seed) {
        long z = seed;
        z += 0x9E3779B97F4A7C15L;
        s0 = mix(z);
        z += 0x9E3779B97F4A7C15L;
        s1 = mix(z);
        z += 0x9E3779B97F4A7C15L;
        s2 = mix(z);
        z += 0x9E3779B97F4A7C15L;
        s3 = mix(z);
        // splitmix64 outputs of consecutive counters are never all zero, the only forbidden xoshiro state.
    }

    private CmaRandom(CmaesRngState state) {
        s0 = state.getS0();
        s1 = state.getS1();
        s2 = state.getS2();
        s3 = state.getS3();
        if ((s0 | s1 | s2 | s3) == 0) {
            throw new IllegalArgumentException("CMA-ES state: random generator state is all zero");
        }
        hasSpare = state.getHasSpareGaussian();
        spare = state.getSpareGaussian();
    }

    static CmaRandom fromProto(CmaesRngState state) {
        return new CmaRandom(state);
    }

    CmaesRngState toProto() {
        return CmaesRngState.newBuilder()
                .setS0(s0).setS1(s1).setS2(s2).setS3(s3)
                .setHasSpareGaussian(hasSpare).setSpareGaussian(spare)
                .build();
    }

    /** splitmix64 finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** Uniform in [0, 1) with 53 random bits. */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Standard normal; the polar method yields two per accepted pair, the second is cached. */
    double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            double g = spare;
            spare = 0.0;
            return g;
        }
        double u, v, s;
        do {
            u = 2.0 * nextDouble() - 1.0;
            v = 2.0 * nextDouble() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        double factor = Math.sqrt(-2.0 * StrictMath.log(s) / s); // sqrt is correctly rounded everywhere
        spare = v * factor;
        hasSpare = true;
        return u * factor;
    }
}
