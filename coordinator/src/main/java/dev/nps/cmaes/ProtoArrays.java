package dev.nps.cmaes;

import java.util.ArrayList;
import java.util.List;

/** double[] to and from the repeated double fields of {@link dev.nps.protocol.CmaesState}. */
final class ProtoArrays {
    private ProtoArrays() {}

    static List<Double> boxed(double[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (double x : v) {
            out.add(x);
        }
        return out;
    }

    /** @throws IllegalArgumentException naming {@code field} if it does not have {@code expected} entries */
    static double[] unboxed(String field, List<Double> v, int expected) {
        if (v.size() != expected) {
            throw new IllegalArgumentException("CMA-ES state: " + field + " has " + v.size() + " entries, expected " + expected);
        }
        double[] out = new double[expected];
        for (int i = 0; i < expected; i++) {
            out[i] = v.get(i);
        }
        return out;
    }
}
