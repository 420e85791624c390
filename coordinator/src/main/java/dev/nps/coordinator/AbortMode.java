package dev.nps.coordinator;

/** When the coordinator stops scoring a candidate before its last calibration batch. */
public enum AbortMode {
    /** Never. */
    OFF,
    /**
     * When it provably cannot be among the mu best of its generation: CMA-ES then updates exactly
     * as if it had been scored to the end (see {@link AbortRule}).
     */
    EXACT,
    /**
     * When a Hoeffding bound says it is unlikely to be among the mu best. Saves more batches but may
     * change the trajectory; report its results apart from exact runs.
     */
    STATISTICAL
}
