package dev.nps.coordinator;

import static dev.nps.cmaes.ProtoArrays.boxed;
import static dev.nps.cmaes.ProtoArrays.unboxed;

import dev.nps.evaluator.actor.EvaluatorCost;
import dev.nps.protocol.EvaluatorCostRecord;
import dev.nps.protocol.GenerationRecord;
import dev.nps.protocol.SearchCheckpoint;
import dev.nps.protocol.SearchCounters;
import dev.nps.protocol.SearchOutcome;
import java.util.List;

/** Searches' records and their protobuf form for a run journal: every double round-trips bit for bit. */
public final class SearchRecords {
    private SearchRecords() {
    }

    public static GenerationRecord toProto(GenerationStats s) {
        return GenerationRecord.newBuilder().setGeneration(s.generation())
                .addAllMean(boxed(s.mean())).setSigma(s.sigma()).addAllSubspaceWeights(boxed(s.subspaceWeights()))
                .setBestAccuracy(s.bestAccuracy()).setMeanAccuracy(s.meanAccuracy()).addAllBest(boxed(s.best()))
                .setEvaluated(s.evaluated()).setSkippedByCache(s.skippedByCache()).setSkippedByAbort(s.skippedByAbort())
                .setSkippedShare(s.skippedShare()).setAborted(s.aborted()).setCacheHits(s.cacheHits()).build();
    }

    public static GenerationStats fromProto(GenerationRecord r) {
        return new GenerationStats(r.getGeneration(), unboxed(r.getMeanList()), r.getSigma(),
                unboxed(r.getSubspaceWeightsList()), r.getBestAccuracy(), r.getMeanAccuracy(), unboxed(r.getBestList()),
                r.getEvaluated(), r.getSkippedByCache(), r.getSkippedByAbort(), r.getSkippedShare(), r.getAborted(),
                r.getCacheHits());
    }

    public static SearchOutcome toProto(SearchResult r, boolean cancelled) {
        SearchCheckpoint.Builder last = SearchCheckpoint.newBuilder().setGenerationsDone(r.generations())
                .setBestAccuracy(r.bestAccuracy())
                .setCounters(SearchCounters.newBuilder().setBatchesEvaluated(r.batchesEvaluated())
                        .setSkippedByCache(r.batchesSkippedByCache()).setSkippedByAbort(r.batchesSkippedByAbort())
                        .setLateBatches(r.lateBatches()).setCacheHits(r.cacheHits()).setAbortedCandidates(r.abortedCandidates())
                        .setDuplicateBatches(r.duplicateBatches()).setRedispatchedBatches(r.redispatchedBatches())
                        .putAllBatchesByEvaluator(r.batchesByEvaluator()).setCoordinatorMillis(r.coordinatorMillis())
                        .setWallMillis(r.wallMillis()));
        if (r.bestWeights() != null) {
            last.addAllBestX(boxed(r.bestWeights()));
        }
        if (r.bestSpec() != null) {
            last.setBestSpec(r.bestSpec());
        }
        r.history().forEach(s -> last.addHistory(toProto(s)));
        EvaluatorCost.Snapshot c = r.evaluatorCost();
        return SearchOutcome.newBuilder().setSeed(r.seed()).setGenerations(r.generations()).setPopulation(r.population())
                .setBatchesPerCandidate(r.batchesPerCandidate()).setLast(last).setTrajectorySha256(r.trajectorySha256())
                .setEvaluatorCost(EvaluatorCostRecord.newBuilder().setLoads(c.loads()).setBatches(c.batches())
                        .setMaterializeMillis(c.materializeMillis()).setLoadMillis(c.loadMillis())
                        .setScoreMillisPerBatch(c.scoreMillisPerBatch()))
                .setCancelled(cancelled).build();
    }

    public static SearchResult fromProto(SearchOutcome o) {
        SearchCheckpoint last = o.getLast();
        SearchCounters k = last.getCounters();
        EvaluatorCostRecord c = o.getEvaluatorCost();
        List<GenerationStats> history = last.getHistoryList().stream().map(SearchRecords::fromProto).toList();
        return new SearchResult(o.getSeed(), o.getGenerations(), o.getPopulation(), (long) o.getGenerations() * o.getPopulation(),
                o.getBatchesPerCandidate(), k.getBatchesEvaluated(), k.getSkippedByCache(), k.getSkippedByAbort(),
                k.getLateBatches(), k.getCacheHits(), k.getAbortedCandidates(), unboxed(last.getBestXList()),
                last.getBestAccuracy(), last.hasBestSpec() ? last.getBestSpec() : null, history, o.getTrajectorySha256(),
                k.getWallMillis(), k.getCoordinatorMillis(), k.getDuplicateBatches(), k.getRedispatchedBatches(),
                k.getBatchesByEvaluatorMap(), new EvaluatorCost.Snapshot(c.getLoads(), c.getBatches(),
                c.getMaterializeMillis(), c.getLoadMillis(), c.getScoreMillisPerBatch()));
    }
}
