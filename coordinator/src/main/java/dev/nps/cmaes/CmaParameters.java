package dev.nps.cmaes;

import static dev.nps.cmaes.ProtoArrays.boxed;
import static dev.nps.cmaes.ProtoArrays.unboxed;

import dev.nps.protocol.CmaesState;
import java.util.Arrays;

/**
 * The strategy parameters (purecma's {@code CMAESParameters}): derived once from the dimension n and
 * the population size lambda by Hansen's tutorial, Table 1, then fixed for the run. A restored run takes
 * them from its snapshot instead of recomputing them.
 *
 * @param weights positive recombination weights w_1 >= ... >= w_mu, summing to one
 * @param cs learning rate c_sigma of the step-size path
 * @param ds damping d_sigma of the step-size update
 * @param cc learning rate c_c of the covariance path
 * @param c1 learning rate of the rank-one update
 * @param cmu learning rate of the rank-mu update
 * @param chiN E||N(0, I)||
 * @param eigenGapEvals evaluations between two eigendecompositions of C
 */
record CmaParameters(int n, int lambda, int mu, double[] weights, double mueff, double cs, double ds,
                     double cc, double c1, double cmu, double chiN, double eigenGapEvals) {

    CmaParameters {
        weights = weights.clone();
    }

    /** Table 1 for dimension {@code n}; {@code lambdaOption == 0} means the default 4 + floor(3 ln n). */
    static CmaParameters of(int n, int lambdaOption) {
        // Selection and recombination: mu = floor(lambda/2), positive log weights
        // w_i ~ ln((lambda+1)/2) - ln i, normalised to sum to one.
        int lambda = lambdaOption != 0 ? lambdaOption : 4 + (int) Math.floor(3 * StrictMath.log(n));
        int mu = lambda / 2;
        double[] weights = new double[mu];
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
        double mueff = 1.0 / sumSq; // (sum w)^2 / sum w^2 with sum w = 1

        // Step-size control.
        double cs = (mueff + 2) / (n + mueff + 5);
        double ds = 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + cs;
        // Covariance matrix adaptation (alpha_cov = 2).
        double cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n);
        double c1 = 2 / ((n + 1.3) * (n + 1.3) + mueff);
        double cmu = Math.min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) * (n + 2) + mueff));
        double chiN = Math.sqrt(n) * (1 - 1.0 / (4 * n) + 1.0 / (21.0 * n * n));
        // Lazy eigendecomposition, as in the tutorial's reference code.
        double eigenGapEvals = lambda / (c1 + cmu) / n / 10;
        return new CmaParameters(n, lambda, mu, weights, mueff, cs, ds, cc, c1, cmu, chiN, eigenGapEvals);
    }

    /** The constants of a snapshot, with its sizes checked. */
    static CmaParameters fromProto(CmaesState s) {
        int n = s.getDimension();
        int lambda = s.getLambda();
        int mu = s.getMu();
        if (n < 1 || lambda < 2 || mu < 1 || mu > lambda) {
            throw new IllegalArgumentException("CMA-ES state: bad sizes dimension=" + n + " lambda=" + lambda + " mu=" + mu);
        }
        return new CmaParameters(n, lambda, mu, unboxed("weights", s.getWeightsList(), mu), s.getMueff(),
                s.getCSigma(), s.getDSigma(), s.getCC(), s.getC1(), s.getCMu(), s.getChiN(), s.getEigenGapEvals());
    }

    void writeTo(CmaesState.Builder s) {
        s.setDimension(n).setLambda(lambda).setMu(mu)
                .addAllWeights(boxed(weights))
                .setMueff(mueff).setCSigma(cs).setDSigma(ds).setCC(cc).setC1(c1).setCMu(cmu).setChiN(chiN)
                .setEigenGapEvals(eigenGapEvals);
    }

    @Override
    public double[] weights() {
        return weights.clone();
    }

    /** sum_i w_i, summed in index order (1 up to rounding). */
    double weightSum() {
        double sum = 0;
        for (double w : weights) {
            sum += w;
        }
        return sum;
    }

    /** The weighted mean sum_i w_i y_i of the mu best steps (41). */
    double[] recombine(double[][] y) {
        double[] yw = new double[n];
        for (int r = 0; r < mu; r++) {
            for (int i = 0; i < n; i++) {
                yw[i] += weights[r] * y[r][i];
            }
        }
        return yw;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CmaParameters x && n == x.n && lambda == x.lambda && mu == x.mu
                && Arrays.equals(weights, x.weights) && Double.compare(mueff, x.mueff) == 0
                && Double.compare(cs, x.cs) == 0 && Double.compare(ds, x.ds) == 0 && Double.compare(cc, x.cc) == 0
                && Double.compare(c1, x.c1) == 0 && Double.compare(cmu, x.cmu) == 0
                && Double.compare(chiN, x.chiN) == 0 && Double.compare(eigenGapEvals, x.eigenGapEvals) == 0;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(n, lambda, mu, Arrays.hashCode(weights), mueff, cs, ds, cc, c1, cmu, chiN,
                eigenGapEvals);
    }

    @Override
    public String toString() {
        return "CmaParameters[n=" + n + ", lambda=" + lambda + ", mu=" + mu + ", weights=" + Arrays.toString(weights)
                + ", mueff=" + mueff + ", cs=" + cs + ", ds=" + ds + ", cc=" + cc + ", c1=" + c1 + ", cmu=" + cmu
                + ", chiN=" + chiN + ", eigenGapEvals=" + eigenGapEvals + "]";
    }
}
