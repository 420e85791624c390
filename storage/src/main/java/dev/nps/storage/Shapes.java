package dev.nps.storage;

import java.util.Arrays;

/** Shape arithmetic with overflow checks. */
public final class Shapes {
    private Shapes() {
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new StorageException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public static String format(long[] shape) {
        return Arrays.toString(shape);
    }
}
