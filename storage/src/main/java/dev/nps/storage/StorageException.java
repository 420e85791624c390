package dev.nps.storage;

/** A bad or unreadable file: the message is one line a user can act on. */
public class StorageException extends RuntimeException {
    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "context: NoSuchFile /a/b" — an I/O failure as one line (NIO messages are often just a path). */
    public static StorageException io(String context, java.io.IOException e) {
        String kind = e.getClass().getSimpleName().replace("Exception", "");
        String msg = e.getMessage();
        return new StorageException(context + ": " + (msg == null ? kind : kind + " " + msg).replace('\n', ' '), e);
    }
}
