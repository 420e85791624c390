package dev.nps.coordinator;

import java.util.List;

/**
 * A search stopped on request before its last generation (a cluster search's host cancelled it).
 * It carries the generations that had finished, as the result's history would have listed them.
 */
public final class SearchCancelledException extends SearchException {
    private final transient List<GenerationStats> history;

    public SearchCancelledException(String message, List<GenerationStats> history) {
        super(message);
        this.history = List.copyOf(history);
    }

    /** A run cancelled between searches, or a search whose history is kept elsewhere (its journal). */
    public SearchCancelledException(String message) {
        this(message, List.of());
    }

    /** The generations finished before the cancel, in order (empty if none had). */
    public List<GenerationStats> history() {
        return history;
    }
}
