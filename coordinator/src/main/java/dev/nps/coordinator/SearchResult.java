package dev.nps.coordinator;

import dev.nps.evaluator.actor.EvaluatorCost;
import dev.nps.protocol.CandidateSpec;
import java.util.List;

/**
 * The outcome of one search.
 *
 * @param seed                   CMA-ES seed
 * @param generations            generations run
 * @param population             candidates per generation
 * @param candidates             candidates asked in all (generations * population)
 * @param batchesPerCandidate    calibration batches of one full evaluation
 * @param batchesEvaluated       batches scored by evaluators for their generation
 * @param batchesSkippedByCache  batches taken from the cache or from a duplicate of the same generation
 * @param batchesSkippedByAbort  batches never scored because their candidate was dropped
 * @param lateBatches            batches scored after their generation had ended (cached, otherwise wasted)
 * @param cacheHits              candidates that reused at least one cached batch
 * @param abortedCandidates      candidates dropped before their last batch
 * @param bestWeights            x of the best fully scored candidate (ties: the earliest)
 * @param bestAccuracy           its calibration fitness: mean over scored tasks of accuracy
 * @param bestSpec               its spec: kept counts per subspace, scales and lambdas, ready for a FUSION search
 * @param history                one entry per generation
 * @param trajectorySha256       see {@link Trajectory}
 * @param wallMillis             time from the first ask to the last tell
 * @param coordinatorMillis      time spent inside the coordinator's message handlers (CMA-ES, masks, bookkeeping)
 * @param duplicateBatches       reports of a batch already reported (a unit handed out again after its evaluator
 *                               was lost, whose first report came anyway); ignored, never counted in batchesEvaluated
 * @param redispatchedBatches    batches handed out again because their evaluator was lost
 * @param batchesByEvaluator     per evaluator (actor reference, serialized), the batches it scored first; they sum
 *                               to batchesEvaluated
 * @param evaluatorCost          evaluator time per loaded candidate and per batch ({@link EvaluatorCost.Snapshot#NONE} if unknown)
 */
public record SearchResult(long seed, int generations, int population, long candidates, int batchesPerCandidate,
                           long batchesEvaluated, long batchesSkippedByCache, long batchesSkippedByAbort, long lateBatches,
                           long cacheHits, long abortedCandidates, double[] bestWeights, double bestAccuracy,
                           CandidateSpec bestSpec, List<GenerationStats> history, String trajectorySha256,
                           long wallMillis, double coordinatorMillis, long duplicateBatches, long redispatchedBatches,
                           java.util.Map<String, Long> batchesByEvaluator, EvaluatorCost.Snapshot evaluatorCost) {

    public SearchResult {
        history = List.copyOf(history);
        batchesByEvaluator = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(batchesByEvaluator));
        bestWeights = bestWeights.clone();
    }

    @Override
    public double[] bestWeights() {
        return bestWeights.clone();
    }

    SearchResult withEvaluatorCost(EvaluatorCost.Snapshot cost) {
        return new SearchResult(seed, generations, population, candidates, batchesPerCandidate, batchesEvaluated,
                batchesSkippedByCache, batchesSkippedByAbort, lateBatches, cacheHits, abortedCandidates, bestWeights,
                bestAccuracy, bestSpec, history, trajectorySha256, wallMillis, coordinatorMillis, duplicateBatches,
                redispatchedBatches, batchesByEvaluator, cost);
    }

    public long batchesSkipped() {
        return batchesSkippedByCache + batchesSkippedByAbort;
    }

    /** Coordinator time per candidate, in microseconds. */
    public double coordinatorMicrosPerCandidate() {
        return candidates == 0 ? 0 : coordinatorMillis * 1000.0 / candidates;
    }
}
