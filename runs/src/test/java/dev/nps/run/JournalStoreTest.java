package dev.nps.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal under a real event-sourced actor: events persisted by one ActorSystem are recovered
 * exactly by a new one over the same store (all of them, or the latest snapshot plus the tail), on
 * H2 always and on PostgreSQL when the test server is up (required under CI=true).
 */
class JournalStoreTest {
    private static final Duration ACK = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void h2RecoversEveryEvent() {
        roundTrip(JournalStore.h2(tmp.resolve("journal")), 250, 0, 64);
    }

    @Test
    void h2RecoversTheSnapshotPlusTheTail() {
        roundTrip(JournalStore.h2(tmp.resolve("journal")), 250, 100, 64);
    }

    @Test
    void postgresRecoversEveryEvent() throws Exception {
        JournalStore.Postgres store = TestStores.freshPostgres();
        try {
            roundTrip(store, 250, 0, 64);
        } finally {
            TestStores.drop(store);
        }
    }

    @Test
    void postgresRecoversTheSnapshotPlusTheTail() throws Exception {
        JournalStore.Postgres store = TestStores.freshPostgres();
        try {
            roundTrip(store, 250, 100, 64);
        } finally {
            TestStores.drop(store);
        }
    }

    /**
     * Writes {@code n} events (a snapshot every {@code k}, 0 = none) in one ActorSystem, stops it,
     * and checks a second one recovers the same state, replaying only the events after the last
     * snapshot, and continues at sequence number n + 1.
     */
    private static void roundTrip(JournalStore store, int n, int k, int payloadBytes) {
        assertEquals(2, store.migrate(), "a fresh store gets both migrations (journal, service tenants)");
        String id = "counter-" + UUID.randomUUID();
        Counter.Tally expected = Counter.expected(n, payloadBytes);
        int lastSnapshot = k == 0 ? -1 : (n / k) * k;

        ActorTestKit writer = ActorTestKit.create("journal-writer", TestStores.pekko(store));
        try {
            ActorRef<Counter.Command> counter = writer.spawn(Counter.create(id, k));
            TestProbe<Long> acks = writer.createTestProbe();
            for (int i = 1; i <= n; i++) {
                counter.tell(new Counter.Add(Counter.payload(i, payloadBytes), acks.ref()));
            }
            for (long i = 1; i <= n; i++) {
                assertEquals(i, acks.receiveMessage(ACK), "acknowledged sequence number");
            }
            TestProbe<Counter.Status> status = writer.createTestProbe();
            // Snapshots are written after the event that triggers them: wait until the last one is stored.
            Counter.Status written = status.awaitAssert(ACK, Duration.ofMillis(50), () -> {
                counter.tell(new Counter.Get(status.ref()));
                Counter.Status s = status.receiveMessage(ACK);
                assertEquals(lastSnapshot, s.lastSnapshot(), "last snapshot stored");
                return s;
            });
            assertEquals(expected, written.state());
            assertEquals(0, written.replayed(), "a new persistence id replays nothing");
        } finally {
            writer.shutdownTestKit();
        }

        ActorTestKit reader = ActorTestKit.create("journal-reader", TestStores.pekko(store));
        try {
            ActorRef<Counter.Command> counter = reader.spawn(Counter.create(id, k));
            TestProbe<Counter.Status> status = reader.createTestProbe();
            counter.tell(new Counter.Get(status.ref()));
            Counter.Status recovered = status.receiveMessage(ACK);
            assertEquals(expected, recovered.state(), "recovered state");
            assertEquals(k == 0 ? n : n - lastSnapshot, recovered.replayed(), "events replayed after the snapshot");
            assertEquals(n, recovered.sequenceNr());
            TestProbe<Long> acks = reader.createTestProbe();
            counter.tell(new Counter.Add("next", acks.ref()));
            assertEquals(n + 1, acks.receiveMessage(ACK), "the journal continues after recovery");
        } finally {
            reader.shutdownTestKit();
        }
    }

    @Test
    void h2CompactShrinksTheFileAndKeepsEveryEvent() throws Exception {
        JournalStore.H2 store = JournalStore.h2(tmp.resolve("journal"));
        store.migrate();
        int n = 200;
        ActorTestKit writer = ActorTestKit.create("journal-compact", TestStores.pekko(store));
        try {
            ActorRef<Counter.Command> counter = writer.spawn(Counter.create("compacted", 0));
            TestProbe<Long> acks = writer.createTestProbe();
            for (int i = 1; i <= n; i++) {
                counter.tell(new Counter.Add(Counter.payload(i, 4096), acks.ref()));
                acks.receiveMessage(ACK);
            }
        } finally {
            writer.shutdownTestKit();
        }
        long before = Files.size(store.file());
        store.compact();
        long after = Files.size(store.file());
        assertTrue(after < before, "compacted " + before + " -> " + after + " bytes");
        assertTrue(after < n * 4096L * 2, after + " bytes for " + n + " events of 4 KB");
        ActorTestKit reader = ActorTestKit.create("journal-compact", TestStores.pekko(store));
        try {
            ActorRef<Counter.Command> counter = reader.spawn(Counter.create("compacted", 0));
            TestProbe<Counter.Status> status = reader.createTestProbe();
            counter.tell(new Counter.Get(status.ref()));
            assertEquals(Counter.expected(n, 4096), status.receiveMessage(ACK).state());
        } finally {
            reader.shutdownTestKit();
        }
        assertEquals("journal at " + tmp.resolve("none") + ": no journal.mv.db to compact",
                assertThrows(JournalException.class, () -> JournalStore.h2(tmp.resolve("none")).compact()).getMessage());
    }

