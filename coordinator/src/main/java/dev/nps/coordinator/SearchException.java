package dev.nps.coordinator;

/** A search that could not finish; the message is one line fit for a user. */
public sealed class SearchException extends RuntimeException permits SearchCancelledException {
    public SearchException(String message) {
        super(message);
    }

    public SearchException(String message, Throwable cause) {
        super(message, cause);
    }
}
