package dev.nps.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.nps.evaluator.actor.Materializer;
import dev.nps.kernels.subspace.SubspacePartition;
import dev.nps.experiment.Experiment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** End-to-end searches on examples/digits with real ONNX Runtime scoring. */
class NpsSearchTest {
    private static Experiment ex;

    @BeforeAll
    static void load() {
        ex = DigitsExperiment.load();
    }

    @AfterAll
    static void close() {
        ex.close();
    }

    private static SearchConfig prune() {
        return SearchConfig.defaults().withSeed(5).withGenerations(6).withSubspaces(4).withKeep(0.05)
                .withPartition(SubspacePartition.Kind.BAND, 2).withBatchesPerUnit(2);
    }

    private static SearchResult run(SearchSetup setup, SearchConfig config) {
        return NpsSearch.run(setup, config, SearchListener.NONE,
                ConfigFactory.parseString("pekko.actor.serialize-messages = on")); // every message as if remote
    }

    private static void assertSameTrajectory(SearchResult a, SearchResult b) {
        assertEquals(a.trajectorySha256(), b.trajectorySha256());
        assertArrayEquals(a.bestWeights(), b.bestWeights());
        assertEquals(a.bestAccuracy(), b.bestAccuracy());
        assertEquals(a.bestSpec(), b.bestSpec());
        for (int g = 0; g < a.history().size(); g++) {
            assertArrayEquals(a.history().get(g).mean(), b.history().get(g).mean());
            assertEquals(a.history().get(g).bestAccuracy(), b.history().get(g).bestAccuracy());
        }
    }

    private static void assertAccounting(SearchResult r) {
        assertEquals(r.candidates() * r.batchesPerCandidate(),
                r.batchesEvaluated() + r.batchesSkippedByCache() + r.batchesSkippedByAbort());
        assertEquals(r.generations(), r.history().size());
        assertEquals(r.candidates(), (long) r.generations() * r.population());
    }

    @Test
    void weightedTransferSearchIsBitIdenticalWithCacheAndAbortOnOrOff() {
        Map<Integer, Double> weights = new java.util.HashMap<>();
        for (int t = 0; t < ex.taskCount(); t++) {
            weights.put(t, t == 1 ? 0.5 : 0.5 / (ex.taskCount() - 1));
        }
        List<Integer> all = java.util.stream.IntStream.range(0, ex.taskCount()).boxed().toList();
        SearchSetup setup = SearchSetup.of(ex, SearchKind.TRANSFER, List.of(1), all, Map.of()).withScoreWeights(weights);
        SearchConfig config = prune().withGenerations(3);
        SearchResult fast = run(setup, config.withEvaluators(2));
        SearchResult plain = run(setup, config.withCache(false).withAbort(AbortMode.OFF));
        assertSameTrajectory(fast, plain);
        assertAccounting(fast);
        // The fitness is the weighted sum of calibration accuracies of the best model.
        var theta = new Materializer(NpsSearch.searchData(setup, config)).materialize(fast.bestSpec());
        var scores = ex.score(theta, Experiment.Split.CALIBRATION, dev.nps.experiment.Progress.NONE);
        double expected = 0;
        for (int t = 0; t < scores.size(); t++) {
            expected += weights.get(t) * scores.get(t).value();
        }
        assertEquals(expected, fast.bestAccuracy(), 1e-12);
    }

