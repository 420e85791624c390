package dev.nps.run;

import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.nps.coordinator.NpsSearch;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;

/** The stores and actor-system settings the journal tests share. */
final class TestStores {
    private TestStores() {
    }

    /** Pekko for a test system over {@code store}: NPS's shared settings, the Counter serializer, local provider. */
    static Config pekko(JournalStore store) {
        return store.pekkoConfig()
                .withFallback(ConfigFactory.parseString(CounterSerializer.CONFIG))
                .withFallback(ConfigFactory.parseString("""
                        pekko {
                          actor.provider = local
                          jvm-exit-on-fatal-error = off
                          jvm-shutdown-hooks = off
                          coordinated-shutdown.run-by-jvm-shutdown-hook = off
                        }
                        """))
                .withFallback(NpsSearch.sharedPekkoConfig("nps-test-dispatcher", 1));
    }

    /**
     * The test PostgreSQL (NPS_TEST_POSTGRES_URL/_USER/_PASSWORD, as tools/postgres-test-server.sh
     * prints them), in a fresh schema so reruns on one database never collide. Unset: the test is
     * skipped, except under CI=true, where it fails: CI must never silently skip PostgreSQL.
     */
    static JournalStore.Postgres freshPostgres() {
        String url = System.getenv("NPS_TEST_POSTGRES_URL");
        if (url == null || url.isBlank()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI=true but NPS_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL"
                        + " (tools/postgres-test-server.sh start) and export it");
            }
            Assumptions.abort("NPS_TEST_POSTGRES_URL is not set (eval \"$(tools/postgres-test-server.sh start)\" to run this test)");
        }
        String user = System.getenv().getOrDefault("NPS_TEST_POSTGRES_USER", "nps_test");
        String password = System.getenv().getOrDefault("NPS_TEST_POSTGRES_PASSWORD", "");
        byte[] random = new byte[6];
        ThreadLocalRandom.current().nextBytes(random);
        return JournalStore.postgres(url, user, password).inSchema("nps_test_" + HexFormat.of().formatHex(random));
    }

    /** Drops a test schema made by {@link #freshPostgres()}. */
    static void drop(JournalStore.Postgres store) throws SQLException {
        try (Connection c = DriverManager.getConnection(store.jdbcUrl(), store.user(), store.password());
             Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + store.schema() + " CASCADE");
        }
    }
}
