package dev.nps.coordinator;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 over every generation's CMA-ES mean and sigma, then the final best x and its accuracy,
 * each double as its IEEE-754 bits, big-endian. Two runs with equal hashes took the same path.
 */
final class Trajectory {
    private final MessageDigest digest;

    Trajectory() {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    void generation(double[] mean, double sigma) {
        put(mean);
        put(sigma);
    }

    String finish(double[] bestX, double bestAccuracy) {
        put(bestX);
        put(bestAccuracy);
        return HexFormat.of().formatHex(digest.digest());
    }

    private void put(double... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Double.BYTES); // big-endian by default
        for (double v : values) {
            b.putLong(Double.doubleToRawLongBits(v));
        }
        digest.update(b.array());
    }
}
