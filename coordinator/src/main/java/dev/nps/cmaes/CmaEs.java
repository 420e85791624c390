package dev.nps.cmaes;

import dev.nps.protocol.CmaesCandidate;
import dev.nps.protocol.CmaesState;
import dev.nps.protocol.CmaesStopCriteria;
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
 * <p>Not thread-safe; one owner calls ask, tell, ask, tell, ...
 */
public final class CmaEs {
    private static final int FORMAT_VERSION = 1;

    // --- static strategy parameters (Table 1) ---
    private final int n;
    private final int lambda;
    private final int mu;
    private final double[] weights;
    private final double mueff;
    private final double cs;
    private final double ds;
    private final double cc;
    private final double c1;
    private final double cmu;
    private final double chiN;
    private final double eigenGapEvals;

    // --- stop criteria and bounds ---
    private final double ftarget;
    private final long maxFevals;
    private final double tolX;
    private final double tolFun;
    private final double maxCondition;
    private final double[] lower;
    private final double[] upper;

    // --- dynamic state ---
    private final double[] mean;      // genotype
    private double sigma;
    private final double[] c;         // n*n row-major, kept exactly symmetric
    private final double[] pc;
    private final double[] ps;
    private final double[] b;         // eigenvectors of C as columns
    private final double[] d;         // sqrt(eigenvalues of C)
    private long eigenEvals;
    private long generation;
    private long evaluations;
    private double[] bestX;           // phenotype, null before the first tell
    private double bestF = Double.POSITIVE_INFINITY;
    private long bestEvaluation;
    private double[] lastFitness = new double[0];
    private double[][] pendingGeno;   // null when no ask is outstanding
    private double[][] pendingPheno;
    private final CmaRandom rng;

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
        n = x0.length;
        double[] lo = options.lower();
        double[] up = options.upper();
        lower = new double[n];
        upper = new double[n];
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

        // Selection and recombination (Table 1): lambda = 4 + floor(3 ln n), mu = floor(lambda/2),
        // positive log weights w_i ~ ln((lambda+1)/2) - ln i, normalised to sum to one.
        lambda = options.lambda() != 0 ? options.lambda() : 4 + (int) Math.floor(3 * StrictMath.log(n));
        mu = lambda / 2;
        weights = new double[mu];
        double sum = 0;
        for (int i = 0; i < mu; i++) {
            weights[i] = StrictMath.log((lambda + 1) / 2.0) - StrictMath.log(i + 1);
            sum += weights[i];
        }
        double sumSq = 0;
        for (int i = 0; i < mu; i++) {
            weights[i] /= sum;
            sumSq += weights[i] * weights[i];
        }
        mueff = 1.0 / sumSq; // (sum w)^2 / sum w^2 with sum w = 1

