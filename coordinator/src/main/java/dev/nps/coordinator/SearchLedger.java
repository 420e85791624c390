package dev.nps.coordinator;

import dev.nps.cmaes.ProtoArrays;
import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.CmaesState;
import dev.nps.protocol.SearchCheckpoint;
import dev.nps.protocol.SearchCounters;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one search has counted and found so far: the batch counters, the best candidate, the
 * history of finished generations, the trajectory digest and the coordinator's own time. It builds
 * the records that leave the search ({@link GenerationStats}, {@link SearchResult},
 * {@link SearchCheckpoint}) and is restored from a checkpoint, so a resumed search reports what an
 * undisturbed one would.
 */
final class SearchLedger {
    private final int batches;               // batch positions per candidate
    private final Trajectory trajectory = new Trajectory();
    private final List<GenerationStats> history = new ArrayList<>();
    private final Map<String, Long> batchesByEvaluator = new TreeMap<>();
    private final long resumedWallMillis;    // wall time of the generations before a resume
    private final double resumedCoordinatorMillis;
    private final long startNanos = System.nanoTime();
    private long coordinatorNanos;
    private long listenerNanos;
    private long handlerStart;               // when the running handler began

    private long evaluatedInGeneration;
    private int abortedInGeneration;

    private long batchesEvaluated;
    private long skippedByCache;
    private long skippedByAbort;
    private long lateBatches;
    private long duplicateBatches;
    private long redispatchedBatches;
    private long cacheHits;
    private long aborted;
    private double[] bestX;
    private double bestAccuracy = Double.NEGATIVE_INFINITY;
    private CandidateSpec bestSpec;

    /** A fresh ledger, or ({@code resume} not null) the one {@code resume} kept. */
    SearchLedger(int batches, SearchCheckpoint resume) {
        this.batches = batches;
        handlerStart = startNanos;
        resumedWallMillis = resume == null ? 0 : resume.getCounters().getWallMillis();
        resumedCoordinatorMillis = resume == null ? 0 : resume.getCounters().getCoordinatorMillis();
        if (resume == null) {
            return;
        }
        for (var g : resume.getHistoryList()) {
            GenerationStats stats = SearchRecords.fromProto(g);
            history.add(stats);
            trajectory.generation(stats.mean(), stats.sigma()); // so the resumed digest is the undisturbed one
        }
        if (resume.getBestXCount() > 0) {
            bestX = ProtoArrays.unboxed(resume.getBestXList());
            bestAccuracy = resume.getBestAccuracy();
            bestSpec = resume.getBestSpec();
        }
        SearchCounters k = resume.getCounters();
        batchesEvaluated = k.getBatchesEvaluated();
        skippedByCache = k.getSkippedByCache();
        skippedByAbort = k.getSkippedByAbort();
        lateBatches = k.getLateBatches();
        cacheHits = k.getCacheHits();
        aborted = k.getAbortedCandidates();
        duplicateBatches = k.getDuplicateBatches();
        redispatchedBatches = k.getRedispatchedBatches();
        batchesByEvaluator.putAll(k.getBatchesByEvaluatorMap());
    }

    // ------------------------------------------------------------------ time

    void handlerStarts() {
        handlerStart = System.nanoTime();
    }

    void handlerEnds() {
        coordinatorNanos += System.nanoTime() - handlerStart;
    }

    /** Time spent in the listener and the journal, which is not the coordinator's own. */
    void outside(long nanos) {
        listenerNanos += nanos;
    }

    private double coordinatorMillis() {
        return (coordinatorNanos + (System.nanoTime() - handlerStart) - listenerNanos) / 1e6;
    }

    // ------------------------------------------------------------------ counts

    void startGeneration() {
        evaluatedInGeneration = 0;
        abortedInGeneration = 0;
    }

    /** A batch of the running generation scored for the first time, by {@code evaluator}. */
    void scored(String evaluator) {
        batchesByEvaluator.merge(evaluator, 1L, Long::sum);
        evaluatedInGeneration++;
    }

    void aborted() {
        abortedInGeneration++;
    }

    /** A report for a finished generation or a dropped candidate. */
    void late() {
        lateBatches++;
    }

    /** A report of a batch that was reported before (handed out again after a loss). */
    void duplicate() {
        duplicateBatches++;
    }

