package dev.nps.evaluator;

/** A metric's tally over a whole dataset. */
public record Score(long correct, long count) {

    public static final Score ZERO = new Score(0, 0);

    public Score plus(BatchScore batch) {
        return new Score(correct + batch.correct(), count + batch.count());
    }

    /** correct / count, or NaN for an empty tally. */
    public double value() {
        return count == 0 ? Double.NaN : (double) correct / count;
    }
}
