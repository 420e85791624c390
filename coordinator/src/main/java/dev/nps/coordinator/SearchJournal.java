package dev.nps.coordinator;

import dev.nps.protocol.SearchCheckpoint;

/**
 * Where a search's coordinator keeps its state between generations, so that a search killed
 * mid-run continues from its last finished generation and takes the path it would have taken
 * undisturbed: CMA-ES's full state, the history and the best so far ({@link SearchCheckpoint}).
 */
public interface SearchJournal {
    /** Nothing kept: the search starts fresh and is lost with its process. */
    SearchJournal NONE = new SearchJournal() {
        @Override
        public SearchCheckpoint resumeFrom() {
            return null;
        }

        @Override
        public void generationDone(SearchCheckpoint checkpoint) {
        }
    };

    /** The state to continue from, or null to start at generation 0; asked more than once, it answers the same. */
    SearchCheckpoint resumeFrom();

    /**
     * Called on the coordinator's thread after every generation's update, before the next ask:
     * keep it quick (hand the checkpoint to an actor). A checkpoint lost in a crash costs only
     * the generations after the last one kept, which the resumed search recomputes identically.
     */
    void generationDone(SearchCheckpoint checkpoint);

    /**
     * True once the run was cancelled: the coordinator then hands out no more work and ends the
     * search with a {@link SearchCancelledException} (evaluators finish at most their current unit).
     * Read on the coordinator's thread at every message: keep it a flag read.
     */
    default boolean cancelled() {
        return false;
    }
}
