package dev.nps.coordinator;

import dev.nps.evaluator.Dataset;
import dev.nps.evaluator.actor.SearchData.EvalTask;
import dev.nps.protocol.BatchRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one order in which every candidate sees the calibration batches, interleaved across the
 * scored tasks (task0 batch0, task1 batch0, ..., task0 batch1, ...; a task whose batches run out
 * is skipped), so that a candidate's bounds tighten on every task at once.
 *
 * <p>Tasks are addressed by slot, 0..T-1 in ascending task index. The fitness of a candidate is
 * the mean of its per-task accuracies, or their weighted sum when the setup gives weights.
 */
final class BatchOrder {
    private final int[] slotTask;       // slot -> task index
    private final long[] slotSamples;   // slot -> N_t
    private final List<BatchRef> refs = new ArrayList<>();
    private final int[] positionSlot;
    private final int[] positionSamples;
    private final double[] slotWeight;  // null: plain mean over slots

    BatchOrder(Map<Integer, EvalTask> tasks) {
        this(tasks, Map.of());
    }

    /** @param weights task index to its non-negative fitness weight; empty = plain mean */
    BatchOrder(Map<Integer, EvalTask> tasks, Map<Integer, Double> weights) {
        int slots = tasks.size();
        slotTask = new int[slots];
        slotSamples = new long[slots];
        Dataset[] data = new Dataset[slots];
        int s = 0;
        int rounds = 0;
        for (var e : new java.util.TreeMap<>(tasks).entrySet()) {
            slotTask[s] = e.getKey();
            data[s] = e.getValue().calibration();
            slotSamples[s] = data[s].size();
            rounds = Math.max(rounds, data[s].batchCount());
            s++;
        }
        List<Integer> slotOf = new ArrayList<>();
        List<Integer> samples = new ArrayList<>();
        for (int b = 0; b < rounds; b++) {
            for (s = 0; s < slots; s++) {
                if (b < data[s].batchCount()) {
                    int n = Math.min(data[s].batchSize(), data[s].size() - b * data[s].batchSize());
                    refs.add(BatchRef.newBuilder().setPosition(refs.size()).setTask(slotTask[s]).setBatch(b).setSamples(n).build());
                    slotOf.add(s);
                    samples.add(n);
                }
            }
        }
        if (weights.isEmpty()) {
            slotWeight = null;
        } else {
            slotWeight = new double[slots];
            for (s = 0; s < slots; s++) {
                Double w = weights.get(slotTask[s]);
                if (w == null || !(w >= 0) || !Double.isFinite(w)) {
                    throw new IllegalArgumentException("task " + slotTask[s] + " needs a finite fitness weight >= 0, got " + w);
                }
                slotWeight[s] = w;
            }
        }
        positionSlot = slotOf.stream().mapToInt(Integer::intValue).toArray();
        positionSamples = samples.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Batches per candidate. */
    int size() {
        return refs.size();
    }

    int slots() {
        return slotTask.length;
    }

    BatchRef ref(int position) {
        return refs.get(position);
    }

    int slot(int position) {
        return positionSlot[position];
    }

    int samples(int position) {
        return positionSamples[position];
    }

    /** N_t of a slot. */
    long taskSamples(int slot) {
        return slotSamples[slot];
    }

    /**
     * Fitness of per-slot correct counts: mean over slots of correct_t / N_t (or the weighted sum),
     * summed in slot order. Each term and each rounded addition is monotone in its inputs, so a
     * count vector that dominates another never yields a smaller double: bounds computed from
     * counts hold for the computed values, not only the real ones.
     */
    double fitness(long[] counts) {
        double sum = 0;
        for (int s = 0; s < counts.length; s++) {
            double acc = counts[s] / (double) slotSamples[s];
            sum += slotWeight == null ? acc : slotWeight[s] * acc;
        }
        return slotWeight == null ? sum / counts.length : sum;
    }

    /** A slot's share of the fitness (1/T for the plain mean). */
    double weight(int slot) {
        return slotWeight == null ? 1.0 / slotTask.length : slotWeight[slot];
    }
}
