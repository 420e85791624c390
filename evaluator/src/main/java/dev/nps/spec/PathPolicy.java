package dev.nps.spec;

/** Where a spec's paths may point. */
public enum PathPolicy {
    /** Anywhere the process can read: the local CLI, where the user owns every file. */
    ANYWHERE,
    /**
     * Only inside the spec file's directory (after resolving "..", absolute paths and symbolic
     * links): for a service that loads specs written by others.
     */
    CONFINED
}
