package dev.nps.run;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;

/** Flyway over a {@link JournalStore}'s migrations, with every failure turned into one line. */
final class Migrations {
    /** Flyway's history table; a name of our own so a database shared with another Flyway user does not clash. */
    static final String HISTORY_TABLE = "nps_journal_schema_history";

    private Migrations() {
    }

    static MigrateResult run(JournalStore store) {
        // One connection held across Flyway's own: an H2 file database then opens and closes (and
        // compacts, up to 200 ms) once, not once per Flyway connection.
        try (java.sql.Connection keep = store instanceof JournalStore.H2 ? store.dataSource().getConnection() : null) {
            Flyway flyway = Flyway.configure(Migrations.class.getClassLoader())
                    .dataSource(store.dataSource())
                    .locations("classpath:" + store.migrations())
                    .failOnMissingLocations(true)
                    .schemas(store.schema())
                    .defaultSchema(store.schema())
                    .createSchemas(true)
                    .table(HISTORY_TABLE)
                    .validateMigrationNaming(true)
                    .cleanDisabled(true)
                    .load();
            return flyway.migrate();
        } catch (FlywayException | IllegalStateException | SQLException e) {
            throw new JournalException(store.describe() + ": " + reason(e), e);
        }
    }

    /**
     * The most telling cause, in a few words: the network error for a server that cannot be
     * reached, H2's own message for a file it cannot open, else the deepest SQL message.
     */
    static String reason(Throwable e) {
        SQLException deepestSql = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            switch (t) {
                case ConnectException c -> {
                    return "connection refused";
                }
                case UnknownHostException u -> {
                    return "unknown host " + u.getMessage();
                }
                case NoRouteToHostException n -> {
                    return "no route to host";
                }
                case SocketTimeoutException s -> {
                    return "connection timed out";
                }
                case AccessDeniedException a -> {
                    return "permission denied: " + a.getFile();
                }
                case FileSystemException f -> {
                    return f.getReason() == null ? f.getMessage() : f.getReason() + ": " + f.getFile();
                }
                case SQLException s -> {
                    String h2 = h2Reason(s);
                    if (h2 != null) {
                        return h2;
                    }
                    deepestSql = s;
                }
                default -> {
                }
            }
        }
        Throwable chosen = deepestSql != null ? deepestSql : root(e);
        String message = chosen.getMessage() == null ? chosen.getClass().getSimpleName() : chosen.getMessage();
        return JournalException.oneLine(firstLine(message));
    }

    /** H2's errors about the file itself, by its error codes (org.h2.api.ErrorCode). */
    private static String h2Reason(SQLException s) {
        String first = firstLine(s.getMessage() == null ? "" : s.getMessage());
        String unreadable = "not a database file H2 " + org.h2.engine.Constants.VERSION + " can read (";
        return switch (s.getErrorCode()) {
            case org.h2.api.ErrorCode.FILE_VERSION_ERROR_1, org.h2.api.ErrorCode.FILE_CORRUPTED_1 -> unreadable + first + ")";
            case org.h2.api.ErrorCode.DATABASE_ALREADY_OPEN_1 -> "in use by another process (" + first + ")";
            case org.h2.api.ErrorCode.FILE_CREATION_FAILED_1 -> "cannot create the database file (" + first + ")";
            case org.h2.api.ErrorCode.IO_EXCEPTION_1, org.h2.api.ErrorCode.IO_EXCEPTION_2 -> {
                // A file too short for its own header fails as a read past its end, not as corrupted.
                for (Throwable t = s.getCause(); t != null; t = t.getCause()) {
                    if (t instanceof org.h2.mvstore.MVStoreException m && m.getMessage() != null
                            && m.getMessage().startsWith("Reading from")) {
                        yield unreadable + "it ends before its own header says: " + first + ")";
                    }
                }
                yield "I/O error on the database file (" + first + ")";
            }
            default -> null;
        };
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }

    private static Throwable root(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
