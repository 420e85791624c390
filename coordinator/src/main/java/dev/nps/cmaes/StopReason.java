package dev.nps.cmaes;

/** Why {@link CmaEs#stop()} says the run is over (several may hold at once). */
public enum StopReason {
    /** The best fitness so far is at or below {@link CmaEsOptions#ftarget()}. */
    FTARGET,
    /** The evaluation count reached {@link CmaEsOptions#maxFevals()}. */
    MAXFEVALS,
    /** sigma * sqrt(largest eigenvalue of C) fell below {@link CmaEsOptions#tolX()}. */
    TOLX,
    /** The last generation's fitness range (worst - best) fell below {@link CmaEsOptions#tolFun()}. */
    TOLFUN,
    /** The condition number of C exceeded {@link CmaEsOptions#maxCondition()}. */
    CONDITION
}