    void redispatched(int batches) {
        redispatchedBatches += batches;
    }

    List<GenerationStats> history() {
        return history;
    }

    // ------------------------------------------------------------------ records

    /**
     * Books a finished generation (its candidates DONE or ABORTED, CMA-ES already told) and returns
     * its stats; {@code generation} is 1-based, {@code mean} and {@code sigma} are CMA-ES's after the update.
     */
    GenerationStats generationDone(int generation, CandidateState[] candidates, double[][] xs, double[] mean,
                                   double sigma, double[] subspaceWeights) {
        int population = candidates.length;
        double genBest = Double.NEGATIVE_INFINITY;
        int genBestIndex = -1;
        double sum = 0; // in ask order: the mean accuracy depends on the order of the sum
        int done = 0;
        int hits = 0;
        long fromCache = 0;
        for (int k = 0; k < population; k++) {
            CandidateState c = candidates[k];
            fromCache += c.cachedBatches;
            hits += c.cachedBatches > 0 ? 1 : 0;
            if (c.status() == CandidateState.Status.DONE) {
                double acc = c.lower();
                sum += acc;
                done++;
                if (acc > genBest) {
                    genBest = acc;
                    genBestIndex = k;
                }
            }
        }
        if (genBest > bestAccuracy) {
            bestAccuracy = genBest;
            bestX = xs[genBestIndex].clone();
            bestSpec = candidates[genBestIndex].spec;
        }
        long total = (long) population * batches;
        long skippedAbort = total - evaluatedInGeneration - fromCache;
        batchesEvaluated += evaluatedInGeneration;
        skippedByCache += fromCache;
        skippedByAbort += skippedAbort;
        cacheHits += hits;
        aborted += abortedInGeneration;
        trajectory.generation(mean, sigma);
        GenerationStats stats = new GenerationStats(generation, mean, sigma, subspaceWeights, genBest, sum / done,
                xs[genBestIndex].clone(), evaluatedInGeneration, fromCache, skippedAbort,
                (fromCache + skippedAbort) / (double) total, abortedInGeneration, hits);
        history.add(stats);
        return stats;
    }

    /** The search between generations, {@code generationsDone} of them, for the journal. */
    SearchCheckpoint checkpoint(int generationsDone, CmaesState cma) {
        SearchCheckpoint.Builder b = SearchCheckpoint.newBuilder().setGenerationsDone(generationsDone).setCmaes(cma)
                .setBestAccuracy(bestAccuracy).setCounters(counters());
        history.forEach(s -> b.addHistory(SearchRecords.toProto(s)));
        if (bestX != null) {
            b.addAllBestX(ProtoArrays.boxed(bestX)).setBestSpec(bestSpec);
        }
        return b.build();
    }

    private SearchCounters counters() {
        return SearchCounters.newBuilder().setBatchesEvaluated(batchesEvaluated).setSkippedByCache(skippedByCache)
                .setSkippedByAbort(skippedByAbort).setLateBatches(lateBatches).setCacheHits(cacheHits)
                .setAbortedCandidates(aborted).setDuplicateBatches(duplicateBatches)
                .setRedispatchedBatches(redispatchedBatches).putAllBatchesByEvaluator(batchesByEvaluator)
                .setWallMillis(resumedWallMillis + (System.nanoTime() - startNanos) / 1_000_000)
                .setCoordinatorMillis(resumedCoordinatorMillis + coordinatorMillis())
                .build();
    }

    /** The finished search; call once (it closes the trajectory digest). */
    SearchResult result(long seed, int generations, int population) {
        long wall = resumedWallMillis + (System.nanoTime() - startNanos) / 1_000_000;
        double coordMillis = resumedCoordinatorMillis + coordinatorMillis();
        return new SearchResult(seed, generations, population, (long) generations * population,
                batches, batchesEvaluated, skippedByCache, skippedByAbort, lateBatches, cacheHits, aborted,
                bestX, bestAccuracy, bestSpec, history, trajectory.finish(bestX, bestAccuracy), wall, coordMillis,
                duplicateBatches, redispatchedBatches, batchesByEvaluator, dev.nps.evaluator.actor.EvaluatorCost.Snapshot.NONE);
    }
}