    @Test
    void h2MigrateTwiceIsANoOp() throws Exception {
        JournalStore.H2 store = JournalStore.h2(tmp.resolve("journal"));
        assertEquals(2, store.migrate());
        assertEquals(0, store.migrate());
        assertTrue(Files.isRegularFile(store.file()));
        assertEquals(Set.of("event_journal", "event_tag", "snapshot", "nps_tenant", "nps_tenant_token", "nps_service_run", Migrations.HISTORY_TABLE), tables(store));
    }

    @Test
    void postgresMigrateTwiceIsANoOp() throws Exception {
        JournalStore.Postgres store = TestStores.freshPostgres();
        try {
            assertEquals(2, store.migrate());
            assertEquals(0, store.migrate());
            assertEquals(Set.of("event_journal", "event_tag", "snapshot", "nps_tenant", "nps_tenant_token", "nps_service_run", Migrations.HISTORY_TABLE), tables(store));
        } finally {
            TestStores.drop(store);
        }
    }

    @Test
    void postgresWithAWrongPasswordIsOneLine() throws Exception {
        JournalStore.Postgres good = TestStores.freshPostgres();
        JournalStore.Postgres bad = new JournalStore.Postgres(good.jdbcUrl(), good.user(), good.password() + "-wrong", good.schema());
        JournalException e = assertThrows(JournalException.class, bad::migrate);
        assertEquals("journal at " + good.jdbcUrl() + ": FATAL: password authentication failed for user \"" + good.user() + "\"",
                e.getMessage());
    }

    @Test
    void unreachablePostgresIsOneLine() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        JournalStore store = JournalStore.postgres("jdbc:postgresql://127.0.0.1:1/nps", "nps", "secret");
        JournalException e = assertThrows(JournalException.class, store::migrate);
        assertEquals("journal at jdbc:postgresql://127.0.0.1:1/nps: connection refused", e.getMessage());
        assertFalse(store.toString().contains("secret"), "toString hides the password");
    }

    @Test
    void h2FolderThatCannotBeCreatedIsOneLine() throws Exception {
        Path file = Files.writeString(tmp.resolve("plain-file"), "x");
        JournalStore.H2 store = JournalStore.h2(file.resolve("journal"));
        JournalException e = assertThrows(JournalException.class, store::migrate);
        assertEquals("journal at " + file.resolve("journal") + ": cannot create the folder (Not a directory: "
                + file.resolve("journal") + ")", e.getMessage());
    }

    @Test
    void h2FolderThatIsAFileIsOneLine() throws Exception {
        Path file = Files.writeString(tmp.resolve("journal"), "x");
        JournalException e = assertThrows(JournalException.class, JournalStore.h2(file)::migrate);
        assertEquals("journal at " + file + ": not a directory", e.getMessage());
    }

    @Test
    void h2FolderWithoutWritePermissionIsOneLine() throws Exception {
        Path folder = Files.createDirectory(tmp.resolve("read-only"));
        Files.setPosixFilePermissions(folder, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            // Root writes anyway (permission bits do not bind it): then the store must simply work.
            boolean root = "root".equals(System.getProperty("user.name"));
            JournalStore.H2 store = JournalStore.h2(folder);
            if (root) {
                assertEquals(2, store.migrate());
            } else {
                JournalException e = assertThrows(JournalException.class, store::migrate);
                assertTrue(e.getMessage().startsWith("journal at " + folder + ": folder not writable (permission denied: "
                        + folder + "/.nps-journal-probe"), e.getMessage());
            }
        } finally {
            Files.setPosixFilePermissions(folder, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void h2FileOfAnotherFormatIsOneLine() throws Exception {
        JournalStore.H2 store = JournalStore.h2(tmp.resolve("journal"));
        Files.createDirectories(store.folder());
        Files.write(store.file(), "this is not an H2 database, only some bytes in its place\n".repeat(200).getBytes());
        JournalException e = assertThrows(JournalException.class, store::migrate);
        assertTrue(e.getMessage().startsWith("journal at " + store.folder() + ": not a database file H2 "
                + org.h2.engine.Constants.VERSION + " can read ("), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        // Shorter than its header claims: H2 reports a read past the end, not corruption.
        Files.write(store.file(), "garbage".repeat(1000).getBytes());
        JournalException truncated = assertThrows(JournalException.class, store::migrate);
        assertTrue(truncated.getMessage().startsWith("journal at " + store.folder() + ": not a database file H2 "
                + org.h2.engine.Constants.VERSION + " can read (it ends before its own header says: "), truncated.getMessage());
    }

    @Test
    void h2OneDatabaseOfH2OneIsRefused() throws Exception {
        JournalStore.H2 store = JournalStore.h2(tmp.resolve("journal"));
        Files.createDirectories(store.folder());
        Files.write(store.folder().resolve("journal.h2.db"), new byte[4096]);
        JournalException e = assertThrows(JournalException.class, store::migrate);
        assertEquals("journal at " + store.folder() + ": journal.h2.db is an H2 1.x database (PageStore format), which H2 2 cannot read",
                e.getMessage());
        assertFalse(Files.exists(store.file()), "no empty journal was started beside it");
    }

    /** Tables of the store's schema, lower-case. */
    private static Set<String> tables(JournalStore store) throws Exception {
        Set<String> names = new TreeSet<>();
        try (Connection c = DriverManager.getConnection(store.jdbcUrl(), store.user(), store.password());
             ResultSet rs = c.getMetaData().getTables(null, store.schema(), "%", new String[] {"TABLE"})) {
            while (rs.next()) {
                names.add(rs.getString("TABLE_NAME").toLowerCase(java.util.Locale.ROOT));
            }
        }
        return names;
    }
}
