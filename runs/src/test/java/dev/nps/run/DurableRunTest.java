package dev.nps.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchException;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchRunner;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.protocol.RunOpened;
import dev.nps.protocol.RunStatus;
import dev.nps.spec.ExperimentSpec;
import dev.nps.kernels.subspace.SubspacePartition;
import dev.nps.experiment.Experiment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run of two real searches (examples/digits, ONNX Runtime) over an H2 journal, interrupted and resumed. */
class DurableRunTest {
    private static Experiment ex;
    private static final RunOpened RUN = RunOpened.newBuilder().setFingerprint("f".repeat(64)).setDescription("test run").build();

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        Path spec = Path.of(System.getProperty("nps.repo.root", "..")).resolve("examples/digits/spec.conf");
        ex = Experiment.load(ExperimentSpec.load(spec), ScorerOptions.defaults(), UnsharedPolicy.CARRY);
    }

    @AfterAll
    static void close() {
        ex.close();
    }

    private static SearchConfig config(int generations) {
        return SearchConfig.defaults().withSeed(3).withGenerations(generations).withSubspaces(4).withKeep(0.05)
                .withPartition(SubspacePartition.Kind.BAND, 2).withEvaluators(2);
    }

    /** The "workflow": a prune search of task 0, then a transfer search of task 1. */
    private static List<SearchResult> workflow(SearchRunner runner, SearchListener listener, int generations) {
        List<SearchResult> out = new ArrayList<>();
        out.add(runner.run(SearchSetup.of(ex, SearchKind.PRUNE, List.of(0)), config(generations), listener));
        out.add(runner.run(SearchSetup.of(ex, SearchKind.TRANSFER, List.of(1)), config(generations).withSeed(4), listener));
        return out;
    }

    private static void assertSame(SearchResult a, SearchResult b) {
        assertEquals(a.trajectorySha256(), b.trajectorySha256());
        assertArrayEquals(a.bestWeights(), b.bestWeights());
        assertEquals(a.bestSpec(), b.bestSpec());
        assertEquals(a.history().size(), b.history().size());
        for (int g = 0; g < a.history().size(); g++) {
            assertArrayEquals(a.history().get(g).mean(), b.history().get(g).mean());
        }
    }

    private LocalRun open(Path folder, RunOpened opened) {
        JournalStore store = JournalStore.h2(folder);
        store.migrate();
        return LocalRun.open(store.pekkoConfig(), LocalRun.CLI_RUN, opened);
    }

    @Test
    void aRunStoppedMidSearchResumesFromItsJournalToTheUndisturbedResult() {
        List<SearchResult> undisturbed;
        try (LocalRun run = open(dir.resolve("a"), RUN)) {
            undisturbed = workflow(run.run().runner(SearchRunner.EMBEDDED), SearchListener.NONE, 6);
            run.end(RunStatus.RUN_SUCCEEDED, "");
        }
        // First attempt: dies in generation 4 of the second search (the listener throws, as a crash would stop it).
        Path journal = dir.resolve("b");
        AtomicInteger seen = new AtomicInteger();
        try (LocalRun run = open(journal, RUN)) {
            SearchListener dies = stats -> {
                if (seen.incrementAndGet() == 6 + 4) {
                    throw new IllegalStateException("killed");
                }
            };
            assertThrows(SearchException.class, () -> workflow(run.run().runner(SearchRunner.EMBEDDED), dies, 6));
        }
        // Second attempt: the first search comes from the journal, the second resumes after its last kept generation.
        List<Integer> told = new ArrayList<>();
        try (LocalRun run = open(journal, RUN)) {
            RunState state = run.run().atOpen();
            assertEquals(1, state.finished().size());
            assertTrue(run.run().resumed());
            int kept = state.current() == null ? 0 : state.current().getCheckpoint().getGenerationsDone();
            assertTrue(kept >= 1 && kept <= 3, "kept " + kept);
            List<SearchResult> resumed = workflow(run.run().runner(SearchRunner.EMBEDDED), s -> told.add(s.generation()), 6);
            assertSame(undisturbed.get(0), resumed.get(0));
            assertSame(undisturbed.get(1), resumed.get(1));
            assertEquals(java.util.stream.IntStream.rangeClosed(kept + 1, 6).boxed().toList(), told);
            run.end(RunStatus.RUN_SUCCEEDED, "");
        }
        // A third start finds everything done: no search runs, the same results come back.
        try (LocalRun run = open(journal, RUN)) {
            assertEquals(RunStatus.RUN_SUCCEEDED, run.run().atOpen().status());
            List<SearchResult> again = workflow(run.run().runner((s, c, l, j) -> {
                throw new AssertionError("a finished search ran again");
            }), SearchListener.NONE, 6);
            assertSame(undisturbed.get(1), again.get(1));
        }
    }

    @Test
    void anotherRunOrADivergedSearchIsRefused() {
        try (LocalRun run = open(dir, RUN)) {
            workflow(run.run().runner(SearchRunner.EMBEDDED), SearchListener.NONE, 2);
        }
        RunOpened other = RUN.toBuilder().setFingerprint("e".repeat(64)).build();
        var e = assertThrows(DurableRun.RunRefusedException.class, () -> open(dir, other));
        assertTrue(e.getMessage().contains("with other inputs or options"), e.getMessage());
        try (LocalRun run = open(dir, RUN)) {
            var d = assertThrows(DurableRun.RunRefusedException.class, () -> workflow(run.run().runner(SearchRunner.EMBEDDED),
                    SearchListener.NONE, 3));
            assertTrue(d.getMessage().contains("search 0 of this run differs"), d.getMessage());
        }
    }

    @Test
    void recoveryPastSnapshotsKeepsEveryGeneration() {
        int generations = RunEntity.SNAPSHOT_EVERY * 2 + 3;
        SearchResult whole;
        try (LocalRun run = open(dir, RUN)) {
            whole = run.run().runner(SearchRunner.EMBEDDED).run(SearchSetup.of(ex, SearchKind.PRUNE, List.of(0)),
                    config(generations).withPopulation(4), SearchListener.NONE);
        }
        try (LocalRun run = open(dir, RUN)) {
            RunState state = run.run().atOpen();
            assertEquals(1, state.finished().size());
            SearchResult back = dev.nps.coordinator.SearchRecords.fromProto(state.finished().get(0).getOutcome());
            assertSame(whole, back);
        }
    }
}
