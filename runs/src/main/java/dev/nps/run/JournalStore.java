package dev.nps.run;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.nps.spec.ConfigKeys;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Where a run journal lives: an embedded H2 file database in a folder (one node, durable with no
 * server) or a PostgreSQL database (a cluster). It gives the Pekko config that makes
 * {@code jdbc-journal} and {@code jdbc-snapshot-store} (pekko-persistence-jdbc over Slick) the
 * persistence plugins, and {@link #migrate()}, which creates or upgrades the schema with Flyway;
 * call it before any ActorSystem uses the store.
 */
public sealed interface JournalStore permits JournalStore.H2, JournalStore.Postgres {

    /** Connections per plugin pool (journal and snapshot store each have one): a CLI run opens at most 4. */
    int POOL_SIZE = 2;

    /** The H2 journal in {@code folder} (created by {@link #migrate()}): file {@code journal.mv.db}. */
    static H2 h2(Path folder) {
        return new H2(folder);
    }

    /** A PostgreSQL journal in schema {@code public} of the database at {@code jdbcUrl}. */
    static Postgres postgres(String jdbcUrl, String user, String password) {
        return new Postgres(jdbcUrl, user, password, "public");
    }

    String jdbcUrl();

    /** "journal at FOLDER" or "journal at URL", how every error names the store. */
    String describe();

    /** The Slick profile of this database, e.g. {@code slick.jdbc.H2Profile$}. */
    String slickProfile();

    /** Schema the tables live in; Flyway's history table is there too. */
    String schema();

    /**
     * Pekko settings for an ActorSystem over this store: {@code jdbc-journal} and
     * {@code jdbc-snapshot-store} as the default plugins, each with a pool of {@link #POOL_SIZE}
     * connections. Layer it over the rest of the system's config (serializers, dispatchers).
     */
    default Config pekkoConfig() {
        Map<String, Object> db = new LinkedHashMap<>();
        db.put("connectionPool", "HikariCP");
        db.put("url", jdbcUrl());
        db.put("user", user());
        db.put("password", password());
        db.put("driver", driver());
        // Slick wants as many threads as connections; the plugin's default 20 is far too many for a CLI run.
        db.put("numThreads", POOL_SIZE);
        db.put("maxConnections", POOL_SIZE);
        db.put("minConnections", 1);
        db.put("queueSize", 10000);
        db.put("connectionTimeout", 10000);   // ms waiting for a pooled connection (plugin default: 3 min)
        db.put("validationTimeout", 5000);
        db.put("idleTimeout", 600000);
        db.put("maxLifetime", 1800000);
        db.put("keepAliveConnection", false); // the pool's minimum connection keeps a file database open
        db.put("registerMbeans", false);
        Map<String, Object> paths = new LinkedHashMap<>();
        paths.put("pekko.persistence.journal.plugin", "jdbc-journal");
        paths.put("pekko.persistence.snapshot-store.plugin", "jdbc-snapshot-store");
        for (String plugin : new String[] {"jdbc-journal", "jdbc-snapshot-store"}) {
            paths.put(plugin + ".slick.profile", slickProfile());
            db.forEach((k, v) -> paths.put(plugin + ".slick.db." + k, v));
        }
        paths.put("jdbc-journal.tables.event_journal.schemaName", schema());
        paths.put("jdbc-journal.tables.event_tag.schemaName", schema());
        paths.put("jdbc-snapshot-store.tables.snapshot.schemaName", schema());
        return ConfigFactory.parseMap(paths, "NPS journal (" + describe() + ")");
    }

    /**
     * Creates the folder (H2) and the schema, or upgrades it, with Flyway; a second call is a no-op.
     * Any failure is a {@link JournalException} with one line naming the store and the cause
     * ("journal at jdbc:postgresql://h:5432/db: connection refused").
     *
     * @return how many migrations this call applied (0 when the schema was up to date)
     */
    int migrate();

    /** Flyway resource folder of this dialect's migrations. */
    String migrations();

    String user();

    String password();

    String driver();

    /** A non-pooling DataSource for Flyway. */
    DataSource dataSource();

    /**
     * A store from a HOCON block ({@code where} names it in errors): {@code folder = PATH} for H2
     * (relative to {@code dir}), or {@code url = "jdbc:postgresql://..."}, {@code user},
     * {@code password} (default empty; {@code password = ${?NPS_JOURNAL_PASSWORD}} reads the
     * environment) and {@code schema} (default public) for PostgreSQL. Unknown keys are refused.
     */
    static JournalStore fromConfig(Config block, Path dir, String where) {
        ConfigKeys.unknownKey(block.root(), KEYS, where).ifPresent(m -> {
            throw new IllegalArgumentException(m);
        });
        try {
            boolean folder = block.hasPath("folder");
            boolean url = block.hasPath("url");
            if (folder == url) {
                throw new IllegalArgumentException(where + ": give either folder = PATH (H2) or url = \"jdbc:postgresql://...\""
                        + " (PostgreSQL)" + (folder ? ", not both" : ""));
            }
            if (folder) {
                for (String k : new String[] {"user", "password", "schema"}) {
                    if (block.hasPath(k)) {
                        throw new IllegalArgumentException(where + "." + k + " applies to a PostgreSQL journal (url = ...), not to folder = ...");
                    }
                }
                return h2(dir.resolve(block.getString("folder")));
            }
            String u = block.getString("url");
            if (!u.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException(where + ".url must be a jdbc:postgresql: URL, got " + u
                        + " (an H2 journal is folder = PATH)");
            }
            if (!block.hasPath("user")) {
                throw new IllegalArgumentException(where + ".user is missing (the PostgreSQL role of the journal)");
            }
            return new Postgres(u, block.getString("user"), block.hasPath("password") ? block.getString("password") : "",
                    block.hasPath("schema") ? block.getString("schema") : "public");
        } catch (ConfigException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    Set<String> KEYS = ConfigKeys.of("folder", "url", "user", "password", "schema");

    /**
     * Embedded H2 in {@code folder}. URL settings: DATABASE_TO_UPPER=false (the plugin quotes its
     * lower-case names); DB_CLOSE_ON_EXIT=FALSE (H2's own shutdown hook would close the database
     * under a still-terminating ActorSystem: the pools close it when the plugins stop);
     * WRITE_DELAY=0 (every commit reaches the file before the write is acknowledged, so a killed
     * process loses no acknowledged event; H2's default keeps up to 500 ms in memory: JournalCrashTest
     * fails without it). Each commit appends a chunk to the file, which grows by about 35 KB per
     * 4 KB event; closing compacts it for at most 200 ms (H2's MAX_COMPACT_TIME; longer would delay
     * every close, even of a tiny file, by all of it), and {@link #compact()} shrinks it fully.
     */
    record H2(Path folder) implements JournalStore {
        /** The database file's base name: the file is {@code journal.mv.db}. */
        public static final String NAME = "journal";

        public H2 {
            folder = folder.toAbsolutePath().normalize();
            if (folder.toString().contains(";")) {
                throw new IllegalArgumentException("journal folder " + folder + " contains ';', which an H2 URL cannot hold");
            }
        }

        /**
         * Rewrites the file without its dead chunks (H2's SHUTDOWN COMPACT: about payload + 80 B per
         * event). Only while no ActorSystem uses the journal: it closes the database under them.
         */
        public void compact() {
            if (!Files.isRegularFile(file())) {
                throw new JournalException(describe() + ": no " + file().getFileName() + " to compact");
            }
            try (java.sql.Connection c = dataSource().getConnection(); java.sql.Statement s = c.createStatement()) {
                s.execute("SHUTDOWN COMPACT");
            } catch (java.sql.SQLException e) {
                throw new JournalException(describe() + ": compaction failed (" + Migrations.reason(e) + ")", e);
            }
        }

        /** The database file. */
        public Path file() {
            return folder.resolve(NAME + ".mv.db");
        }

        @Override
        public String jdbcUrl() {
            return "jdbc:h2:file:" + folder.resolve(NAME)
                    + ";DATABASE_TO_UPPER=false;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";
        }

        @Override
        public String describe() {
            return "journal at " + folder;
        }

        @Override
        public String slickProfile() {
            return "slick.jdbc.H2Profile$";
        }

        @Override
        public String schema() {
            return "PUBLIC";
        }

        @Override
        public String migrations() {
            return "db/journal/h2";
        }

        @Override
        public String user() {
            return "nps";
        }

        @Override
        public String password() {
            return "";
        }

        @Override
        public String driver() {
            return "org.h2.Driver";
        }

        @Override
        public DataSource dataSource() {
            org.h2.jdbcx.JdbcDataSource ds = new org.h2.jdbcx.JdbcDataSource();
            ds.setURL(jdbcUrl());
            ds.setUser(user());
            ds.setPassword(password());
            return ds;
        }

        @Override
        public int migrate() {
            prepareFolder();
            return Migrations.run(this).migrationsExecuted;
        }

        /** The folder exists, is a directory we can write in, and holds no database H2 2 cannot read. */
        private void prepareFolder() {
            try {
                Files.createDirectories(folder);
            } catch (FileAlreadyExistsException e) {
                throw new JournalException(describe() + ": not a directory", e);
            } catch (IOException e) {
                throw new JournalException(describe() + ": cannot create the folder (" + Migrations.reason(e) + ")", e);
            }
            // A real write, not Files.isWritable: permission bits say nothing for root or a read-only mount.
            try {
                Path probe = Files.createTempFile(folder, ".nps-journal-probe", ".tmp");
                Files.delete(probe);
            } catch (IOException e) {
                throw new JournalException(describe() + ": folder not writable (" + Migrations.reason(e) + ")", e);
            }
            Path legacy = folder.resolve(NAME + ".h2.db");
            if (Files.exists(legacy) && !Files.exists(file())) {
                // H2 2 would ignore it and silently start an empty journal beside it.
                throw new JournalException(describe() + ": " + legacy.getFileName()
                        + " is an H2 1.x database (PageStore format), which H2 2 cannot read");
            }
            if (Files.exists(file()) && !Files.isRegularFile(file())) {
                throw new JournalException(describe() + ": " + file().getFileName() + " is not a regular file");
            }
        }
    }

    /** PostgreSQL: the tables live in {@code schema} (created if missing), Flyway's history beside them. */
    record Postgres(String jdbcUrl, String user, String password, String schema) implements JournalStore {
        private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

        public Postgres {
            if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("journal url must be a jdbc:postgresql: URL, got " + jdbcUrl);
            }
            if (user == null || user.isEmpty()) {
                throw new IllegalArgumentException("journal at " + jdbcUrl + ": no user given");
            }
            password = password == null ? "" : password;
            if (schema == null || !IDENTIFIER.matcher(schema).matches()) {
                throw new IllegalArgumentException("journal schema must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most"
                        + " 63 characters), got " + schema);
            }
        }

        /** The same database, tables in {@code newSchema}. */
        public Postgres inSchema(String newSchema) {
            return new Postgres(jdbcUrl, user, password, newSchema);
        }

        @Override
        public String describe() {
            return "journal at " + jdbcUrl;
        }

        @Override
        public String slickProfile() {
            return "slick.jdbc.PostgresProfile$";
        }

        @Override
        public String migrations() {
            return "db/journal/postgres";
        }

        @Override
        public String driver() {
            return "org.postgresql.Driver";
        }

        @Override
        public DataSource dataSource() {
            org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
            ds.setURL(jdbcUrl);
            ds.setUser(user);
            ds.setPassword(password);
            ds.setConnectTimeout(10);   // seconds; an unreachable host fails in 10 s, not the OS's minutes
            ds.setLoginTimeout(10);
            return ds;
        }

        @Override
        public int migrate() {
            return Migrations.run(this).migrationsExecuted;
        }

        /** Never prints the password. */
        @Override
        public String toString() {
            return "Postgres[" + jdbcUrl + ", user " + user + ", schema " + schema + "]";
        }
    }
}
