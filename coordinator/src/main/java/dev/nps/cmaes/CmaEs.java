package dev.nps.cmaes;

import dev.nps.protocol.CmaesState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;

/**
 * Ask/tell CMA-ES (covariance matrix adaptation evolution strategy) for minimisation, written in the
 * style of pycma's {@code purecma.py}: one readable update per line, each naming its equation in
 * N. Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772 (2016), Sect. "Summary"
 * (Eqs. 38-47) and Table 1 (defaults). Algorithm per generation: sample lambda candidates
 * x_k = m + sigma B D z_k, rank them by fitness, move the mean to the weighted mean of the best mu,
 * update the evolution paths p_sigma (cumulative step-size adaptation) and p_c, update C by a
 * rank-one plus rank-mu update, and adapt sigma from the length of p_sigma. C is eigendecomposed
 * lazily, every lambda/(c_1+c_mu)/n/10 evaluations (tutorial's reference code), by Jacobi rotations.
 *
 * <p>Deviations from the tutorial: recombination weights are the positive log weights only (no
 * negative "active" weights; purecma's default too); the exponent of the step-size update (44) is
 * capped at 1, as in purecma/pycma; the stop criteria are purecma's (tolFun looks at the last
 * generation only); optional box bounds (below). Unlike purecma, d_sigma, h_sigma and the sigma
 * update use the tutorial's forms (Table 1 and (44)) rather than purecma's squared-norm variants.
 * Median evaluation counts of pycma 4.5.0 on sphere, ellipsoid and Rosenbrock (5-20-D) are matched
 * within 7% (CmaEsBenchmarkTest).
 *
 * <p>Bounds: CMA-ES works on an unbounded genotype y; each bounded coordinate is mapped to the
 * phenotype x by reflection (mirroring) at the bounds: with w = u - l and t = (y - l) mod 2w,
 * x = l + t if t <= w, else l + 2w - t (a triangle wave; a one-sided bound mirrors once). Like
 * pycma's BoundTransform the map is periodic and the identity inside the box, so a run that stays
 * inside is unaffected. Candidates from {@link #ask()} always lie in the box; {@link #tell} maps them
 * back to the genotypes they came from; the mean is shifted by whole periods to stay near the box
 * (which leaves the phenotype distribution unchanged).
 *
 * <p>Reproducibility: all randomness comes from a seeded xoshiro256** generator whose state is part
 * of {@link #toProto()}; arithmetic is plain IEEE double plus {@link StrictMath}, so equal seeds give
 * bit-identical runs and {@code fromProto(toProto())} continues a run bit-identically.
 *
 * <p>Structure, as purecma is split: {@link CmaParameters} (the constants of Table 1, fixed per run),
 * {@link CmaState} (the mutable state; its methods are the phases of a generation, which {@link #tell}
 * runs in order), {@link CovarianceMatrix} (C with its lazy eigensystem: rank-one and rank-mu updates,
 * C^{-1/2}, condition number), {@link BoxBounds} (the reflection) and {@link StopCriteria}. This class
 * checks input, runs the phases and assembles the {@link CmaesState} snapshot from what each part writes.
 *
 * <p>Not thread-safe; one owner calls ask, tell, ask, tell, ...
 */
public final class CmaEs {
    private static final int FORMAT_VERSION = 1;

    private final CmaParameters params;
    private final StopCriteria stopCriteria;
    private final BoxBounds bounds;
    private final CmaState state;

