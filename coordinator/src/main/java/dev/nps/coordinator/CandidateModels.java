package dev.nps.coordinator;

import dev.nps.evaluator.actor.Materializer;
import dev.nps.evaluator.actor.SearchData;
import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.TaskMask;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.subspace.SubspacePartition;

/**
 * The models behind a search's candidate specs, outside the actors: the best candidate to write,
 * controls to compare it with, pruned task vectors to store. Built once per search setup, since
 * building it sorts every searched task vector's magnitudes.
 */
public final class CandidateModels {
    private final SearchSetup setup;
    private final SearchData data;
    private final Materializer materializer;

    private CandidateModels(SearchSetup setup, SearchData data) {
        this.setup = setup;
        this.data = data;
        this.materializer = new Materializer(data);
    }

    public static CandidateModels of(SearchSetup setup, SearchConfig config) {
        return new CandidateModels(setup, NpsSearch.searchData(setup, config));
    }

    /** The model a spec stands for (base names plus carried parameters), as a copy the caller owns. */
    public ParameterSet materialize(CandidateSpec spec) {
        return materializer.materialize(spec).map(a -> a);
    }

    /**
     * The control of a PRUNE search: every subspace weight fixed at 1, i.e. plain magnitude top-k
     * through the same partition and materialization.
     */
    public CandidateSpec magnitudeControl() {
        if (setup.kind() != SearchKind.PRUNE) {
            throw new IllegalArgumentException("the magnitude control is defined for PRUNE searches");
        }
        int task = setup.tasks().getFirst();
        SubspacePartition part = data.partition(task);
        TaskMask.Builder b = TaskMask.newBuilder().setTask(task).setLambda(1.0);
        for (long k : part.maskFor(SearchSpace.filled(part.subspaces(), 1.0)).keptPerSubspace()) {
            b.addKept(k);
        }
        return CandidateSpec.newBuilder().addTasks(b).build();
    }

    /**
     * One task's contribution to a candidate: lambda * scale * tau on the entries its mask keeps,
     * zero elsewhere. The base plus this is the task's materialized model.
     */
    public ParameterSet prunedTaskVector(TaskMask task) {
        ParameterSet tau = data.taus().get(task.getTask());
        ParameterSet out = tau.map(a -> new float[a.length]);
        double[] scales = task.getScalesCount() == 0 ? null
                : task.getScalesList().stream().mapToDouble(Double::doubleValue).toArray();
        Materializer.mask(data, task).addMasked(out.flatView(), tau.flatView(), task.getLambda(), scales);
        return out;
    }
}
