package dev.nps.cmaes;

import java.util.ArrayList;
import java.util.List;

/** double[] to and from protobuf's repeated double fields (CMA-ES state, search records), bit for bit. */
public final class ProtoArrays {
    private ProtoArrays() {}

    public static List<Double> boxed(double[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (double x : v) {
            out.add(x);
        }
        return out;
    }

    public static double[] unboxed(List<Double> v) {
        return unboxed("values", v, v.size());
    }

    /** @throws IllegalArgumentException naming {@code field} if it does not have {@code expected} entries */
    public static double[] unboxed(String field, List<Double> v, int expected) {
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