    /**
     * Starts a run at mean {@code x0} (inside the bounds, if any) with step size {@code sigma0}.
     *
     * @throws IllegalArgumentException with a one-line message on invalid input
     */
    public CmaEs(double[] x0, double sigma0, CmaEsOptions options) {
        if (x0 == null || x0.length == 0) {
            throw new IllegalArgumentException("CMA-ES: x0 must have at least one coordinate");
        }
        if (!(sigma0 > 0) || Double.isInfinite(sigma0)) {
            throw new IllegalArgumentException("CMA-ES: sigma0 must be finite and > 0, got " + sigma0);
        }
        int n = x0.length;
        double[] lo = options.lower();
        double[] up = options.upper();
        double[] lower = new double[n];
        double[] upper = new double[n];
        Arrays.fill(lower, Double.NEGATIVE_INFINITY);
        Arrays.fill(upper, Double.POSITIVE_INFINITY);
        if (lo != null) {
            if (lo.length != n || up.length != n) {
                throw new IllegalArgumentException("CMA-ES: bounds have " + lo.length + "/" + up.length
                        + " entries, dimension is " + n);
            }
            System.arraycopy(lo, 0, lower, 0, n);
            System.arraycopy(up, 0, upper, 0, n);
        }
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(x0[i])) {
                throw new IllegalArgumentException("CMA-ES: x0[" + i + "] is not finite: " + x0[i]);
            }
            if (Double.isNaN(lower[i]) || Double.isNaN(upper[i]) || !(lower[i] < upper[i])
                    || lower[i] == Double.POSITIVE_INFINITY || upper[i] == Double.NEGATIVE_INFINITY) {
                throw new IllegalArgumentException("CMA-ES: bounds of coordinate " + i + " must satisfy lower < upper, got ["
                        + lower[i] + ", " + upper[i] + "]");
            }
            if (x0[i] < lower[i] || x0[i] > upper[i]) {
                throw new IllegalArgumentException("CMA-ES: x0[" + i + "] = " + x0[i] + " lies outside its bounds ["
                        + lower[i] + ", " + upper[i] + "]");
            }
        }
        params = CmaParameters.of(n, options.lambda());
        stopCriteria = StopCriteria.of(options, n, params.lambda());
        bounds = new BoxBounds(lower, upper);
        state = new CmaState(params, bounds, x0, sigma0, options.seed());
    }

    private CmaEs(CmaParameters params, StopCriteria stopCriteria, BoxBounds bounds, CmaState state) {
        this.params = params;
        this.stopCriteria = stopCriteria;
        this.bounds = bounds;
        this.state = state;
    }

    /**
     * The lambda candidates of the current generation, each inside the bounds (fresh copies). Calling
     * it again before {@link #tell} returns the same candidates, so a restored snapshot taken between
     * ask and tell hands out exactly what was outstanding.
     */
    public List<double[]> ask() {
        double[][] pending = state.pendingCandidates();     // sampled by (38)-(40) if none is outstanding
        List<double[]> out = new ArrayList<>(pending.length);
        for (double[] x : pending) {
            out.add(x.clone());
        }
        return out;
    }

    /**
     * Reports the fitness (lower is better) of the candidates of the last {@link #ask()} and runs one
     * generation of updates. {@code candidates} must be exactly the asked ones, in any order;
     * {@code fitness[k]} belongs to {@code candidates[k]}. Ties are broken by ask order, so the
     * result does not depend on the order of the arguments. Infinite fitness is allowed, NaN is not.
     */
    public void tell(double[][] candidates, double[] fitness) {
        double[] f = state.fitnessInAskOrder(candidates, fitness);
        int[] order = ranking(f);                       // ask indices, best first, ties by ask order
        state.countGeneration(f, order);                // counters, ranked fitness, best so far
        double[][] y = state.selectedSteps(order);      // y_{i:lambda} = (x_{i:lambda} - m) / sigma
        double[] yw = params.recombine(y);              // <y>_w = sum_i w_i y_{i:lambda}         (41)
        state.moveMean(yw);                             // m <- m + sigma <y>_w                   (42)
        double psNorm = state.updateSigmaPath(yw);      // p_sigma, cumulative step-size path     (43)
        boolean hsig = state.hSigma(psNorm);            // h_sigma                     (below (47))
        state.updateCovariancePath(yw, hsig);           // p_c                                    (45)
        state.adaptCovariance(y, hsig);                 // C: decay + rank-one + rank-mu          (47)
        state.adaptStepSize(psNorm);                    // sigma from ||p_sigma||                 (44)
        state.endGeneration();                          // fold mean into the box, lazy B and D
    }

    /** Ask indices sorted by fitness; ties by ask index, so the ranking is a total order. */
    private static int[] ranking(double[] fitByAsk) {
        Integer[] order = new Integer[fitByAsk.length];
        for (int j = 0; j < order.length; j++) {
            order[j] = j;
        }
        Arrays.sort(order, (p, q) -> {
            int cmp = Double.compare(fitByAsk[p], fitByAsk[q]);
            return cmp != 0 ? cmp : Integer.compare(p, q);
        });
        int[] out = new int[order.length];
        for (int r = 0; r < out.length; r++) {
            out[r] = order[r];
        }
        return out;
    }

    /** The criteria that currently hold; empty while the run should go on (always before the first tell). */
    public EnumSet<StopReason> stop() {
        return stopCriteria.holding(state);
    }

    /** The distribution mean mapped into the bounds (the current point estimate). */
    public double[] mean() {
        return state.phenotypeMean();
    }

    public double sigma() {
        return state.sigma();
    }

    /** Best candidate told so far (a copy), or null before the first tell. */
    public double[] bestSolution() {
        return state.bestSolution();
    }

    /** Fitness of {@link #bestSolution()}, +Infinity before the first tell. */
    public double bestFitness() {
        return state.bestFitness();
    }

    /** Completed generations (tells). */
    public long generation() {
        return state.generation();
    }

    /** Fitness evaluations told so far (lambda per generation). */
    public long evaluations() {
        return state.evaluations();
    }

    public int dimension() {
        return params.n();
    }

    public int lambda() {
        return params.lambda();
    }

    public int mu() {
        return params.mu();
    }

    /** Condition number of C (ratio of its largest to its smallest eigenvalue) at the last decomposition. */
    public double conditionNumber() {
        return state.covariance().conditionNumber();
    }

    /** {@link BoxBounds#reflect}, kept here where CmaEsBoundsTest calls it. */
    static double reflect(double y, double lo, double up) {
        return BoxBounds.reflect(y, lo, up);
    }

    // --------------------------------------------------------------------------------------------
    // Snapshot

    /** The complete state; {@link #fromProto} of it continues this run bit-identically. */
    public CmaesState toProto() {
        CmaesState.Builder s = CmaesState.newBuilder().setFormatVersion(FORMAT_VERSION);
        params.writeTo(s);
        s.setStop(stopCriteria.toProto());
        bounds.writeTo(s);
        state.writeTo(s);
        return s.build();
    }

    /**
     * Restores a run from {@link #toProto()}; constants are taken from the snapshot, not recomputed.
     *
     * @throws IllegalArgumentException with a one-line message if the snapshot is inconsistent
     */
    public static CmaEs fromProto(CmaesState s) {
        if (s.getFormatVersion() != FORMAT_VERSION) {
            throw new IllegalArgumentException("CMA-ES state: unsupported format_version " + s.getFormatVersion()
                    + " (expected " + FORMAT_VERSION + ")");
        }
        CmaParameters params = CmaParameters.fromProto(s);
        StopCriteria stop = StopCriteria.fromProto(s.getStop());
        BoxBounds bounds = BoxBounds.fromProto(s, params.n());
        return new CmaEs(params, stop, bounds, new CmaState(s, params, bounds));
    }
}
