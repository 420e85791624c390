package dev.nps.coordinator;

import dev.nps.protocol.CandidateSpec;
import dev.nps.kernels.subspace.SubspacePartition;
import java.util.Arrays;

/** TRANSFER: x = [w_1..w_M, lambda], one task's mask and how strongly it is added to the base. */
public record TransferSpace(int task, SubspacePartition partition, ValueMode values, double weightLower,
                            double weightUpper, double lambdaInit, double lambdaLower, double lambdaUpper)
        implements SearchSpace {

    @Override
    public int dimension() {
        return partition.subspaces() + 1;
    }

    @Override
    public double[] x0() {
        double[] x = SearchSpace.filled(dimension(), 1.0);
        x[dimension() - 1] = lambdaInit;
        return x;
    }

    @Override
    public double[] lower() {
        double[] x = SearchSpace.filled(dimension(), weightLower);
        x[dimension() - 1] = lambdaLower;
        return x;
    }

    @Override
    public double[] upper() {
        double[] x = SearchSpace.filled(dimension(), weightUpper);
        x[dimension() - 1] = lambdaUpper;
        return x;
    }

    @Override
    public CandidateSpec toSpec(double[] x) {
        double[] w = subspaceWeights(x);
        return CandidateSpec.newBuilder()
                .addTasks(SearchSpace.taskMask(task, partition.maskFor(w), values, w, x[dimension() - 1]))
                .build();
    }

    @Override
    public double[] subspaceWeights(double[] x) {
        return Arrays.copyOf(x, partition.subspaces());
    }
}
