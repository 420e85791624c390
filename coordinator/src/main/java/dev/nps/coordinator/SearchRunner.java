package dev.nps.coordinator;

/**
 * Runs one search to the end. {@link NpsSearch#run(SearchSetup, SearchConfig, SearchListener)}
 * runs it on this JVM; a cluster runner runs the same coordinator against sharded evaluators.
 * Both give bit-identical results for equal inputs.
 */
@FunctionalInterface
public interface SearchRunner {
    SearchRunner EMBEDDED = NpsSearch::run;

    SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener);
}
