package dev.nps.coordinator;

/**
 * One finished generation.
 *
 * @param generation      1-based
 * @param mean            CMA-ES mean after this generation's update (inside the bounds)
 * @param sigma           CMA-ES step size after the update
 * @param subspaceWeights the subspace weights within {@code mean} (empty for FUSION)
 * @param bestAccuracy    best calibration accuracy among this generation's fully scored candidates
 * @param meanAccuracy    their mean (dropped candidates have no exact accuracy and are left out)
 * @param best            x of the candidate with {@code bestAccuracy} (ties: the earliest asked), in the space of {@code mean}
 * @param evaluated       batches scored for this generation
 * @param skippedByCache  batches taken from the cache (and duplicates within the generation)
 * @param skippedByAbort  batches never scored because their candidate was dropped
 * @param skippedShare    (skippedByCache + skippedByAbort) / (population * batches per candidate)
 * @param aborted         candidates dropped
 * @param cacheHits       candidates that reused at least one cached batch
 */
public record GenerationStats(int generation, double[] mean, double sigma, double[] subspaceWeights,
                              double bestAccuracy, double meanAccuracy, double[] best, long evaluated, long skippedByCache,
                              long skippedByAbort, double skippedShare, int aborted, int cacheHits) {
}
