package dev.nps.coordinator;

import dev.nps.kernels.subspace.SubspacePartition;

/**
 * Settings of one NPS search. Start from {@link #defaults()} and adjust with the {@code with*}
 * methods; every invalid value fails with a one-line {@link IllegalArgumentException}.
 *
 * @param seed             CMA-ES seed; equal seeds give bit-identical trajectories
 * @param evaluators       evaluator actors on this node
 * @param abort            early stopping of hopeless candidates
 * @param statisticalDelta failure probability of the {@link AbortMode#STATISTICAL} bound
 * @param subspaces        M, the number of searched magnitude subspaces per task
 * @param partition        which entries the subspaces cover
 * @param bandFactor       c of {@link SubspacePartition.Kind#BAND}
 * @param values           what kept entries become
 * @param keep             fraction of each task vector's entries a mask keeps, in (0, 1]
 * @param generations      CMA-ES generations; always run to the end (no tolerance stop)
 * @param population       CMA-ES lambda; 0 = its default 4 + floor(3 ln n)
 * @param sigma0           initial CMA-ES step size
 * @param weightLower      lower bound of every subspace weight (> 0)
 * @param weightUpper      upper bound of every subspace weight
 * @param lambdaLower      lower bound of every lambda
 * @param lambdaUpper      upper bound of every lambda
 * @param lambdaInit       start value of every lambda; NaN = 1 for TRANSFER, 0.3 for FUSION
 * @param cache            reuse batch scores of equal candidates
 * @param batchesPerUnit   calibration batches per work unit
 * @param signElection     FUSION: TIES-style sign election; each task keeps only the entries of its mask whose
 *                         sign agrees with sign(sum of the fused masked task vectors)
 */
public record SearchConfig(long seed, int evaluators, AbortMode abort, double statisticalDelta, int subspaces,
                           SubspacePartition.Kind partition, double bandFactor, ValueMode values, double keep,
                           int generations, int population, double sigma0, double weightLower, double weightUpper,
                           double lambdaLower, double lambdaUpper, double lambdaInit, boolean cache, int batchesPerUnit,
                           boolean signElection) {

    public SearchConfig {
        require(evaluators >= 1, "evaluators must be >= 1, got " + evaluators);
        require(abort != null && partition != null && values != null, "abort mode, partition kind and value mode are required");
        require(statisticalDelta > 0 && statisticalDelta < 1, "statistical delta must lie in (0, 1), got " + statisticalDelta);
        require(subspaces >= 1, "subspaces must be >= 1, got " + subspaces);
        require(bandFactor >= 1 && Double.isFinite(bandFactor), "band factor must be finite and >= 1, got " + bandFactor);
        require(keep > 0 && keep <= 1, "keep must lie in (0, 1], got " + keep);
        require(generations >= 1, "generations must be >= 1, got " + generations);
        require(population == 0 || population >= 2, "population must be >= 2 (or 0 for the CMA-ES default), got " + population);
        require(sigma0 > 0 && Double.isFinite(sigma0), "sigma0 must be finite and > 0, got " + sigma0);
        require(weightLower > 0 && weightLower < weightUpper && Double.isFinite(weightUpper),
                "weight bounds must satisfy 0 < lower < upper < inf, got [" + weightLower + ", " + weightUpper + "]");
        require(Double.isFinite(lambdaLower) && Double.isFinite(lambdaUpper) && lambdaLower < lambdaUpper,
                "lambda bounds must be finite with lower < upper, got [" + lambdaLower + ", " + lambdaUpper + "]");
        require(Double.isNaN(lambdaInit) || (lambdaInit >= lambdaLower && lambdaInit <= lambdaUpper),
                "lambda start " + lambdaInit + " lies outside [" + lambdaLower + ", " + lambdaUpper + "]");
        require(batchesPerUnit >= 1, "batches per unit must be >= 1, got " + batchesPerUnit);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Seed 0, one evaluator, exact abort, M 8 over ALL entries, MASK, keep 0.1, 20 generations, sigma0 0.3,
     *  weights in [0.05, 5], lambdas in [0, 2], cache on, 4 batches per unit, no sign election. */
    public static SearchConfig defaults() {
        return new SearchConfig(0, 1, AbortMode.EXACT, 0.05, 8, SubspacePartition.Kind.ALL, 2.0, ValueMode.MASK, 0.1,
                20, 0, 0.3, 0.05, 5.0, 0.0, 2.0, Double.NaN, true, 4, false);
    }

    /** lambdaInit, or the kind's default when unset. */
    public double lambdaStart(SearchKind kind) {
        if (!Double.isNaN(lambdaInit)) {
            return lambdaInit;
        }
        double d = kind == SearchKind.FUSION ? 0.3 : 1.0;
        return Math.clamp(d, lambdaLower, lambdaUpper);
    }

    public SearchConfig withSeed(long v) {
        return new SearchConfig(v, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withEvaluators(int v) {
        return new SearchConfig(seed, v, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withAbort(AbortMode v) {
        return new SearchConfig(seed, evaluators, v, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withStatisticalDelta(double v) {
        return new SearchConfig(seed, evaluators, abort, v, subspaces, partition, bandFactor, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withSubspaces(int v) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, v, partition, bandFactor, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withPartition(SubspacePartition.Kind v, double band) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, v, band, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withValues(ValueMode v) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, v, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withKeep(double v) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, v,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withGenerations(int v) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                v, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withPopulation(int v) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, v, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withSigma0(double v) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, population, v, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withWeightBounds(double lo, double up) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, population, sigma0, lo, up, lambdaLower, lambdaUpper, lambdaInit, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withLambdas(double lo, double up, double init) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lo, up, init, cache, batchesPerUnit, signElection);
    }

    public SearchConfig withCache(boolean v) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, v, batchesPerUnit, signElection);
    }

    public SearchConfig withBatchesPerUnit(int v) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache, v, signElection);
    }

    public SearchConfig withSignElection(boolean v) {
        return new SearchConfig(seed, evaluators, abort, statisticalDelta, subspaces, partition, bandFactor, values, keep,
                generations, population, sigma0, weightLower, weightUpper, lambdaLower, lambdaUpper, lambdaInit, cache,
                batchesPerUnit, v);
    }
}
