package dev.nps.cli;

import dev.nps.cluster.NodeSettings;
import dev.nps.run.JournalStore;
import dev.nps.service.ServiceApi;
import dev.nps.service.TenantStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code nps tenant add | revoke | list --config NODE.conf}: the HTTP service's tenants, kept in the
 * node's journal database. An H2 journal is one process's at a time: run these while {@code serve}
 * is stopped (a PostgreSQL journal any time; a revoke applies to the next request).
 */
@Command(name = "tenant", mixinStandardHelpOptions = true, description = "Manage the HTTP service's tenants (README \"Service\").",
        subcommands = {TenantCommand.Add.class, TenantCommand.Revoke.class, TenantCommand.ListTenants.class})
final class TenantCommand {
    private TenantCommand() {
    }

    static TenantStore open(Path config) {
        JournalStore journal = NodeSettings.journal(config).orElseThrow(() -> new IllegalArgumentException("node config " + config
                + " has no nps.node.journal: the service keeps its tenants there"));
        try {
            return TenantStore.open(journal);
        } catch (RuntimeException e) {
            String m = String.valueOf(e.getMessage()).replaceAll("\\s*\\R\\s*", " ");
            throw new IllegalArgumentException(m + (m.contains("in use by another process")
                    ? " (an H2 journal is one process's at a time: stop `nps serve` first)" : ""), e);
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a tenant; prints its bearer token once (only a hash is kept) and creates its storage area.")
    static final class Add implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "a-z, 0-9, '_', '-'")
        String name;

        @Option(names = "--config", required = true, paramLabel = "NODE.conf", description = "the serving node's config")
        Path config;

        @Option(names = "--weight", defaultValue = "1", paramLabel = "W", description = "fair-share weight of its runs; default 1")
        double weight;

        @Option(names = "--max-runs", defaultValue = "0", paramLabel = "N", description = "runs running at once (0: no limit)")
        int maxRuns;

        @Option(names = "--max-slots", defaultValue = "0", paramLabel = "S", description = "evaluator slots per run (0: no cap)")
        int maxSlots;

        @Option(names = "--max-bytes", defaultValue = "0", paramLabel = "B", description = "bytes in its area (0: no limit)")
        long maxBytes;

        @Option(names = "--submissions-per-minute", defaultValue = "0", paramLabel = "N", description = "submissions per minute (0: no limit)")
        int perMinute;

        @Override
        public Integer call() {
            TenantStore.Tenant t = new TenantStore.Tenant(name, weight, maxRuns, maxSlots, maxBytes, perMinute, false, 0);
            Path area = ServiceApi.area(NodeSettings.load(config).storageRoot(), name);
            try (TenantStore store = open(config)) {
                String token = store.add(t);
                Files.createDirectories(area);
                System.out.println(token);
                System.err.println("nps: tenant " + name + " added; its area is " + area + "; the token above is shown only now");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a tenant's tokens: its requests answer 401.")
    static final class Revoke implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--config", required = true, paramLabel = "NODE.conf")
        Path config;

        @Override
        public Integer call() {
            try (TenantStore store = open(config)) {
                store.revoke(name);
            }
            System.out.println("tenant " + name + " revoked");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "One line per tenant: share, quotas, revoked.")
    static final class ListTenants implements Callable<Integer> {
        @Option(names = "--config", required = true, paramLabel = "NODE.conf")
        Path config;

        @Override
        public Integer call() {
            try (TenantStore store = open(config)) {
                for (TenantStore.Tenant t : store.list()) {
                    System.out.printf(Locale.ROOT, "%s weight %s max-runs %d max-slots %d max-bytes %d submissions-per-minute %d%s%n",
                            t.name(), t.weight(), t.maxRuns(), t.maxSlots(), t.maxBytes(), t.submissionsPerMinute(),
                            t.revoked() ? " revoked" : "");
                }
            }
            return 0;
        }
    }
}
