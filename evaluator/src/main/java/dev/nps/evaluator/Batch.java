package dev.nps.evaluator;

import ai.onnxruntime.OnnxTensor;
import java.util.Map;

/**
 * Samples {@code [start, start + count)} of a {@link Dataset}: one tensor per graph input
 * (views owned by the dataset, valid until it is closed) and the matching labels.
 */
public final class Batch {
    private final Dataset dataset;
    private final int index;
    private final int start;
    private final int count;
    private final Map<String, OnnxTensor> inputs;

    Batch(Dataset dataset, int index, int start, int count, Map<String, OnnxTensor> inputs) {
        this.dataset = dataset;
        this.index = index;
        this.start = start;
        this.count = count;
        this.inputs = Map.copyOf(inputs);
    }

    public int index() {
        return index;
    }

    /** Index of the batch's first sample within the dataset. */
    public int start() {
        return start;
    }

    public int count() {
        return count;
    }

    /** Label of the batch's {@code i}-th sample. */
    public long label(int i) {
        return dataset.label(start + java.util.Objects.checkIndex(i, count));
    }

    /**
     * Fails with the file, sample and label if any label of the dataset lies outside
     * {@code [0, classes)}; checked once per dataset and class count.
     */
    public void checkLabels(int classes) {
        dataset.checkLabels(classes);
    }

    Map<String, OnnxTensor> inputs() {
        return inputs;
    }

    Dataset dataset() {
        return dataset;
    }
}
