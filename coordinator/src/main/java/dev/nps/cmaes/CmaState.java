package dev.nps.cmaes;

import static dev.nps.cmaes.ProtoArrays.boxed;
import static dev.nps.cmaes.ProtoArrays.unboxed;

import dev.nps.protocol.CmaesCandidate;
import dev.nps.protocol.CmaesState;
import java.util.Arrays;

/**
 * The mutable state of a run: the distribution (mean m, step size sigma, covariance C with its
 * eigensystem, evolution paths p_sigma and p_c), the counters, the best candidate so far, the random
 * generator and the candidates of an outstanding ask. Its methods are the phases of one generation,
 * each named after its equation in Hansen's tutorial; {@link CmaEs#tell} runs them in order.
 */
final class CmaState {
    private final CmaParameters p;
    private final BoxBounds bounds;
    private final double[] mean;      // genotype
    private double sigma;
    private final CovarianceMatrix cov;
    private final double[] pc;
    private final double[] ps;
    private long generation;
    private long evaluations;
    private double[] bestX;           // phenotype, null before the first tell
    private double bestF = Double.POSITIVE_INFINITY;
    private long bestEvaluation;
    private double[] lastFitness = new double[0]; // the last generation's fitness, best first
    private final CmaRandom rng;
    private double[][] pendingGeno;   // null when no ask is outstanding
    private double[][] pendingPheno;

    /** A fresh run at mean {@code x0} (checked by the caller) with C = I. */
    CmaState(CmaParameters p, BoxBounds bounds, double[] x0, double sigma0, long seed) {
        this.p = p;
        this.bounds = bounds;
        mean = x0.clone();
        sigma = sigma0;
        cov = new CovarianceMatrix(p.n());
        pc = new double[p.n()];
        ps = new double[p.n()];
        rng = new CmaRandom(seed);
    }

