package dev.nps.coordinator;

import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.TaskMask;
import java.util.List;

/**
 * FUSION: x = lambda_1..lambda_T, one scaling per task; the tasks' masks (and REWEIGHT scales) are
 * fixed, given as spec entries whose lambda is replaced by x.
 *
 * @param masks one entry per searched task, in task order
 */
public record FusionSpace(List<TaskMask> masks, double lambdaInit, double lambdaLower, double lambdaUpper)
        implements SearchSpace {

    public FusionSpace {
        masks = List.copyOf(masks);
    }

    @Override
    public int dimension() {
        return masks.size();
    }

    @Override
    public double[] x0() {
        return SearchSpace.filled(dimension(), lambdaInit);
    }

    @Override
    public double[] lower() {
        return SearchSpace.filled(dimension(), lambdaLower);
    }

    @Override
    public double[] upper() {
        return SearchSpace.filled(dimension(), lambdaUpper);
    }

    @Override
    public CandidateSpec toSpec(double[] x) {
        CandidateSpec.Builder b = CandidateSpec.newBuilder();
        for (int i = 0; i < masks.size(); i++) {
            b.addTasks(masks.get(i).toBuilder().setLambda(x[i]));
        }
        return b.build();
    }

    @Override
    public double[] subspaceWeights(double[] x) {
        return new double[0];
    }
}