    @Test
    void scoreWeightsMustCoverTheScoredTasks() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(1));
        assertThrows(IllegalArgumentException.class, () -> setup.withScoreWeights(Map.of(0, 1.0)));
    }

    @Test
    void signElectionOnlyForFusion() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(1));
        assertThrows(IllegalArgumentException.class, () -> NpsSearch.searchData(setup, prune().withSignElection(true)));
    }

    @Test
    void cacheAndExactAbortLeaveThePruneTrajectoryBitIdentical() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(2));
        List<GenerationStats> seen = new ArrayList<>();
        SearchResult fast = NpsSearch.run(setup, prune(), seen::add);
        SearchResult plain = run(setup, prune().withCache(false).withAbort(AbortMode.OFF));
        assertSameTrajectory(fast, plain);
        assertEquals(0, plain.batchesSkipped());
        assertEquals(0, plain.cacheHits());
        assertTrue(fast.batchesSkipped() > 0, "nothing skipped: " + fast);
        assertEquals(fast.history(), seen);
        assertAccounting(fast);
        assertAccounting(plain);
        assertEquals(64, fast.trajectorySha256().length());
        assertEquals(8, fast.population()); // CMA-ES default 4 + floor(3 ln 4)
        // The best spec, materialized and scored outside the actors, gives the reported accuracy.
        var theta = new Materializer(NpsSearch.searchData(setup, prune())).materialize(fast.bestSpec());
        assertEquals(fast.bestAccuracy(), ex.score(theta, 2, Experiment.Split.CALIBRATION).value());
        assertEquals(fast.bestSpec(), new PruneSpace(2, NpsSearch.searchData(setup, prune()).partition(2), ValueMode.MASK,
                0.05, 5).toSpec(fast.bestWeights()));
    }

    @Test
    void oneAndThreeEvaluatorsTakeTheSamePath() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.TRANSFER, List.of(1), List.of(0, 1), Map.of());
        SearchConfig config = prune().withGenerations(4).withValues(ValueMode.REWEIGHT);
        SearchResult one = run(setup, config);
        SearchResult three = run(setup, config.withEvaluators(3));
        assertSameTrajectory(one, three);
        assertAccounting(one);
        assertAccounting(three);
        assertEquals(5, one.bestWeights().length); // 4 weights and lambda
        assertEquals(2, one.batchesPerCandidate() / 6); // 6 batches of each of 2 tasks
        SearchResult otherSeed = run(setup, config.withSeed(6));
        assertNotEquals(one.trajectorySha256(), otherSeed.trajectorySha256());
    }

    @Test
    void exactAbortDropsCandidatesWithoutChangingThePath() {
        // Wide lambdas make some merges hopeless early; cache off isolates the aborts.
        SearchSetup setup = SearchSetup.of(ex, SearchKind.FUSION, List.of(0, 2, 4, 6));
        SearchConfig config = SearchConfig.defaults().withSeed(4).withGenerations(4).withPopulation(8).withSigma0(1.5)
                .withLambdas(0, 4, 1.0).withCache(false);
        SearchResult exact = run(setup, config);
        SearchResult off = run(setup, config.withAbort(AbortMode.OFF));
        assertTrue(exact.abortedCandidates() > 0 && exact.batchesSkippedByAbort() > 0, "no abort happened: " + exact);
        assertSameTrajectory(exact, off);
        assertAccounting(exact);
        SearchResult statistical = run(setup, config.withAbort(AbortMode.STATISTICAL));
        assertAccounting(statistical);
        assertTrue(statistical.batchesSkippedByAbort() >= exact.batchesSkippedByAbort());
    }

    @Test
    void identicalCandidatesAreScoredOnce() {
        // With one subspace covering every entry, every weight keeps the same top-k: one spec for all candidates.
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(0));
        SearchResult r = run(setup, prune().withSubspaces(1).withPartition(SubspacePartition.Kind.ALL, 2).withGenerations(3));
        assertEquals(r.batchesPerCandidate(), r.batchesEvaluated());
        assertEquals(r.candidates() - 1, r.cacheHits());
        assertEquals(0, r.batchesSkippedByAbort());
        assertAccounting(r);
    }

    @Test
    void fusionSearchesOneLambdaPerTask() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.FUSION, List.of(0, 3, 6));
        SearchResult r = run(setup, prune().withGenerations(3).withPopulation(6).withLambdas(0, 1.5, Double.NaN));
        assertEquals(3, r.bestWeights().length);
        assertEquals(3, r.bestSpec().getTasksCount());
        assertEquals(0, r.history().getFirst().subspaceWeights().length);
        assertEquals(18, r.batchesPerCandidate());
        assertAccounting(r);
    }

    @Test
    void badSettingsFailWithOneLine() {
        var e = assertThrows(IllegalArgumentException.class, () -> SearchConfig.defaults().withKeep(0));
        assertEquals("keep must lie in (0, 1], got 0.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SearchSetup.of(ex, SearchKind.PRUNE, List.of(0, 1)));
        assertEquals("PRUNE searches exactly one task, got 2", e.getMessage());
    }

    /** A fatal error in a search actor (Pekko would stop the actor system) ends the search at once with one line. */
    @Test
    void aFatalErrorInASearchActorEndsTheSearchWithinSeconds() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(1));
        for (Error fatal : List.of(new OutOfMemoryError("Java heap space"), new StackOverflowError())) {
            SearchException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                    () -> assertThrows(SearchException.class, () -> NpsSearch.run(setup, prune().withEvaluators(2), stats -> {
                        if (stats.generation() >= 2) {
                            throw fatal;
                        }
                    })));
            assertTrue(e.getMessage().startsWith("search stopped by a fatal error in the coordinator: " + fatal.getClass().getSimpleName()),
                    e.getMessage());
            assertTrue(!e.getMessage().contains("\n"));
        }
    }

    /** Keeps every checkpoint, as bytes (what a journal stores), and resumes from a chosen one. */
    private static final class RecordingJournal implements SearchJournal {
        final List<byte[]> kept = new ArrayList<>();
        private final byte[] resume;

        RecordingJournal(byte[] resume) {
            this.resume = resume;
        }

        @Override
        public dev.nps.protocol.SearchCheckpoint resumeFrom() {
            try {
                return resume == null ? null : dev.nps.protocol.SearchCheckpoint.parseFrom(resume);
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void generationDone(dev.nps.protocol.SearchCheckpoint checkpoint) {
            kept.add(checkpoint.toByteArray());
        }
    }

    @Test
    void aSearchResumedFromAnyGenerationTakesTheUndisturbedPath() {
        SearchSetup setup = SearchSetup.of(ex, SearchKind.TRANSFER, List.of(1));
        SearchConfig config = prune().withEvaluators(2);
        RecordingJournal whole = new RecordingJournal(null);
        SearchResult undisturbed = NpsSearch.run(setup, config, SearchListener.NONE, whole);
        assertEquals(config.generations(), whole.kept.size());
        for (int k : new int[] {1, 3, config.generations()}) {
            RecordingJournal after = new RecordingJournal(whole.kept.get(k - 1));
            List<Integer> told = new ArrayList<>();
            SearchResult resumed = NpsSearch.run(setup, config, stats -> told.add(stats.generation()), after);
            assertSameTrajectory(undisturbed, resumed);
            assertEquals(config.generations(), resumed.history().size());
            assertEquals(undisturbed.history().get(config.generations() - 1).sigma(),
                    resumed.history().get(config.generations() - 1).sigma());
            // only the generations after the checkpoint ran, and each was journaled again
            assertEquals(java.util.stream.IntStream.rangeClosed(k + 1, config.generations()).boxed().toList(), told);
            assertEquals(config.generations() - k, after.kept.size());
            assertAccounting(resumed);
        }
        // a checkpoint of another search is refused, saying why
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NpsSearch.run(setup,
                config.withPopulation(config.population() + 2), SearchListener.NONE, new RecordingJournal(whole.kept.get(0))));
        assertTrue(e.getMessage().contains("does not belong to this search"), e.getMessage());
        // a search outcome round-trips through its record bit for bit
        SearchResult back = SearchRecords.fromProto(SearchRecords.toProto(undisturbed, false));
        assertSameTrajectory(undisturbed, back);
        assertEquals(undisturbed.batchesEvaluated(), back.batchesEvaluated());
        assertEquals(undisturbed.batchesByEvaluator(), back.batchesByEvaluator());
    }

    @Test
    void searchesSharingOneActorSystemTakeTheirOwnPaths() {
        List<SearchSetup> setups = List.of(SearchSetup.of(ex, SearchKind.PRUNE, List.of(0)),
                SearchSetup.of(ex, SearchKind.TRANSFER, List.of(1)), SearchSetup.of(ex, SearchKind.FUSION, List.of(0, 1, 2)));
        SearchConfig config = prune().withEvaluators(2);
        try (EmbeddedSearches shared = new EmbeddedSearches(2)) {
            for (SearchSetup setup : setups) {
                SearchResult alone = NpsSearch.run(setup, config, SearchListener.NONE);
                SearchResult together = shared.run(setup, config, SearchListener.NONE);
                assertSameTrajectory(alone, together);
                assertAccounting(together);
                // and again in the same system: nothing of the first one is left to change the second
                assertSameTrajectory(alone, shared.run(setup, config, SearchListener.NONE));
            }
        }
    }
}
