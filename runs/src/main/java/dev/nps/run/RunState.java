package dev.nps.run;

import dev.nps.protocol.GenerationKept;
import dev.nps.protocol.RunOpened;
import dev.nps.protocol.RunSnapshot;
import dev.nps.protocol.RunStatus;
import dev.nps.protocol.SearchCheckpoint;
import dev.nps.protocol.SearchFinished;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a run's journal says about it: the run (null before it was opened), its finished searches
 * by number, the search in progress with its latest checkpoint, and how it ended. Immutable; each
 * event gives a new state.
 *
 * @param current the search in progress and its full history so far (null when none)
 */
public record RunState(RunOpened opened, Map<Integer, SearchFinished> finished, GenerationKept current, RunStatus status,
                       String reason) {
    public static final RunState EMPTY = new RunState(null, Map.of(), null, RunStatus.RUN_RUNNING, "");

    public RunState {
        finished = java.util.Collections.unmodifiableMap(new TreeMap<>(finished));
    }

    RunState opened(RunOpened o) {
        return new RunState(o, finished, current, RunStatus.RUN_RUNNING, "");
    }

    /** Appends the generation to the search in progress (a new search number starts a new history). */
    RunState kept(GenerationKept g) {
        SearchCheckpoint cp = g.getCheckpoint();
        if (current != null && current.getSearch() == g.getSearch() && current.getSearchKey().equals(g.getSearchKey())
                && current.getCheckpoint().getHistoryCount() == cp.getGenerationsDone() - cp.getHistoryCount()) {
            SearchCheckpoint whole = cp.toBuilder().clearHistory()
                    .addAllHistory(current.getCheckpoint().getHistoryList()).addAllHistory(cp.getHistoryList()).build();
            return new RunState(opened, finished, g.toBuilder().setCheckpoint(whole).build(), status, reason);
        }
        if (cp.getHistoryCount() != cp.getGenerationsDone()) {
            throw new IllegalStateException("journal of run " + (opened == null ? "?" : opened.getDescription())
                    + ": generation " + cp.getGenerationsDone() + " of search " + g.getSearch()
                    + " follows no kept generation before it");
        }
        return new RunState(opened, finished, g, status, reason);
    }

    RunState finished(SearchFinished f) {
        Map<Integer, SearchFinished> m = new TreeMap<>(finished);
        m.put(f.getSearch(), f);
        return new RunState(opened, m, current != null && current.getSearch() == f.getSearch() ? null : current, status, reason);
    }

    RunState ended(RunStatus s, String why) {
        return new RunState(opened, finished, current, s, why);
    }

    /** The checkpoint to resume search number {@code search} from, if it is the one in progress with that key. */
    public SearchCheckpoint checkpointOf(int search, String key) {
        return current != null && current.getSearch() == search && current.getSearchKey().equals(key)
                ? current.getCheckpoint() : null;
    }

    /** Generations kept over all searches: what a resume does not redo. */
    public int generationsKept() {
        int n = finished.values().stream().mapToInt(f -> f.getOutcome().getGenerations()).sum();
        return n + (current == null ? 0 : current.getCheckpoint().getGenerationsDone());
    }

    RunSnapshot toSnapshot() {
        RunSnapshot.Builder b = RunSnapshot.newBuilder().addAllFinished(finished.values()).setStatus(status).setReason(reason);
        if (opened != null) {
            b.setOpened(opened);
        }
        if (current != null) {
            b.setCurrent(current);
        }
        return b.build();
    }

    static RunState fromSnapshot(RunSnapshot s) {
        Map<Integer, SearchFinished> m = new TreeMap<>();
        s.getFinishedList().forEach(f -> m.put(f.getSearch(), f));
        return new RunState(s.hasOpened() ? s.getOpened() : null, m, s.hasCurrent() ? s.getCurrent() : null, s.getStatus(),
                s.getReason());
    }
}
