package dev.nps.kernels.merge;

import dev.nps.storage.ParameterSet;
import java.util.List;

/**
 * A weight-space merge of task vectors {@code tau_t = theta_ft_t - theta_base} (all with the
 * base's tensor names and shapes). Every method first builds a merged task vector {@code tau_m}
 * and then {@code theta = base + lambda() * tau_m}; per-entry sums are accumulated in double and
 * stored as float32. "Global" operations (TIES's top-k, DARE's random stream) run over the
 * flattened vector in {@link ParameterSet} order.
 */
public sealed interface MergeMethod
        permits MergeMethod.TaskArithmetic, MergeMethod.Ties, MergeMethod.Dare, MergeMethod.Consensus, MergeMethod.Average {

    /** The factor applied to the merged task vector. */
    double lambda();

    /**
     * {@code theta = base + lambda() * tau_m}, computed per entry in double from the unrounded
     * {@code tau_m}; taus are in spec order (DARE's random stream depends on it).
     */
    default ParameterSet merge(ParameterSet base, List<ParameterSet> taus) {
        return Merger.run(this, base, taus);
    }

    /**
     * The merged task vector {@code tau_m} as float32, so that a search over lambda (or a mask
     * over it) need not redo the merge: {@code plusScaled(base, tau_m, lambda())} equals
     * {@link #merge} up to the float rounding of {@code tau_m}.
     */
    default ParameterSet mergedTaskVector(List<ParameterSet> taus) {
        return Merger.run(this, null, taus);
    }

    /** {@code base + lambda * delta} per entry, in double, stored as float32. */
    static ParameterSet plusScaled(ParameterSet base, ParameterSet delta, double lambda) {
        Merger.checkSameLayout(base, "the base", delta, "delta");
        return base.plusScaled(delta, lambda);
    }

    /** Task Arithmetic: {@code tau_m = sum_t tau_t}. */
    record TaskArithmetic(double lambda) implements MergeMethod {
        public TaskArithmetic {
            Merger.checkLambda(lambda);
        }
    }

    /**
     * TIES: each tau_t trimmed to its own global top-{@code keep} by magnitude; per entry the
     * elected sign is that of the sum of trimmed values (sign 0 elects nothing); {@code tau_m} is
     * the mean of the nonzero trimmed values carrying the elected sign (0 if none).
     */
    record Ties(double keep, double lambda) implements MergeMethod {
        public Ties {
            if (!(keep > 0 && keep <= 1)) {
                throw new IllegalArgumentException("keep must be in (0, 1], got " + keep);
            }
            Merger.checkLambda(lambda);
        }
    }

    /**
     * DARE: each entry i (flat index) of task t (spec order, 0-based) is dropped when
     * {@link #uniform(long, int, long) uniform(seed, t, i)} {@code < p} and otherwise rescaled by
     * {@code 1 / (1 - p)}; the result feeds {@code inner}, Task Arithmetic or TIES, whose lambda
     * applies.
     */
    record Dare(double p, long seed, MergeMethod inner) implements MergeMethod {
        public Dare {
            if (!(p >= 0 && p < 1)) {
                throw new IllegalArgumentException("DARE drop rate p must be in [0, 1), got " + p);
            }
            if (!(inner instanceof TaskArithmetic || inner instanceof Ties)) {
                throw new IllegalArgumentException("DARE feeds Task Arithmetic or TIES, not " + inner);
            }
        }

        @Override
        public double lambda() {
            return inner.lambda();
        }

        /** The SplitMix64 finalizer (64-bit wrap-around arithmetic). */
        public static long splitmix64(long z) {
            z += 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        /** Per-task stream key: {@code splitmix64(seed ^ splitmix64(task))}. */
        public static long key(long seed, int task) {
            return splitmix64(seed ^ splitmix64(task));
        }

        /**
         * Counter-based uniform in [0, 1): {@code (splitmix64(key + i) >>> 11) * 2^-53}. Any entry's
         * draw is computable alone, so drops do not depend on tensor order or threading.
         */
        public static double uniform(long seed, int task, long index) {
            return uniformFromKey(key(seed, task), index);
        }

        static double uniformFromKey(long key, long index) {
            return (splitmix64(key + index) >>> 11) * 0x1.0p-53;
        }
    }

    /**
     * Consensus (TALL masks): {@code tau_MTL = sum_t tau_t}; task t supports entry d when
     * {@code |tau_t[d]| >= maskLambda_t * |tau_MTL[d] - tau_t[d]|}; {@code tau_m} keeps
     * {@code tau_MTL} where at least {@code k} tasks support it. {@code maskLambdas} holds one value
     * for every task or one per task (spec order).
     */
    record Consensus(int k, List<Double> maskLambdas, double lambda) implements MergeMethod {
        public static final int DEFAULT_K = 2;
        public static final double DEFAULT_MASK_LAMBDA = 0.4;

        public Consensus {
            if (k < 1) {
                throw new IllegalArgumentException("consensus k must be >= 1, got " + k);
            }
            maskLambdas = List.copyOf(maskLambdas);
            if (maskLambdas.isEmpty()) {
                throw new IllegalArgumentException("consensus needs a mask lambda");
            }
            for (double m : maskLambdas) {
                if (!(m >= 0) || !Double.isFinite(m)) {
                    throw new IllegalArgumentException("mask lambda must be finite and >= 0, got " + m);
                }
            }
            Merger.checkLambda(lambda);
        }

        /** The same mask lambda for every task. */
        public Consensus(int k, double maskLambda, double lambda) {
            this(k, List.of(maskLambda), lambda);
        }

        /** k = 2 and mask lambda 0.4 for every task, the TALL-mask defaults. */
        public Consensus(double lambda) {
            this(DEFAULT_K, DEFAULT_MASK_LAMBDA, lambda);
        }
    }

    /** Average of the fine-tuned models: {@code tau_m = (1/T) sum_t tau_t}, lambda 1. */
    record Average() implements MergeMethod {
        @Override
        public double lambda() {
            return 1.0;
        }
    }
}
