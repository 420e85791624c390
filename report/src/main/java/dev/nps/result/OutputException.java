package dev.nps.result;

/** The output location cannot be used. */
public class OutputException extends RuntimeException {
    public OutputException(String message) {
        super(message);
    }
}
