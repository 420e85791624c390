package dev.nps.cmaes;

import java.util.Arrays;

/**
 * Settings of a {@link CmaEs} run. Start from {@link #defaults(long)} and adjust with the {@code with*}
 * methods. {@code lambda == 0} and {@code maxFevals == 0} mean "the default for the dimension"
 * (4 + floor(3 ln n), and purecma's 100 lambda + 150 (n+3)^2 sqrt(lambda)); null bounds mean unbounded
 * (infinite entries are allowed for one-sided or per-coordinate unbounded boxes).
 */
public record CmaEsOptions(long seed, int lambda, double[] lower, double[] upper, double ftarget,
                           long maxFevals, double tolX, double tolFun, double maxCondition) {

    public CmaEsOptions {
        if (lambda != 0 && lambda < 2) {
            throw new IllegalArgumentException("CMA-ES: lambda must be >= 2 (or 0 for the default), got " + lambda);
        }
        if (maxFevals < 0) {
            throw new IllegalArgumentException("CMA-ES: maxFevals must be >= 0, got " + maxFevals);
        }
        if ((lower == null) != (upper == null)) {
            throw new IllegalArgumentException("CMA-ES: give both lower and upper bounds or neither");
        }
        if (Double.isNaN(ftarget) || !(tolX >= 0) || !(tolFun >= 0) || !(maxCondition > 1)) {
            throw new IllegalArgumentException("CMA-ES: ftarget must not be NaN, tolX and tolFun must be >= 0, "
                    + "maxCondition > 1");
        }
        lower = lower == null ? null : lower.clone();
        upper = upper == null ? null : upper.clone();
    }

    /** Tutorial/purecma defaults: no ftarget, tolX 1e-11, tolFun 1e-12, condition limit 1e14. */
    public static CmaEsOptions defaults(long seed) {
        return new CmaEsOptions(seed, 0, null, null, Double.NEGATIVE_INFINITY, 0, 1e-11, 1e-12, 1e14);
    }

    public CmaEsOptions withSeed(long s) {
        return new CmaEsOptions(s, lambda, lower, upper, ftarget, maxFevals, tolX, tolFun, maxCondition);
    }

    public CmaEsOptions withLambda(int l) {
        return new CmaEsOptions(seed, l, lower, upper, ftarget, maxFevals, tolX, tolFun, maxCondition);
    }

    public CmaEsOptions withBounds(double[] lo, double[] up) {
        return new CmaEsOptions(seed, lambda, lo, up, ftarget, maxFevals, tolX, tolFun, maxCondition);
    }

    /** Same bounds {@code [lo, up]} in every one of {@code n} coordinates. */
    public CmaEsOptions withBounds(int n, double lo, double up) {
        double[] l = new double[n];
        double[] u = new double[n];
        Arrays.fill(l, lo);
        Arrays.fill(u, up);
        return withBounds(l, u);
    }

    public CmaEsOptions withFtarget(double f) {
        return new CmaEsOptions(seed, lambda, lower, upper, f, maxFevals, tolX, tolFun, maxCondition);
    }

    public CmaEsOptions withMaxFevals(long m) {
        return new CmaEsOptions(seed, lambda, lower, upper, ftarget, m, tolX, tolFun, maxCondition);
    }

    public CmaEsOptions withTolX(double t) {
        return new CmaEsOptions(seed, lambda, lower, upper, ftarget, maxFevals, t, tolFun, maxCondition);
    }

    public CmaEsOptions withTolFun(double t) {
        return new CmaEsOptions(seed, lambda, lower, upper, ftarget, maxFevals, tolX, t, maxCondition);
    }

    public CmaEsOptions withMaxCondition(double c) {
        return new CmaEsOptions(seed, lambda, lower, upper, ftarget, maxFevals, tolX, tolFun, c);
    }

    @Override
    public double[] lower() {
        return lower == null ? null : lower.clone();
    }

    @Override
    public double[] upper() {
        return upper == null ? null : upper.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CmaEsOptions x && seed == x.seed && lambda == x.lambda
                && Arrays.equals(lower, x.lower) && Arrays.equals(upper, x.upper)
                && Double.compare(ftarget, x.ftarget) == 0 && maxFevals == x.maxFevals
                && Double.compare(tolX, x.tolX) == 0 && Double.compare(tolFun, x.tolFun) == 0
                && Double.compare(maxCondition, x.maxCondition) == 0;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(seed, lambda, Arrays.hashCode(lower), Arrays.hashCode(upper), ftarget,
                maxFevals, tolX, tolFun, maxCondition);
    }

    @Override
    public String toString() {
        return "CmaEsOptions[seed=" + seed + ", lambda=" + lambda + ", lower=" + Arrays.toString(lower)
                + ", upper=" + Arrays.toString(upper) + ", ftarget=" + ftarget + ", maxFevals=" + maxFevals
                + ", tolX=" + tolX + ", tolFun=" + tolFun + ", maxCondition=" + maxCondition + "]";
    }
}
