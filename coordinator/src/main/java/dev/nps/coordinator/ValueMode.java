package dev.nps.coordinator;

/** What a kept task-vector entry becomes. */
public enum ValueMode {
    /** Kept entries keep their value tau; the weights only decide which entries are kept. */
    MASK,
    /** Kept entries of subspace s become w_s * tau. */
    REWEIGHT
}
