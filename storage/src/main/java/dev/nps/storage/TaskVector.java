package dev.nps.storage;

import java.util.SortedSet;

/**
 * One task's difference from the base.
 *
 * @param tau      fine-tuned minus base (float32), over the floating parameters both checkpoints have,
 *                 plus a zero entry for each of {@code baseOnly} (the base's value is kept)
 * @param carried  fine-tuned-only parameters, kept as they are for this task
 * @param baseOnly names the base has and the fine-tuned checkpoint lacks
 */
public record TaskVector(ParameterSet tau, ParameterSet carried, SortedSet<String> baseOnly) {
    public TaskVector {
        baseOnly = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(baseOnly));
    }
}
