package dev.nps.spec;

/** A spec file that cannot be used; the message is one line naming the file and the key. */
public class SpecException extends RuntimeException {
    public SpecException(String message) {
        super(message);
    }
}
