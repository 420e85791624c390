package dev.nps.coordinator;

import dev.nps.evaluator.ModelScorer;
import dev.nps.evaluator.actor.SearchData.EvalTask;
import dev.nps.storage.ParameterSet;
import dev.nps.experiment.Experiment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a search works on: the loaded models and data, the kind, the searched tasks and the tasks
 * every candidate is scored on (calibration split only).
 *
 * @param carried     parameters every candidate takes unchanged (fine-tuned-only heads); may be empty
 * @param calibration scored task index to its calibration batches and graph output
 * @param tasks       searched task indices: exactly one for PRUNE and TRANSFER, at least one for FUSION
 * @param fixedMasks  FUSION only: a task's fixed mask (e.g. from a PRUNE result); tasks without one keep
 *                    their plain top-k entries
 * @param scoreWeights scored task index to its weight in the fitness (a weighted sum of calibration
 *                    accuracies); empty = the plain mean over scored tasks
 */
public record SearchSetup(ParameterSet base, List<ParameterSet> taus, ParameterSet carried, ModelScorer scorer,
                          Map<Integer, EvalTask> calibration, SearchKind kind, List<Integer> tasks,
                          Map<Integer, FixedMask> fixedMasks, Map<Integer, Double> scoreWeights) {

    /** A task's mask as kept counts per subspace 0..M, with REWEIGHT scales (null = none). */
    public record FixedMask(long[] kept, double[] scales) {
        public FixedMask {
            kept = kept.clone();
            scales = scales == null ? null : scales.clone();
        }
    }

    public SearchSetup {
        taus = List.copyOf(taus);
        tasks = List.copyOf(tasks);
        calibration = java.util.Collections.unmodifiableMap(new TreeMap<>(calibration));
        fixedMasks = java.util.Collections.unmodifiableMap(new TreeMap<>(fixedMasks));
        scoreWeights = java.util.Collections.unmodifiableMap(new TreeMap<>(scoreWeights));
        if (!scoreWeights.isEmpty() && !scoreWeights.keySet().equals(calibration.keySet())) {
            throw new IllegalArgumentException("score weights cover tasks " + scoreWeights.keySet() + " but the scored tasks are "
                    + calibration.keySet());
        }
        if (kind == null) {
            throw new IllegalArgumentException("search kind is required");
        }
        if (kind != SearchKind.FUSION && tasks.size() != 1) {
            throw new IllegalArgumentException(kind + " searches exactly one task, got " + tasks.size());
        }
        if (tasks.isEmpty() || tasks.stream().distinct().count() != tasks.size()) {
            throw new IllegalArgumentException("searched tasks must be distinct and non-empty, got " + tasks);
        }
        for (int t : tasks) {
            if (t < 0 || t >= taus.size()) {
                throw new IllegalArgumentException("searched task " + t + " outside [0, " + taus.size() + ")");
            }
        }
        if (kind != SearchKind.FUSION && !fixedMasks.isEmpty()) {
            throw new IllegalArgumentException("fixed masks are only used by FUSION searches");
        }
        for (int t : fixedMasks.keySet()) {
            if (!tasks.contains(t)) {
                throw new IllegalArgumentException("fixed mask given for task " + t + ", which is not searched");
            }
        }
    }

    /** A search over {@code tasks} of a loaded experiment, scored on the calibration data of {@code scoredTasks}. */
    public static SearchSetup of(Experiment ex, SearchKind kind, List<Integer> tasks, List<Integer> scoredTasks,
                                 Map<Integer, FixedMask> fixedMasks) {
        Map<Integer, EvalTask> calibration = new LinkedHashMap<>();
        for (int t : scoredTasks) {
            if (t < 0 || t >= ex.taskCount()) {
                throw new IllegalArgumentException("scored task " + t + " outside [0, " + ex.taskCount() + ")");
            }
            calibration.put(t, new EvalTask(ex.dataset(t, Experiment.Split.CALIBRATION), ex.spec().tasks().get(t).output()));
        }
        return new SearchSetup(ex.base(), ex.taus(), ex.carried(), ex.scorer(), calibration, kind, tasks, fixedMasks, Map.of());
    }

    /** This setup with the fitness a weighted sum of the scored tasks' calibration accuracies. */
    public SearchSetup withScoreWeights(Map<Integer, Double> weights) {
        return new SearchSetup(base, taus, carried, scorer, calibration, kind, tasks, fixedMasks, weights);
    }

    /** A search scored on the searched tasks themselves. */
    public static SearchSetup of(Experiment ex, SearchKind kind, List<Integer> tasks) {
        return of(ex, kind, tasks, tasks, Map.of());
    }
}
