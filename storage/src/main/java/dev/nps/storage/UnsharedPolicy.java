package dev.nps.storage;

/** What to do with a parameter that only one of base and fine-tuned checkpoints has. */
public enum UnsharedPolicy {
    /**
     * Fine-tuned-only parameters (e.g. a task's classification head) are carried unchanged into
     * models built for that task; base-only parameters stay as in the base. Neither enters the
     * task vector.
     */
    CARRY,
    /** Refuse unless both checkpoints have exactly the same floating parameters. */
    ERROR
}
