package dev.nps.storage;

/** A bad or unreadable file: the message is one line a user can act on. */
public class StorageException extends RuntimeException {
    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
