package dev.nps.coordinator;

import dev.nps.protocol.CandidateSpec;
import dev.nps.kernels.subspace.SubspacePartition;

/** PRUNE: x = w_1..w_M, the subspace weights of one task's mask; lambda = 1. */
public record PruneSpace(int task, SubspacePartition partition, ValueMode values, double weightLower, double weightUpper)
        implements SearchSpace {

    @Override
    public int dimension() {
        return partition.subspaces();
    }

    @Override
    public double[] x0() {
        return SearchSpace.filled(dimension(), 1.0); // equal weights: the plain top-k mask
    }

    @Override
    public double[] lower() {
        return SearchSpace.filled(dimension(), weightLower);
    }

    @Override
    public double[] upper() {
        return SearchSpace.filled(dimension(), weightUpper);
    }

    @Override
    public CandidateSpec toSpec(double[] x) {
        return CandidateSpec.newBuilder()
                .addTasks(SearchSpace.taskMask(task, partition.maskFor(x), values, x, 1.0))
                .build();
    }

    @Override
    public double[] subspaceWeights(double[] x) {
        return x.clone();
    }
}
