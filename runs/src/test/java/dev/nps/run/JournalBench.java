package dev.nps.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Hand-run measurement (not a test): journal bytes per event for a 4 KB payload, and the time to
 * recover 1000 events with and without a snapshot, on H2 (a temp folder) and, when
 * NPS_TEST_POSTGRES_URL is set, on PostgreSQL. See README "Journal" for the command.
 */
public final class JournalBench {
    private static final int EVENTS = Integer.getInteger("nps.bench.events", 1000);
    private static final int PAYLOAD = 4096;
    private static final Duration WAIT = Duration.ofSeconds(60);

    private JournalBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("nps-journal-bench");
        bench(JournalStore.h2(dir.resolve("journal")));
        if (System.getenv("NPS_TEST_POSTGRES_URL") != null) {
            JournalStore.Postgres pg = TestStores.freshPostgres();
            try {
                bench(pg);
            } finally {
                TestStores.drop(pg);
            }
        }
    }

    private static void bench(JournalStore store) throws Exception {
        store.migrate();
        long before = bytes(store);
        long writeNanos = write(store, "plain", 0, EVENTS);
        long after = bytes(store);
        long closeNanos = lastCloseNanos;
        if (store instanceof JournalStore.H2 h2) {
            long t0 = System.nanoTime();
            h2.compact();
            System.out.printf("H2: compact() took %.0f ms, then the file holds %.0f B/event%n", (System.nanoTime() - t0) / 1e6,
                    (bytes(store) - before) / (double) EVENTS);
        }
        write(store, "snap", EVENTS, EVENTS);   // one snapshot, at event 1000
        write(store, "warm", 0, 10);
        System.out.printf("%s: %d events of %d B written in %.0f ms (%.2f ms/event, one at a time), journal grew %.0f B/event; terminating the system took %.0f ms%n",
                store.getClass().getSimpleName(), EVENTS, PAYLOAD, writeNanos / 1e6, writeNanos / 1e6 / EVENTS,
                (after - before) / (double) EVENTS, closeNanos / 1e6);
        List<Double> plain = new ArrayList<>();
        List<Double> snap = new ArrayList<>();
        for (int rep = 0; rep < 5; rep++) {
            ActorTestKit kit = ActorTestKit.create("bench-recover", TestStores.pekko(store));
            try {
                recover(kit, "warm", 0, 0);    // starts the pools, so what follows is the recovery alone
                boolean plainFirst = rep % 2 == 0;
                for (int k = 0; k < 2; k++) {
                    if ((k == 0) == plainFirst) {
                        plain.add(recover(kit, "plain", 0, 0) / 1e6);
                    } else {
                        snap.add(recover(kit, "snap", EVENTS, EVENTS) / 1e6);
                    }
                }
            } finally {
                kit.shutdownTestKit();
            }
        }
        System.out.printf("%s: recover %d events: replayed %s ms; from the snapshot %s ms (5 fresh ActorSystems, pools started)%n",
                store.getClass().getSimpleName(), EVENTS, median(plain), median(snap));
    }

    private static long write(JournalStore store, String id, int snapshotEvery, int n) {
        ActorTestKit kit = ActorTestKit.create("bench-write", TestStores.pekko(store));
        try {
            ActorRef<Counter.Command> c = kit.spawn(Counter.create(id, snapshotEvery));
            TestProbe<Long> acks = kit.createTestProbe();
            c.tell(new Counter.Get(kit.<Counter.Status>createTestProbe().ref()));
            long t0 = System.nanoTime();
            for (int i = 1; i <= n; i++) {
                c.tell(new Counter.Add(Counter.payload(i, PAYLOAD), acks.ref()));
                acks.receiveMessage(WAIT);
            }
            long t = System.nanoTime() - t0;
            if (snapshotEvery > 0) {
                TestProbe<Counter.Status> status = kit.createTestProbe();
                status.awaitAssert(WAIT, Duration.ofMillis(20), () -> {
                    c.tell(new Counter.Get(status.ref()));
                    if (status.receiveMessage(WAIT).lastSnapshot() != n) {
                        throw new AssertionError("snapshot not stored yet");
                    }
                    return null;
                });
            }
            long c0 = System.nanoTime();
            kit.shutdownTestKit();
            lastCloseNanos = System.nanoTime() - c0;
            return t;
        } finally {
            kit.shutdownTestKit();
        }
    }

    /** How long the last writer's ActorSystem took to terminate (H2 compacts its file when the pools close). */
    private static long lastCloseNanos;

    /** Nanoseconds from the actor's setup to RecoveryCompleted; checks the replayed count. */
    private static long recover(ActorTestKit kit, String id, int snapshotEvery, int expectSnapshotAt) {
        ActorRef<Counter.Command> c = kit.spawn(Counter.create(id, snapshotEvery));
        TestProbe<Counter.Status> status = kit.createTestProbe();
        c.tell(new Counter.Get(status.ref()));
        Counter.Status s = status.receiveMessage(WAIT);
        long total = s.state().count();
        if (s.replayed() != total - expectSnapshotAt) {
            throw new IllegalStateException(id + ": replayed " + s.replayed() + " of " + total);
        }
        kit.stop(c);
        return s.recoveryNanos();
    }

    private static String median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        sorted.sort(null);
        return String.format("%.1f (median; %s)", sorted.get(sorted.size() / 2),
                String.join(" ", xs.stream().map(x -> String.format("%.1f", x)).toList()));
    }

    /** H2: the database file; PostgreSQL: the journal table with its TOAST and indexes. */
    private static long bytes(JournalStore store) throws Exception {
        return switch (store) {
            case JournalStore.H2 h2 -> Files.size(h2.file());
            case JournalStore.Postgres pg -> {
                try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
                     Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT pg_total_relation_size('" + pg.schema() + ".event_journal')")) {
                    rs.next();
                    yield rs.getLong(1);
                }
            }
        };
    }
}
