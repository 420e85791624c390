package dev.nps.kernels.merge;

import dev.nps.kernels.merge.MergeMethod.Average;
import dev.nps.kernels.merge.MergeMethod.Consensus;
import dev.nps.kernels.merge.MergeMethod.Dare;
import dev.nps.kernels.merge.MergeMethod.TaskArithmetic;
import dev.nps.kernels.merge.MergeMethod.Ties;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.TopK;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * The merge kernels. Work is split into slices of at most {@link #SLICE} entries that run in
 * parallel; every entry's value is computed from that entry alone (plus, for TIES, a per-slice tie
 * quota fixed beforehand in flattened order), so results are bit-identical however it is split.
 */
final class Merger {
    private static final int ABS = 0x7fffffff;
    private static final int SLICE = 1 << 16;

    private Merger() {
    }

    static void checkLambda(double lambda) {
        if (!Double.isFinite(lambda)) {
            throw new IllegalArgumentException("lambda must be finite, got " + lambda);
        }
    }

    /** {@code other} has exactly the reference's tensor names and shapes. */
    static void checkSameLayout(ParameterSet reference, String referenceLabel, ParameterSet other, String label) {
        for (String name : reference.names()) {
            if (!other.contains(name)) {
                throw new IllegalArgumentException(label + " lacks tensor '" + name + "' of " + referenceLabel);
            }
            FloatTensor a = reference.get(name);
            FloatTensor b = other.get(name);
            if (!a.sameShape(b)) {
                throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(b.shape())
                        + " in " + label + " but " + Arrays.toString(a.shape()) + " in " + referenceLabel);
            }
        }
        if (other.names().size() != reference.names().size()) {
            String extra = other.names().stream().filter(n -> !reference.contains(n)).findFirst().orElseThrow();
            throw new IllegalArgumentException(label + " has tensor '" + extra + "' that " + referenceLabel + " lacks");
        }
    }

    /** A contiguous range of one tensor, with the flat index of its first entry. */
    private record Slice(int tensor, int from, int to, long flatStart) {
    }

    /**
     * Runs {@code method}: theta when {@code base} is given, else the merged task vector.
     */
    static ParameterSet run(MergeMethod method, ParameterSet base, List<ParameterSet> taus) {
        if (taus == null || taus.isEmpty()) {
            throw new IllegalArgumentException("a merge needs at least one task vector");
        }
        ParameterSet reference = base != null ? base : taus.getFirst();
        for (int t = 0; t < taus.size(); t++) {
            checkSameLayout(reference, base != null ? "the base" : "task vector 0", taus.get(t), "task vector " + t);
        }
        List<String> names = List.copyOf(reference.names());
        int tensors = names.size();
        int tasks = taus.size();
        float[][][] tau = new float[tasks][][];
        for (int t = 0; t < tasks; t++) {
            tau[t] = taus.get(t).flatView();
        }
        float[][] baseData = base != null ? base.flatView() : null;

        List<Slice> slices = new ArrayList<>();
        long flat = 0;
        for (int j = 0; j < tensors; j++) {
            int len = tau[0][j].length;
            for (int from = 0; from < len; from += SLICE) {
                slices.add(new Slice(j, from, Math.min(len, from + SLICE), flat + from));
            }
            flat += len;
        }
        float[][] out = new float[tensors][];
        for (int j = 0; j < tensors; j++) {
            out[j] = new float[tau[0][j].length];
        }

        Dare dare = method instanceof Dare d ? d : null;
        MergeMethod inner = dare != null ? dare.inner() : method;
        Drop drop = dare == null ? null : new Drop(dare, tasks);
        Kernel kernel = switch (inner) {
            case TaskArithmetic ta -> new Sum(tau, drop, 1.0);
            case Average av -> new Sum(tau, null, 1.0 / tasks);
            case Ties ties -> Trim.prepare(tau, drop, ties.keep(), slices);
            case Consensus c -> Agree.prepare(tau, c);
            case Dare nested -> throw new IllegalArgumentException("DARE cannot feed DARE");
        };
        double lambda = method.lambda();
        IntStream.range(0, slices.size()).parallel().forEach(s -> {
            Slice sl = slices.get(s);
            kernel.run(s, sl, out[sl.tensor], baseData == null ? null : baseData[sl.tensor], lambda);
        });

        Map<String, FloatTensor> result = new TreeMap<>();
        for (int j = 0; j < tensors; j++) {
            result.put(names.get(j), new FloatTensor(reference.get(names.get(j)).shape(), out[j]));
        }
        return new ParameterSet(result);
    }

    /** DARE's drop decision and rescale, per task and flat index. */
    private static final class Drop {
        final long[] keys;
        final double p;
        final double scale;

        Drop(Dare dare, int tasks) {
            keys = new long[tasks];
            for (int t = 0; t < tasks; t++) {
                keys[t] = Dare.key(dare.seed(), t);
            }
            p = dare.p();
            scale = 1.0 / (1.0 - p);
        }

        boolean dropped(int task, long flatIndex) {
            return Dare.uniformFromKey(keys[task], flatIndex) < p;
        }
    }

    /** Computes the merged value of each entry of a slice and stores tau_m or theta. */
    private interface Kernel {
        void run(int sliceIndex, Slice s, float[] out, float[] base, double lambda);
    }

    private static void store(float[] out, float[] base, int i, double merged, double lambda) {
        out[i] = base == null ? (float) merged : (float) (base[i] + lambda * merged);
    }

    /** Task Arithmetic (and Average, with factor 1/T): {@code factor * sum_t tau_t}. */
    private record Sum(float[][][] tau, Drop drop, double factor) implements Kernel {
        @Override
        public void run(int sliceIndex, Slice s, float[] out, float[] base, double lambda) {
            int tasks = tau.length;
            for (int i = s.from; i < s.to; i++) {
                double sum = 0;
                for (int t = 0; t < tasks; t++) {
                    float x = tau[t][s.tensor][i];
                    if (drop == null) {
                        sum += x;
                    } else if (!drop.dropped(t, s.flatStart + i - s.from)) {
                        sum += x * drop.scale;
                    }
                }
                store(out, base, i, sum * factor, lambda);
            }
        }
    }

    /**
     * TIES. Each task's top-k threshold is found on its (DARE-dropped, unscaled) float values; a
     * positive rescale does not change which entries are largest. Ties at the threshold are kept
     * in flattened order, so each slice gets its share of each task's tie budget up front.
     */
    private record Trim(float[][][] tau, Drop drop, int[] thresholdBits, long[][] quota) implements Kernel {

        static Trim prepare(float[][][] tau, Drop drop, double keep, List<Slice> slices) {
            int tasks = tau.length;
            int[] bits = new int[tasks];
            long[][] quota = new long[tasks][];
            for (int t = 0; t < tasks; t++) {
                float[][] values = drop == null ? tau[t] : dropped(tau[t], drop, t);
                TopK.Threshold th = TopK.select(values, TopK.keepCount(keep, TopK.size(values)));
                bits[t] = th.absBits();
                quota[t] = new long[slices.size()];
                if (th.allTiesKept()) {
                    Arrays.fill(quota[t], Long.MAX_VALUE);
                    continue;
                }
                long left = th.tiesKept();
                for (int s = 0; s < slices.size() && left > 0; s++) {
                    Slice sl = slices.get(s);
                    float[] a = values[sl.tensor];
                    long eq = 0;
                    for (int i = sl.from; i < sl.to; i++) {
                        if ((Float.floatToRawIntBits(a[i]) & ABS) == bits[t]) {
                            eq++;
                        }
                    }
                    quota[t][s] = Math.min(eq, left);
                    left -= quota[t][s];
                }
            }
            return new Trim(tau, drop, bits, quota);
        }

        /** Task t's values with DARE's drops zeroed (not rescaled): one task's copy at a time. */
        private static float[][] dropped(float[][] values, Drop drop, int t) {
            float[][] out = new float[values.length][];
            long flat = 0;
            for (int j = 0; j < values.length; j++) {
                float[] a = values[j];
                float[] o = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    o[i] = drop.dropped(t, flat + i) ? 0f : a[i];
                }
                out[j] = o;
                flat += a.length;
            }
            return out;
        }

        @Override
        public void run(int sliceIndex, Slice s, float[] out, float[] base, double lambda) {
            int tasks = tau.length;
            long[] left = new long[tasks];
            for (int t = 0; t < tasks; t++) {
                left[t] = quota[t][sliceIndex];
            }
            double scale = drop == null ? 1.0 : drop.scale;
            double[] trimmed = new double[tasks];
            for (int i = s.from; i < s.to; i++) {
                long flat = s.flatStart + i - s.from;
                double sum = 0;
                for (int t = 0; t < tasks; t++) {
                    float x = tau[t][s.tensor][i];
                    if (drop != null && drop.dropped(t, flat)) {
                        x = 0f;
                    }
                    int b = Float.floatToRawIntBits(x) & ABS;
                    boolean kept = b > thresholdBits[t] || (b == thresholdBits[t] && left[t]-- > 0);
                    double v = kept ? x * scale : 0.0;
                    trimmed[t] = v;
                    sum += v;
                }
                double elected = Math.signum(sum);
                double total = 0;
                int count = 0;
                for (int t = 0; t < tasks; t++) {
                    double v = trimmed[t];
                    if (v != 0 && Math.signum(v) == elected) {
                        total += v;
                        count++;
                    }
                }
                store(out, base, i, count > 0 ? total / count : 0.0, lambda);
            }
        }
    }

    /** Consensus / TALL masks. */
    private record Agree(float[][][] tau, double[] maskLambda, int k) implements Kernel {

        static Agree prepare(float[][][] tau, Consensus c) {
            int tasks = tau.length;
            List<Double> m = c.maskLambdas();
            if (m.size() != 1 && m.size() != tasks) {
                throw new IllegalArgumentException("consensus has " + m.size() + " mask lambdas for " + tasks
                        + " task vectors; give one for all or one per task");
            }
            if (c.k() > tasks) {
                throw new IllegalArgumentException("consensus k=" + c.k() + " exceeds the " + tasks
                        + " task vectors: no entry could be kept");
            }
            double[] ml = new double[tasks];
            for (int t = 0; t < tasks; t++) {
                ml[t] = m.size() == 1 ? m.getFirst() : m.get(t);
            }
            return new Agree(tau, ml, c.k());
        }

        @Override
        public void run(int sliceIndex, Slice s, float[] out, float[] base, double lambda) {
            int tasks = tau.length;
            for (int i = s.from; i < s.to; i++) {
                double mtl = 0;
                for (int t = 0; t < tasks; t++) {
                    mtl += tau[t][s.tensor][i];
                }
                int votes = 0;
                for (int t = 0; t < tasks; t++) {
                    double x = tau[t][s.tensor][i];
                    if (Math.abs(x) >= maskLambda[t] * Math.abs(mtl - x)) {
                        votes++;
                    }
                }
                store(out, base, i, votes >= k ? mtl : 0.0, lambda);
            }
        }
    }
}
