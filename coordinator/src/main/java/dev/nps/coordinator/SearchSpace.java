package dev.nps.coordinator;

import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.TaskMask;
import dev.nps.kernels.subspace.SubspaceMask;
import java.util.Arrays;

/**
 * The few numbers CMA-ES searches and how they become a {@link CandidateSpec}, the form in which a
 * candidate travels to evaluators and keys the evaluation cache. Implementations are pure
 * functions of x: equal x, equal spec.
 */
public sealed interface SearchSpace permits PruneSpace, TransferSpace, FusionSpace {

    int dimension();

    /** CMA-ES start point, inside the bounds. */
    double[] x0();

    double[] lower();

    double[] upper();

    CandidateSpec toSpec(double[] x);

    /** The subspace weights w_1..w_M within x, or an empty array where the space has none. */
    double[] subspaceWeights(double[] x);

    /** One task's spec entry; {@code weights} (w_1..w_M) become scales only in REWEIGHT mode. */
    static TaskMask taskMask(int task, SubspaceMask mask, ValueMode values, double[] weights, double lambda) {
        TaskMask.Builder b = TaskMask.newBuilder().setTask(task).setLambda(lambda);
        for (long k : mask.keptPerSubspace()) {
            b.addKept(k);
        }
        if (values == ValueMode.REWEIGHT) {
            b.addScales(1.0); // subspace 0, below the searched region, is never reweighted
            for (double w : weights) {
                b.addScales(w);
            }
        }
        return b.build();
    }

    static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }
}
