package dev.nps.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JournalStore from a HOCON block, and the Pekko settings it gives. */
class JournalStoreConfigTest {
    @TempDir
    Path tmp;

    private static JournalStore parse(String hocon, Path dir) {
        return JournalStore.fromConfig(ConfigFactory.parseString(hocon).resolve(), dir, "nps.node.journal");
    }

    @Test
    void folderIsH2RelativeToTheConfigFile() {
        assertEquals(JournalStore.h2(tmp.resolve("runs/journal")), parse("folder = runs/journal", tmp));
        assertEquals(JournalStore.h2(Path.of("/var/nps/journal")), parse("folder = \"/var/nps/journal\"", tmp));
    }

    @Test
    void urlIsPostgres() {
        JournalStore s = parse("url = \"jdbc:postgresql://10.0.0.5:5432/nps\", user = nps, password = pw, schema = runs", tmp);
        assertEquals(new JournalStore.Postgres("jdbc:postgresql://10.0.0.5:5432/nps", "nps", "pw", "runs"), s);
        assertEquals(new JournalStore.Postgres("jdbc:postgresql://h/nps", "nps", "", "public"),
                parse("url = \"jdbc:postgresql://h/nps\", user = nps", tmp));
    }

    @Test
    void badBlocksAreOneLine() {
        assertEquals("unknown key 'pasword' in nps.node.journal (did you mean 'password'? known keys: folder, password, schema, url, user)",
                assertThrows(IllegalArgumentException.class, () -> parse("url = \"jdbc:postgresql://h/x\", user = u, pasword = p", tmp))
                        .getMessage());
        assertEquals("nps.node.journal: give either folder = PATH (H2) or url = \"jdbc:postgresql://...\" (PostgreSQL), not both",
                assertThrows(IllegalArgumentException.class, () -> parse("folder = a, url = \"jdbc:postgresql://h/x\"", tmp)).getMessage());
        assertEquals("nps.node.journal.url must be a jdbc:postgresql: URL, got jdbc:mysql://h/x (an H2 journal is folder = PATH)",
                assertThrows(IllegalArgumentException.class, () -> parse("url = \"jdbc:mysql://h/x\", user = u", tmp)).getMessage());
        assertEquals("nps.node.journal.user is missing (the PostgreSQL role of the journal)",
                assertThrows(IllegalArgumentException.class, () -> parse("url = \"jdbc:postgresql://h/x\"", tmp)).getMessage());
        assertEquals("nps.node.journal.user applies to a PostgreSQL journal (url = ...), not to folder = ...",
                assertThrows(IllegalArgumentException.class, () -> parse("folder = a, user = u", tmp)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("url = \"jdbc:postgresql://h/x\", user = u, schema = \"Runs; drop\"", tmp)).getMessage()
                .startsWith("journal schema must be a lower-case SQL identifier"));
    }

    @Test
    void pekkoConfigSelectsTheJdbcPluginsWithSmallPools() {
        Config c = JournalStore.postgres("jdbc:postgresql://h/x", "u", "p\"w'd").inSchema("runs").pekkoConfig();
        assertEquals("jdbc-journal", c.getString("pekko.persistence.journal.plugin"));
        assertEquals("jdbc-snapshot-store", c.getString("pekko.persistence.snapshot-store.plugin"));
        for (String plugin : new String[] {"jdbc-journal", "jdbc-snapshot-store"}) {
            assertEquals("slick.jdbc.PostgresProfile$", c.getString(plugin + ".slick.profile"));
            assertEquals("jdbc:postgresql://h/x", c.getString(plugin + ".slick.db.url"));
            assertEquals("p\"w'd", c.getString(plugin + ".slick.db.password"), "a password needs no escaping");
            assertEquals(JournalStore.POOL_SIZE, c.getInt(plugin + ".slick.db.maxConnections"));
            assertEquals(JournalStore.POOL_SIZE, c.getInt(plugin + ".slick.db.numThreads"));
        }
        assertEquals("runs", c.getString("jdbc-journal.tables.event_journal.schemaName"));
        assertEquals("runs", c.getString("jdbc-snapshot-store.tables.snapshot.schemaName"));
    }

    /** A run opens at most 2 x POOL_SIZE connections, not the plugin's default 2 x 20: counted by H2 itself. */
    @Test
    void anActorSystemOpensAtMostTwoSmallPools() throws Exception {
        JournalStore.H2 store = JournalStore.h2(tmp.resolve("journal"));
        store.migrate();
        ActorTestKit kit = ActorTestKit.create("journal-pools", TestStores.pekko(store));
        try {
            ActorRef<Counter.Command> counter = kit.spawn(Counter.create("pools", 5));
            TestProbe<Long> acks = kit.createTestProbe();
            for (int i = 1; i <= 50; i++) {
                counter.tell(new Counter.Add("e" + i, acks.ref()));
            }
            for (int i = 1; i <= 50; i++) {
                acks.receiveMessage(Duration.ofSeconds(30));
            }
            try (Connection c = DriverManager.getConnection(store.jdbcUrl(), store.user(), store.password());
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS")) {
                rs.next();
                int others = rs.getInt(1) - 1;
                assertTrue(others >= 1 && others <= 2 * JournalStore.POOL_SIZE, others + " journal connections open");
            }
        } finally {
            kit.shutdownTestKit();
        }
    }
}