    /** Restores the dynamic part of a snapshot whose constants are {@code p}. */
    CmaState(CmaesState s, CmaParameters p, BoxBounds bounds) {
        this.p = p;
        this.bounds = bounds;
        int n = p.n();
        int lambda = p.lambda();
        // Fields are read in snapshot field order, so the first inconsistency is the one reported.
        mean = unboxed("mean", s.getMeanList(), n);
        sigma = s.getSigma();
        double[] c = unboxed("c", s.getCList(), n * n);
        pc = unboxed("pc", s.getPcList(), n);
        ps = unboxed("ps", s.getPsList(), n);
        double[] b = unboxed("b", s.getBList(), n * n);
        double[] d = unboxed("d", s.getDList(), n);
        cov = new CovarianceMatrix(n, c, b, d, s.getEigenEvaluations());
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

    void writeTo(CmaesState.Builder s) {
        s.addAllMean(boxed(mean)).setSigma(sigma)
                .addAllPc(boxed(pc)).addAllPs(boxed(ps))
                .setGeneration(generation).setEvaluations(evaluations)
                .setBestFitness(bestF).setBestEvaluation(bestEvaluation)
                .addAllLastFitness(boxed(lastFitness))
                .setRng(rng.toProto());
        cov.writeTo(s);
        if (bestX != null) {
            s.addAllBestSolution(boxed(bestX));
        }
        if (pendingGeno != null) {
            for (int k = 0; k < pendingGeno.length; k++) {
                s.addPending(CmaesCandidate.newBuilder()
                        .addAllGenotype(boxed(pendingGeno[k])).addAllPhenotype(boxed(pendingPheno[k])));
            }
        }
    }

    // --------------------------------------------------------------------------------------------
    // Ask

    /** The outstanding candidates (phenotypes, not copied), sampled first if there are none. */
    double[][] pendingCandidates() {
        if (pendingGeno == null) {
            int n = p.n();
            double[][] geno = new double[p.lambda()][];
            double[][] pheno = new double[p.lambda()][];
            for (int k = 0; k < p.lambda(); k++) {
                double[] z = new double[n];
                for (int i = 0; i < n; i++) {
                    z[i] = rng.nextGaussian();               // z_k ~ N(0, I)            (38)
                }
                double[] y = cov.transform(z);               // y_k = B D z_k ~ N(0, C)  (39)
                double[] x = new double[n];
                for (int i = 0; i < n; i++) {
                    x[i] = mean[i] + sigma * y[i];           // x_k = m + sigma y_k      (40)
                }
                geno[k] = x;
                pheno[k] = bounds.toPhenotype(x);
            }
            pendingGeno = geno;
            pendingPheno = pheno;
        }
        return pendingPheno;
    }

    // --------------------------------------------------------------------------------------------
    // Tell, in the order CmaEs.tell calls them

    /**
     * The fitness of each asked candidate, by ask index: {@code candidates[k]} is matched to an unclaimed
     * asked candidate equal to it.
     */
    double[] fitnessInAskOrder(double[][] candidates, double[] fitness) {
        int lambda = p.lambda();
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
        return fitByAsk;
    }

    /** Counts the generation and remembers its ranked fitness and the best candidate so far. */
    void countGeneration(double[] fitByAsk, int[] order) {
        evaluations += p.lambda();
        generation++;
        lastFitness = new double[p.lambda()];
        for (int r = 0; r < p.lambda(); r++) {
            lastFitness[r] = fitByAsk[order[r]];
        }
        if (lastFitness[0] < bestF) {
            bestF = lastFitness[0];
            bestX = pendingPheno[order[0]].clone();
            bestEvaluation = evaluations;
        }
    }

    /** y_{i:lambda} = (x_{i:lambda} - m) / sigma for the mu best genotypes. */
    double[][] selectedSteps(int[] order) {
        double[][] y = new double[p.mu()][p.n()];
        for (int r = 0; r < p.mu(); r++) {
            double[] x = pendingGeno[order[r]];
            for (int i = 0; i < p.n(); i++) {
                y[r][i] = (x[i] - mean[i]) / sigma;
            }
        }
        return y;
    }

    /** m <- m + c_m sigma <y>_w with c_m = 1 (42). */
    void moveMean(double[] yw) {
        for (int i = 0; i < p.n(); i++) {
            mean[i] += sigma * yw[i];
        }
    }

    /** p_sigma <- (1 - c_sigma) p_sigma + sqrt(c_sigma (2 - c_sigma) mueff) C^{-1/2} <y>_w (43); returns ||p_sigma||. */
    double updateSigmaPath(double[] yw) {
        double cs = p.cs();
        double[] zw = cov.invSqrt(yw);
        double csn = Math.sqrt(cs * (2 - cs) * p.mueff());
        double psSq = 0;
        for (int i = 0; i < p.n(); i++) {
            ps[i] = (1 - cs) * ps[i] + csn * zw[i];
            psSq += ps[i] * ps[i];
        }
        return Math.sqrt(psSq);
    }

    /** h_sigma (tutorial, below (47)): false, stalling the p_c update, while ||p_sigma|| is large. */
    boolean hSigma(double psNorm) {
        return psNorm / Math.sqrt(1 - StrictMath.pow(1 - p.cs(), 2.0 * generation))
                < (1.4 + 2.0 / (p.n() + 1)) * p.chiN();
    }

    /** p_c <- (1 - c_c) p_c + h_sigma sqrt(c_c (2 - c_c) mueff) <y>_w (45). */
    void updateCovariancePath(double[] yw, boolean hsig) {
        double cc = p.cc();
        double ccn = hsig ? Math.sqrt(cc * (2 - cc) * p.mueff()) : 0;
        for (int i = 0; i < p.n(); i++) {
            pc[i] = (1 - cc) * pc[i] + ccn * yw[i];
        }
    }

    /** C <- (1 + c_1 delta(h_sigma) - c_1 - c_mu sum w) C + c_1 p_c p_c^T + c_mu sum_i w_i y_i y_i^T (47). */
    void adaptCovariance(double[][] y, boolean hsig) {
        double cc = p.cc();
        double deltaH = hsig ? 0 : cc * (2 - cc);            // delta(h_sigma) = (1 - h_sigma) c_c (2 - c_c)
        // Three passes round exactly like the one sum decay C + rank-one + rank-mu, left to right: Java
        // rounds every product and sum to double and never fuses them.
        cov.scale(1 + p.c1() * deltaH - p.c1() - p.cmu() * p.weightSum());
        cov.addRankOne(p.c1(), pc);
        cov.addRankMu(p.cmu(), p.weights(), y);
    }

    /** sigma <- sigma exp(c_sigma/d_sigma (||p_sigma|| / E||N(0,I)|| - 1)), exponent capped at 1 (44). */
    void adaptStepSize(double psNorm) {
        sigma *= StrictMath.exp(Math.min(1.0, p.cs() / p.ds() * (psNorm / p.chiN() - 1)));
    }

    /** Folds the mean into the box's period, re-decomposes C if due, and retires the told candidates. */
    void endGeneration() {
        bounds.foldIntoPeriod(mean);
        cov.decomposeIfStale(evaluations, p.eigenGapEvals());
        pendingGeno = null;
        pendingPheno = null;
    }

    // --------------------------------------------------------------------------------------------
    // Read access

    /** The mean mapped into the bounds. */
    double[] phenotypeMean() {
        return bounds.toPhenotype(mean);
    }

    double sigma() {
        return sigma;
    }

    CovarianceMatrix covariance() {
        return cov;
    }

    long generation() {
        return generation;
    }

    long evaluations() {
        return evaluations;
    }

    /** A copy, or null before the first tell. */
    double[] bestSolution() {
        return bestX == null ? null : bestX.clone();
    }

    double bestFitness() {
        return bestF;
    }

    /** A copy of the last generation's fitness, best first (empty before the first tell). */
    double[] lastFitness() {
        return lastFitness.clone();
    }
}
