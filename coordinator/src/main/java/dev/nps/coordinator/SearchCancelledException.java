package dev.nps.coordinator;

/** A search ended because its run was cancelled; what it had finished is kept in its journal. */
public final class SearchCancelledException extends SearchException {
    public SearchCancelledException(String message) {
        super(message);
    }
}
