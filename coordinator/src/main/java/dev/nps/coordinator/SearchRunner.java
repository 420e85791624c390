package dev.nps.coordinator;

/**
 * Runs one search to the end. {@link NpsSearch#run(SearchSetup, SearchConfig, SearchListener, SearchJournal)}
 * runs it on this JVM; a cluster runner runs the same coordinator against sharded evaluators.
 * Both give bit-identical results for equal inputs, and so does a search resumed from its journal.
 */
@FunctionalInterface
public interface SearchRunner {
    SearchRunner EMBEDDED = NpsSearch::run;

    SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener, SearchJournal journal);

    default SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener) {
        return run(setup, config, listener, SearchJournal.NONE);
    }
}