        // Step-size control (Table 1).
        cs = (mueff + 2) / (n + mueff + 5);
        ds = 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + cs;
        // Covariance matrix adaptation (Table 1, alpha_cov = 2).
        cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n);
        c1 = 2 / ((n + 1.3) * (n + 1.3) + mueff);
        cmu = Math.min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) * (n + 2) + mueff));
        chiN = Math.sqrt(n) * (1 - 1.0 / (4 * n) + 1.0 / (21.0 * n * n)); // E||N(0,I)||
        eigenGapEvals = lambda / (c1 + cmu) / n / 10;

        ftarget = options.ftarget();
        maxFevals = options.maxFevals() != 0 ? options.maxFevals()
                : (long) Math.floor(100.0 * lambda + 150.0 * (n + 3) * (n + 3) * Math.sqrt(lambda));
        tolX = options.tolX();
        tolFun = options.tolFun();
        maxCondition = options.maxCondition();

        mean = x0.clone();
        sigma = sigma0;
        c = identity(n);
        b = identity(n);
        d = new double[n];
        Arrays.fill(d, 1.0);
        pc = new double[n];
        ps = new double[n];
        rng = new CmaRandom(options.seed());
    }

    /**
     * The lambda candidates of the current generation, each inside the bounds (fresh copies). Calling
     * it again before {@link #tell} returns the same candidates, so a restored snapshot taken between
     * ask and tell hands out exactly what was outstanding.
     */
    public List<double[]> ask() {
        if (pendingGeno == null) {
            double[][] geno = new double[lambda][];
            double[][] pheno = new double[lambda][];
            double[] z = new double[n];
            for (int k = 0; k < lambda; k++) {
                for (int i = 0; i < n; i++) {
                    z[i] = rng.nextGaussian();               // z_k ~ N(0, I)            (38)
                }
                double[] x = new double[n];
                for (int i = 0; i < n; i++) {
                    double yi = 0;                           // y_k = B D z_k ~ N(0, C)  (39)
                    for (int j = 0; j < n; j++) {
                        yi += b[i * n + j] * (d[j] * z[j]);
                    }
                    x[i] = mean[i] + sigma * yi;             // x_k = m + sigma y_k      (40)
                }
                geno[k] = x;
                pheno[k] = toPhenotype(x);
            }
            pendingGeno = geno;
            pendingPheno = pheno;
        }
        List<double[]> out = new ArrayList<>(lambda);
        for (double[] x : pendingPheno) {
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
        if (pendingGeno == null) {
            throw new IllegalStateException("CMA-ES: tell() without an outstanding ask()");
        }
        if (candidates.length != lambda || fitness.length != lambda) {
            throw new IllegalArgumentException("CMA-ES: tell() needs " + lambda + " candidates and fitness values, got "
                    + candidates.length + " and " + fitness.length);
        }
        double[] fitByAsk = new double[lambda];
        boolean[] seen = new boolean[lambda];
        for (int k = 0; k < lambda; k++) {
            if (Double.isNaN(fitness[k])) {
                throw new IllegalArgumentException("CMA-ES: fitness[" + k + "] is NaN");
            }
            int j = 0;
            while (j < lambda && (seen[j] || !Arrays.equals(pendingPheno[j], candidates[k]))) {
                j++;
            }
            if (j == lambda) {
                throw new IllegalArgumentException("CMA-ES: candidate " + k + " is not one of the candidates of the last ask()");
            }
            seen[j] = true;
            fitByAsk[j] = fitness[k];
        }
        Integer[] order = new Integer[lambda];
        for (int j = 0; j < lambda; j++) {
            order[j] = j;
        }
        Arrays.sort(order, (p, q) -> {
            int cmp = Double.compare(fitByAsk[p], fitByAsk[q]);
            return cmp != 0 ? cmp : Integer.compare(p, q);
        });

        evaluations += lambda;
        generation++;
        lastFitness = new double[lambda];
        for (int r = 0; r < lambda; r++) {
            lastFitness[r] = fitByAsk[order[r]];
        }
        if (lastFitness[0] < bestF) {
            bestF = lastFitness[0];
            bestX = pendingPheno[order[0]].clone();
            bestEvaluation = evaluations;
        }

        double[][] y = new double[mu][n];                    // y_{i:lambda} = (x_{i:lambda} - m) / sigma
        for (int r = 0; r < mu; r++) {
            double[] x = pendingGeno[order[r]];
            for (int i = 0; i < n; i++) {
                y[r][i] = (x[i] - mean[i]) / sigma;
            }
        }
        double[] yw = new double[n];                         // <y>_w = sum_i w_i y_{i:lambda}   (41)
        for (int r = 0; r < mu; r++) {
            for (int i = 0; i < n; i++) {
                yw[i] += weights[r] * y[r][i];
            }
        }
        for (int i = 0; i < n; i++) {
            mean[i] += sigma * yw[i];                        // m <- m + c_m sigma <y>_w, c_m = 1 (42)
        }

        double[] zw = invSqrtC(yw);                          // C^{-1/2} <y>_w = B D^{-1} B^T <y>_w
        double csn = Math.sqrt(cs * (2 - cs) * mueff);
        double psSq = 0;
        for (int i = 0; i < n; i++) {
            ps[i] = (1 - cs) * ps[i] + csn * zw[i];          // p_sigma update                  (43)
            psSq += ps[i] * ps[i];
        }
        double psNorm = Math.sqrt(psSq);
        // h_sigma (tutorial, below (47)): stall the p_c update while ||p_sigma|| is large.
        boolean hsig = psNorm / Math.sqrt(1 - StrictMath.pow(1 - cs, 2.0 * generation))
                < (1.4 + 2.0 / (n + 1)) * chiN;
        double ccn = hsig ? Math.sqrt(cc * (2 - cc) * mueff) : 0;
        for (int i = 0; i < n; i++) {
            pc[i] = (1 - cc) * pc[i] + ccn * yw[i];          // p_c update                       (45)
        }

        double deltaH = hsig ? 0 : cc * (2 - cc);            // delta(h_sigma) = (1 - h_sigma) c_c (2 - c_c)
        double sumW = 0;
        for (double w : weights) {
            sumW += w;
        }
        double decay = 1 + c1 * deltaH - c1 - cmu * sumW;
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {                    // C update: decay + rank-one + rank-mu (47)
                double rankMu = 0;
                for (int r = 0; r < mu; r++) {
                    rankMu += weights[r] * y[r][i] * y[r][j];
                }
                double v = decay * c[i * n + j] + c1 * pc[i] * pc[j] + cmu * rankMu;
                c[i * n + j] = v;
                c[j * n + i] = v;
            }
        }
        // sigma <- sigma exp(c_sigma/d_sigma (||p_sigma|| / E||N(0,I)|| - 1)), exponent capped at 1 (44)
        sigma *= StrictMath.exp(Math.min(1.0, cs / ds * (psNorm / chiN - 1)));

        foldMeanIntoPeriod();
        if (evaluations - eigenEvals > eigenGapEvals) {
            updateEigensystem();
        }
        pendingGeno = null;
        pendingPheno = null;
    }

    /** The criteria that currently hold; empty while the run should go on (always before the first tell). */
    public EnumSet<StopReason> stop() {
        EnumSet<StopReason> reasons = EnumSet.noneOf(StopReason.class);
        if (evaluations == 0) {
            return reasons;
        }
        if (bestF <= ftarget) {
            reasons.add(StopReason.FTARGET);
        }
        if (evaluations >= maxFevals) {
            reasons.add(StopReason.MAXFEVALS);
        }
        double dMax = max(d);
        if (sigma * dMax < tolX) {
            reasons.add(StopReason.TOLX);
        }
        if (lastFitness.length > 1 && lastFitness[lastFitness.length - 1] - lastFitness[0] < tolFun) {
            reasons.add(StopReason.TOLFUN);
        }
        if (conditionNumber() > maxCondition) {
            reasons.add(StopReason.CONDITION);
        }
        return reasons;
    }

    /** The distribution mean mapped into the bounds (the current point estimate). */
    public double[] mean() {
        return toPhenotype(mean);
    }

    public double sigma() {
        return sigma;
    }

    /** Best candidate told so far (a copy), or null before the first tell. */
    public double[] bestSolution() {
        return bestX == null ? null : bestX.clone();
    }

    /** Fitness of {@link #bestSolution()}, +Infinity before the first tell. */
    public double bestFitness() {
        return bestF;
    }

    /** Completed generations (tells). */
    public long generation() {
        return generation;
    }

    /** Fitness evaluations told so far (lambda per generation). */
    public long evaluations() {
        return evaluations;
    }

    public int dimension() {
        return n;
    }

    public int lambda() {
        return lambda;
    }

    public int mu() {
        return mu;
    }

    /** Condition number of C (ratio of its largest to its smallest eigenvalue) at the last decomposition. */
    public double conditionNumber() {
        double ratio = max(d) / min(d);
        return ratio * ratio;
    }

    // --------------------------------------------------------------------------------------------
    // Snapshot

    /** The complete state; {@link #fromProto} of it continues this run bit-identically. */
    public CmaesState toProto() {
        CmaesState.Builder s = CmaesState.newBuilder()
                .setFormatVersion(FORMAT_VERSION)
                .setDimension(n).setLambda(lambda).setMu(mu)
                .addAllWeights(boxed(weights))
                .setMueff(mueff).setCSigma(cs).setDSigma(ds).setCC(cc).setC1(c1).setCMu(cmu).setChiN(chiN)
                .setEigenGapEvals(eigenGapEvals)
                .addAllMean(boxed(mean)).setSigma(sigma)
                .addAllC(boxed(c)).addAllPc(boxed(pc)).addAllPs(boxed(ps))
                .addAllB(boxed(b)).addAllD(boxed(d)).setEigenEvaluations(eigenEvals)
                .setGeneration(generation).setEvaluations(evaluations)
                .setBestFitness(bestF).setBestEvaluation(bestEvaluation)
                .addAllLastFitness(boxed(lastFitness))
                .setRng(rng.toProto())
                .addAllLower(boxed(lower)).addAllUpper(boxed(upper))
                .setStop(CmaesStopCriteria.newBuilder().setFtarget(ftarget).setMaxFevals(maxFevals)
                        .setTolX(tolX).setTolFun(tolFun).setMaxCondition(maxCondition));
        if (bestX != null) {
            s.addAllBestSolution(boxed(bestX));
        }
        if (pendingGeno != null) {
            for (int k = 0; k < lambda; k++) {
                s.addPending(CmaesCandidate.newBuilder()
                        .addAllGenotype(boxed(pendingGeno[k])).addAllPhenotype(boxed(pendingPheno[k])));
            }
        }
        return s.build();
    }

    /**
     * Restores a run from {@link #toProto()}; constants are taken from the snapshot, not recomputed.
     *
     * @throws IllegalArgumentException with a one-line message if the snapshot is inconsistent
     */
    public static CmaEs fromProto(CmaesState s) {
        return new CmaEs(s);
    }

    private CmaEs(CmaesState s) {
        if (s.getFormatVersion() != FORMAT_VERSION) {
            throw new IllegalArgumentException("CMA-ES state: unsupported format_version " + s.getFormatVersion()
                    + " (expected " + FORMAT_VERSION + ")");
        }
        n = s.getDimension();
        lambda = s.getLambda();
        mu = s.getMu();
        if (n < 1 || lambda < 2 || mu < 1 || mu > lambda) {
            throw new IllegalArgumentException("CMA-ES state: bad sizes dimension=" + n + " lambda=" + lambda + " mu=" + mu);
        }
        weights = unboxed("weights", s.getWeightsList(), mu);
        mueff = s.getMueff();
        cs = s.getCSigma();
        ds = s.getDSigma();
        cc = s.getCC();
        c1 = s.getC1();
        cmu = s.getCMu();
        chiN = s.getChiN();
        eigenGapEvals = s.getEigenGapEvals();
        ftarget = s.getStop().getFtarget();
        maxFevals = s.getStop().getMaxFevals();
        tolX = s.getStop().getTolX();
        tolFun = s.getStop().getTolFun();
        maxCondition = s.getStop().getMaxCondition();
        lower = unboxed("lower", s.getLowerList(), n);
        upper = unboxed("upper", s.getUpperList(), n);
        mean = unboxed("mean", s.getMeanList(), n);
        sigma = s.getSigma();
        c = unboxed("c", s.getCList(), n * n);
        pc = unboxed("pc", s.getPcList(), n);
        ps = unboxed("ps", s.getPsList(), n);
        b = unboxed("b", s.getBList(), n * n);
        d = unboxed("d", s.getDList(), n);
        eigenEvals = s.getEigenEvaluations();
        generation = s.getGeneration();
        evaluations = s.getEvaluations();
        bestX = s.getBestSolutionCount() == 0 ? null : unboxed("best_solution", s.getBestSolutionList(), n);
        bestF = s.getBestFitness();
        bestEvaluation = s.getBestEvaluation();
        lastFitness = unboxed("last_fitness", s.getLastFitnessList(), s.getLastFitnessCount());
        if (!s.hasRng()) {
            throw new IllegalArgumentException("CMA-ES state: missing rng");
        }
        rng = CmaRandom.fromProto(s.getRng());
        if (s.getPendingCount() != 0) {
            if (s.getPendingCount() != lambda) {
                throw new IllegalArgumentException("CMA-ES state: " + s.getPendingCount() + " pending candidates, lambda is " + lambda);
            }
            pendingGeno = new double[lambda][];
            pendingPheno = new double[lambda][];
            for (int k = 0; k < lambda; k++) {
                pendingGeno[k] = unboxed("pending genotype", s.getPending(k).getGenotypeList(), n);
                pendingPheno[k] = unboxed("pending phenotype", s.getPending(k).getPhenotypeList(), n);
            }
        }
        if (!(sigma > 0) || Double.isInfinite(sigma)) {
            throw new IllegalArgumentException("CMA-ES state: sigma must be finite and > 0, got " + sigma);
        }
    }

    // --------------------------------------------------------------------------------------------
    // Internals

    /** C^{-1/2} v = B D^{-1} B^T v, with the eigensystem of the last decomposition. */
    private double[] invSqrtC(double[] v) {
        double[] t = new double[n];
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += b[i * n + j] * v[i];
            }
            t[j] = s / d[j];
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += b[i * n + j] * t[j];
            }
            out[i] = s;
        }
        return out;
    }

    /** C = B D^2 B^T. Eigenvalues that rounding drove to (or below) zero are floored at 1e-30 of the largest,
     *  which makes the condition stop fire instead of dividing by zero. */
    private void updateEigensystem() {
        double[] values = new double[n];
        SymmetricEigen.decompose(c, n, values, b);
        double vMax = max(values);
        if (!(vMax > 0) || Double.isInfinite(vMax)) {
            throw new IllegalStateException("CMA-ES: covariance matrix degenerated (largest eigenvalue " + vMax + ")");
        }
        for (int i = 0; i < n; i++) {
            d[i] = Math.sqrt(Math.max(values[i], vMax * 1e-30));
        }
        eigenEvals = evaluations;
    }

    private double[] toPhenotype(double[] y) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = reflect(y[i], lower[i], upper[i]);
        }
        return x;
    }

    /**
     * Maps genotype {@code y} into {@code [lo, up]} by mirroring at the bounds: identity inside, and for
     * a finite box a triangle wave of period 2 (up - lo); with one infinite bound, a single mirror.
     */
    static double reflect(double y, double lo, double up) {
        if (y >= lo && y <= up) {
            return y;
        }
        if (lo == Double.NEGATIVE_INFINITY) {
            return up - (y - up);                            // y > up
        }
        if (up == Double.POSITIVE_INFINITY) {
            return lo + (lo - y);                            // y < lo
        }
        double w = up - lo;
        double t = y - lo;
        t -= 2 * w * Math.floor(t / (2 * w));                // t in [0, 2w)
        double x = t <= w ? lo + t : lo + (2 * w - t);
        return Math.min(up, Math.max(lo, x));                // guard against rounding at the edges
    }

    /** Shift each boxed mean coordinate by whole periods 2w into [lo - w/2, up + w/2): same phenotypes, no drift. */
    private void foldMeanIntoPeriod() {
        for (int i = 0; i < n; i++) {
            if (Double.isFinite(lower[i]) && Double.isFinite(upper[i])) {
                double w = upper[i] - lower[i];
                double start = lower[i] - w / 2;
                if (mean[i] < start || mean[i] >= start + 2 * w) {
                    mean[i] -= 2 * w * Math.floor((mean[i] - start) / (2 * w));
                }
            }
        }
    }

    private static double[] identity(int n) {
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++) {
            m[i * n + i] = 1.0;
        }
        return m;
    }

    private static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    private static double min(double[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    private static List<Double> boxed(double[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (double x : v) {
            out.add(x);
        }
        return out;
    }

    private static double[] unboxed(String field, List<Double> v, int expected) {
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
