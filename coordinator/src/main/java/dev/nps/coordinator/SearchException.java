package dev.nps.coordinator;

/** A search that could not finish; the message is one line fit for a user. */
public class SearchException extends RuntimeException {
    public SearchException(String message) {
        super(message);
    }

    public SearchException(String message, Throwable cause) {
        super(message, cause);
    }
}
