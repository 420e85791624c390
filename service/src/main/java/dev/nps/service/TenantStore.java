package dev.nps.service;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.nps.run.JournalStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The service's tables in the journal database (migration V2): tenants, their token hashes, and
 * which run belongs to whom with the state the service last saw. Plain JDBC over a small pool.
 */
public final class TenantStore implements AutoCloseable {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    /** A tenant and its share and quotas (0 = no limit, except weight). */
    public record Tenant(String name, double weight, int maxRuns, int maxSlots, long maxBytes, int submissionsPerMinute,
                         boolean revoked, long createdMillis) {
        public Tenant {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("tenant name '" + name + "' must be 1-63 of a-z, 0-9, '_' or '-', starting"
                        + " with a letter or digit");
            }
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("--weight must be a positive number, got " + weight);
            }
            if (maxRuns < 0 || maxSlots < 0 || maxBytes < 0 || submissionsPerMinute < 0) {
                throw new IllegalArgumentException("--max-runs, --max-slots, --max-bytes and --submissions-per-minute must be"
                        + " >= 0 (0: no limit)");
            }
        }
    }

    /** A run as the service knows it; {@code state} is running, succeeded, cancelled or failed. */
    public record RunRow(String id, String tenant, long createdMillis, String state, Double bestAccuracy, String description) {
    }

    private final HikariDataSource pool;
    private final String where;

    private TenantStore(HikariDataSource pool, String where) {
        this.pool = pool;
        this.where = where;
    }

    /** Opens (and migrates) the journal's database. */
    public static TenantStore open(JournalStore journal) {
        journal.migrate();
        HikariConfig c = new HikariConfig();
        c.setDataSource(journal.dataSource());
        c.setSchema(journal.schema());
        c.setMaximumPoolSize(4);
        c.setPoolName("nps-service");
        c.setInitializationFailTimeout(-1);
        return new TenantStore(new HikariDataSource(c), journal.describe());
    }

    @FunctionalInterface
    private interface Sql<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T sql(Sql<T> body) {
        try (Connection c = pool.getConnection()) {
            return body.run(c);
        } catch (SQLException e) {
            throw new IllegalStateException(where + ": " + e.getMessage().lines().findFirst().orElse(e.toString()), e);
        }
    }

    /** Adds a tenant with a new token and returns the token (shown once; only its hash is kept). */
    public String add(Tenant t) {
        String token = Tokens.newToken();
        sql(c -> {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM nps_tenant WHERE name = ?")) {
                    q.setString(1, t.name());
                    if (q.executeQuery().next()) {
                        throw new IllegalArgumentException("tenant " + t.name() + " exists already");
                    }
                }
                try (PreparedStatement p = c.prepareStatement("INSERT INTO nps_tenant (name, weight, max_runs, max_slots, max_bytes,"
                        + " submissions_per_minute, revoked, created_millis) VALUES (?, ?, ?, ?, ?, ?, FALSE, ?)")) {
                    p.setString(1, t.name());
                    p.setDouble(2, t.weight());
                    p.setInt(3, t.maxRuns());
                    p.setInt(4, t.maxSlots());
                    p.setLong(5, t.maxBytes());
                    p.setInt(6, t.submissionsPerMinute());
                    p.setLong(7, System.currentTimeMillis());
                    p.executeUpdate();
                }
                try (PreparedStatement p = c.prepareStatement("INSERT INTO nps_tenant_token (sha256, tenant, created_millis) VALUES (?, ?, ?)")) {
                    p.setString(1, Tokens.sha256(token));
                    p.setString(2, t.name());
                    p.setLong(3, System.currentTimeMillis());
                    p.executeUpdate();
                }
                c.commit();
            } catch (RuntimeException | SQLException e) {
                c.rollback();
                throw e;
            }
            return null;
        });
        return token;
    }

    /** Revokes every token of the tenant: its requests answer 401 from now on; its runs and files stay. */
    public void revoke(String name) {
        int n = sql(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE nps_tenant SET revoked = TRUE WHERE name = ?")) {
                p.setString(1, name);
                return p.executeUpdate();
            }
        });
        if (n == 0) {
            throw new IllegalArgumentException("no tenant " + name);
        }
    }

    public List<Tenant> list() {
        return sql(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM nps_tenant ORDER BY name")) {
                List<Tenant> out = new ArrayList<>();
                ResultSet rs = p.executeQuery();
                while (rs.next()) {
                    out.add(tenant(rs));
                }
                return out;
            }
        });
    }

    /** The tenant holding this token (revoked or not), if any. */
    public Optional<Tenant> byToken(String token) {
        return sql(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT t.* FROM nps_tenant t JOIN nps_tenant_token k ON k.tenant = t.name WHERE k.sha256 = ?")) {
                p.setString(1, Tokens.sha256(token));
                ResultSet rs = p.executeQuery();
                return rs.next() ? Optional.of(tenant(rs)) : Optional.empty();
            }
        });
    }

    private static Tenant tenant(ResultSet rs) throws SQLException {
        return new Tenant(rs.getString("name"), rs.getDouble("weight"), rs.getInt("max_runs"), rs.getInt("max_slots"),
                rs.getLong("max_bytes"), rs.getInt("submissions_per_minute"), rs.getBoolean("revoked"), rs.getLong("created_millis"));
    }

    public void addRun(RunRow r) {
        sql(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO nps_service_run (id, tenant, created_millis, state, best_accuracy,"
                    + " description) VALUES (?, ?, ?, ?, NULL, ?)")) {
                p.setString(1, r.id());
                p.setString(2, r.tenant());
                p.setLong(3, r.createdMillis());
                p.setString(4, r.state());
                p.setString(5, r.description());
                return p.executeUpdate();
            }
        });
    }

    public void removeRun(String id) {
        sql(c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM nps_service_run WHERE id = ?")) {
                p.setString(1, id);
                return p.executeUpdate();
            }
        });
    }

    /** The run if it belongs to {@code tenant}: another tenant's run is not found, like one that does not exist. */
    public Optional<RunRow> run(String tenant, String id) {
        return sql(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM nps_service_run WHERE id = ? AND tenant = ?")) {
                p.setString(1, id);
                p.setString(2, tenant);
                ResultSet rs = p.executeQuery();
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        });
    }

    public void updateRun(String id, String state, Double best) {
        sql(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE nps_service_run SET state = ?, best_accuracy = ? WHERE id = ?")) {
                p.setString(1, state);
                if (best == null) {
                    p.setNull(2, java.sql.Types.DOUBLE);
                } else {
                    p.setDouble(2, best);
                }
                p.setString(3, id);
                return p.executeUpdate();
            }
        });
    }

    /** One page of the tenant's runs, newest first; {@code state} null for all. */
    public List<RunRow> runs(String tenant, String state, int offset, int limit) {
        return sql(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM nps_service_run WHERE tenant = ?"
                    + (state == null ? "" : " AND state = ?") + " ORDER BY created_millis DESC, id LIMIT ? OFFSET ?")) {
                int i = 1;
                p.setString(i++, tenant);
                if (state != null) {
                    p.setString(i++, state);
                }
                p.setInt(i++, limit);
                p.setInt(i, offset);
                List<RunRow> out = new ArrayList<>();
                ResultSet rs = p.executeQuery();
                while (rs.next()) {
                    out.add(row(rs));
                }
                return out;
            }
        });
    }

    public int count(String tenant, String state) {
        return sql(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM nps_service_run WHERE tenant = ?"
                    + (state == null ? "" : " AND state = ?"))) {
                p.setString(1, tenant);
                if (state != null) {
                    p.setString(2, state);
                }
                ResultSet rs = p.executeQuery();
                rs.next();
                return rs.getInt(1);
            }
        });
    }

    /** Runs the tenant submitted at or after {@code millis}. */
    public int submittedSince(String tenant, long millis) {
        return sql(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT COUNT(*) FROM nps_service_run WHERE tenant = ? AND created_millis >= ?")) {
                p.setString(1, tenant);
                p.setLong(2, millis);
                ResultSet rs = p.executeQuery();
                rs.next();
                return rs.getInt(1);
            }
        });
    }

    private static RunRow row(ResultSet rs) throws SQLException {
        double best = rs.getDouble("best_accuracy");
        Double b = rs.wasNull() ? null : best;
        return new RunRow(rs.getString("id"), rs.getString("tenant"), rs.getLong("created_millis"), rs.getString("state"), b,
                rs.getString("description"));
    }

    @Override
    public void close() {
        pool.close();
    }
}
