package dev.nps.evaluator.actor;

import dev.nps.evaluator.Dataset;
import dev.nps.evaluator.ModelScorer;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.subspace.SubspacePartition;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one node holds for a search, read-only and shared by all its evaluators: the base, every
 * task vector (spec order), the parameters every candidate carries unchanged, the scorer, the
 * partition of each task a candidate may use, and the calibration data of the scored tasks.
 * Every node builds it from the same files and settings, so kept counts mean the same masks
 * everywhere.
 *
 * @param carried    parameters the graph needs that are not searched (fine-tuned-only heads); may be empty
 * @param partitions task index to its subspace partition (tasks a candidate may contain)
 * @param evalTasks  task index to its calibration data (tasks a candidate is scored on)
 * @param cost       where the node's evaluators spend their time (filled during the search)
 */
public record SearchData(ParameterSet base, List<ParameterSet> taus, ParameterSet carried, ModelScorer scorer,
                         Map<Integer, SubspacePartition> partitions, Map<Integer, EvalTask> evalTasks,
                         EvaluatorCost cost) {

    public SearchData(ParameterSet base, List<ParameterSet> taus, ParameterSet carried, ModelScorer scorer,
                      Map<Integer, SubspacePartition> partitions, Map<Integer, EvalTask> evalTasks) {
        this(base, taus, carried, scorer, partitions, evalTasks, new EvaluatorCost());
    }

    /** A scored task: its calibration batches and the graph output that answers it. */
    public record EvalTask(Dataset calibration, String output) {
    }

    public SearchData {
        taus = List.copyOf(taus);
        partitions = java.util.Collections.unmodifiableMap(new TreeMap<>(partitions));
        evalTasks = java.util.Collections.unmodifiableMap(new TreeMap<>(evalTasks));
        if (evalTasks.isEmpty()) {
            throw new IllegalArgumentException("a search needs at least one task to score candidates on");
        }
        for (int t : partitions.keySet()) {
            checkTask(t, taus.size());
            if (partitions.get(t).size() != taus.get(t).elementCount()) {
                throw new IllegalArgumentException("partition of task " + t + " covers " + partitions.get(t).size()
                        + " entries but the task vector has " + taus.get(t).elementCount());
            }
        }
        for (int t : evalTasks.keySet()) {
            checkTask(t, taus.size());
        }
    }

    private static void checkTask(int t, int count) {
        if (t < 0 || t >= count) {
            throw new IllegalArgumentException("task index " + t + " outside [0, " + count + ")");
        }
    }

    public SubspacePartition partition(int task) {
        SubspacePartition p = partitions.get(task);
        if (p == null) {
            throw new IllegalArgumentException("task " + task + " has no subspace partition in this search");
        }
        return p;
    }

    public EvalTask evalTask(int task) {
        EvalTask e = evalTasks.get(task);
        if (e == null) {
            throw new IllegalArgumentException("task " + task + " is not scored in this search");
        }
        return e;
    }
}
