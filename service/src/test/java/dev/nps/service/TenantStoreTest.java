package dev.nps.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nps.run.JournalStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service's tables over both journal databases: tokens stored only as hashes, revocation, the run index. */
class TenantStoreTest {
    @TempDir
    Path tmp;

    @Test
    void h2() throws Exception {
        exercise(JournalStore.h2(tmp.resolve("journal")));
    }

    @Test
    void postgres() throws Exception {
        String url = System.getenv("NPS_TEST_POSTGRES_URL");
        if (url == null || url.isBlank()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI=true but NPS_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL");
            }
            Assumptions.abort("NPS_TEST_POSTGRES_URL is not set (eval \"$(tools/postgres-test-server.sh start)\" to run this test)");
        }
        byte[] random = new byte[6];
        ThreadLocalRandom.current().nextBytes(random);
        JournalStore.Postgres store = JournalStore.postgres(url, System.getenv().getOrDefault("NPS_TEST_POSTGRES_USER", "nps_test"),
                System.getenv().getOrDefault("NPS_TEST_POSTGRES_PASSWORD", "")).inSchema("nps_test_" + HexFormat.of().formatHex(random));
        try {
            exercise(store);
        } finally {
            try (Connection c = DriverManager.getConnection(store.jdbcUrl(), store.user(), store.password());
                 Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + store.schema() + " CASCADE");
            }
        }
    }

    private static void exercise(JournalStore journal) throws Exception {
        try (TenantStore store = TenantStore.open(journal)) {
            String token = store.add(new TenantStore.Tenant("alice", 2, 3, 4, 5, 6, false, 0));
            assertTrue(token.matches("[A-Za-z0-9_-]{43}"), token); // 32 bytes, URL-safe base64, no padding
            assertNotEquals(token, store.add(new TenantStore.Tenant("bob", 1, 0, 0, 0, 0, false, 0)));
            assertEquals("tenant alice exists already", assertThrows(IllegalArgumentException.class,
                    () -> store.add(new TenantStore.Tenant("alice", 1, 0, 0, 0, 0, false, 0))).getMessage());
            TenantStore.Tenant a = store.byToken(token).orElseThrow();
            assertEquals(List.of("alice", 2.0, 3, 4, 5L, 6, false), List.of(a.name(), a.weight(), a.maxRuns(), a.maxSlots(), a.maxBytes(),
                    a.submissionsPerMinute(), a.revoked()));
            assertTrue(store.byToken(token + "x").isEmpty());

            for (int i = 0; i < 5; i++) {
                store.addRun(new TenantStore.RunRow("r" + i, "alice", 1000 + i, "running", null, "merge " + i));
            }
            store.addRun(new TenantStore.RunRow("b0", "bob", 2000, "running", null, "prune"));
            store.updateRun("r1", "succeeded", 0.75);
            assertEquals(0.75, store.run("alice", "r1").orElseThrow().bestAccuracy());
            assertEquals(null, store.run("alice", "r2").orElseThrow().bestAccuracy());
            assertTrue(store.run("bob", "r1").isEmpty(), "another tenant's run is not found");
            assertEquals(List.of("r4", "r3"), store.runs("alice", null, 0, 2).stream().map(TenantStore.RunRow::id).toList());
            assertEquals(List.of("r2", "r1"), store.runs("alice", null, 2, 2).stream().map(TenantStore.RunRow::id).toList());
            assertEquals(List.of("r1"), store.runs("alice", "succeeded", 0, 10).stream().map(TenantStore.RunRow::id).toList());
            assertEquals(4, store.count("alice", "running"));
            assertEquals(3, store.submittedSince("alice", 1002));

            store.revoke("alice");
            assertTrue(store.byToken(token).orElseThrow().revoked());
            assertEquals("no tenant carol", assertThrows(IllegalArgumentException.class, () -> store.revoke("carol")).getMessage());
        }
        // Only the hash is stored: the token appears nowhere in the tables.
        try (Connection c = journal.dataSource().getConnection(); Statement s = c.createStatement()) {
            c.setSchema(journal.schema());
            ResultSet rs = s.executeQuery("SELECT sha256 FROM nps_tenant_token");
            int n = 0;
            while (rs.next()) {
                assertTrue(rs.getString(1).matches("[0-9a-f]{64}"));
                n++;
            }
            assertEquals(2, n);
        }
        try (TenantStore again = TenantStore.open(journal)) {
            assertEquals(List.of("alice", "bob"), again.list().stream().map(TenantStore.Tenant::name).toList());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TenantStore.Tenant("Bad Name", 1, 0, 0, 0, 0, false, 0))
                .getMessage().startsWith("tenant name 'Bad Name' must be"));
    }
}
