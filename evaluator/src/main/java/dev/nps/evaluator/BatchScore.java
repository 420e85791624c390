package dev.nps.evaluator;

/** A metric's tally over one batch (or several, via {@link #plus}): {@code correct} of {@code count} samples. */
public record BatchScore(int correct, int count) {

    public BatchScore {
        if (count < 0 || correct < 0 || correct > count) {
            throw new IllegalArgumentException("bad batch score " + correct + "/" + count);
        }
    }

    public BatchScore plus(BatchScore other) {
        return new BatchScore(correct + other.correct, count + other.count);
    }
}
