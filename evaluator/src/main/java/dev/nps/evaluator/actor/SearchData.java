package dev.nps.evaluator.actor;

import dev.nps.evaluator.Dataset;
import dev.nps.evaluator.ModelScorer;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.subspace.RankedEntries;
import dev.nps.kernels.subspace.SubspacePartition;
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
 * @param ranked     task index to the ranked entries of its task vector under its partition, where
 *                   small enough ({@link RankedEntries}): the materializer's fast path
 */
public record SearchData(ParameterSet base, List<ParameterSet> taus, ParameterSet carried, ModelScorer scorer,
                         Map<Integer, SubspacePartition> partitions, Map<Integer, EvalTask> evalTasks,
                         EvaluatorCost cost, Map<Integer, RankedEntries> ranked) {

    public SearchData(ParameterSet base, List<ParameterSet> taus, ParameterSet carried, ModelScorer scorer,
                      Map<Integer, SubspacePartition> partitions, Map<Integer, EvalTask> evalTasks) {
        this(base, taus, carried, scorer, partitions, evalTasks, new EvaluatorCost(), rank(taus, partitions));
    }

    /** Built once per node and search, shared by its evaluators. */
    private static Map<Integer, RankedEntries> rank(List<ParameterSet> taus, Map<Integer, SubspacePartition> partitions) {
        Map<Integer, RankedEntries> ranked = new TreeMap<>();
        partitions.forEach((t, p) -> {
            if (t >= 0 && t < taus.size() && p.size() == taus.get(t).elementCount()) { // else the constructor refuses
                RankedEntries r = RankedEntries.build(p, taus.get(t).flatView());
                if (r != null) {
                    ranked.put(t, r);
                }
            }
        });
        return ranked;
    }

    /** A scored task: its calibration batches and the graph output that answers it. */
    public record EvalTask(Dataset calibration, String output) {
    }

    public SearchData {
        taus = List.copyOf(taus);
        partitions = java.util.Collections.unmodifiableMap(new TreeMap<>(partitions));
        evalTasks = java.util.Collections.unmodifiableMap(new TreeMap<>(evalTasks));
        ranked = java.util.Collections.unmodifiableMap(new TreeMap<>(ranked));
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
