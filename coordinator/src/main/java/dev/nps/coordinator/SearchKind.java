package dev.nps.coordinator;

/** What a search varies; see {@link SearchSpace} for the vector each kind searches. */
public enum SearchKind {
    /** One task's mask: x = subspace weights w_1..w_M, lambda = 1. */
    PRUNE,
    /** One task's mask and its scaling into the base: x = [w_1..w_M, lambda]. */
    TRANSFER,
    /** Fixed masks of several tasks merged: x = lambda_1..lambda_T. */
    FUSION
}
