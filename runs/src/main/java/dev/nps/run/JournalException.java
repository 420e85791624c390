package dev.nps.run;

/** A journal that cannot be opened or migrated; the message is one line naming the journal. */
public final class JournalException extends RuntimeException {
    public JournalException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    public JournalException(String message) {
        this(message, null);
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
