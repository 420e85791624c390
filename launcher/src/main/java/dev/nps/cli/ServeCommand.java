package dev.nps.cli;

import dev.nps.cluster.NodeSettings;
import dev.nps.cluster.ServeMain;
import dev.nps.run.JournalStore;
import dev.nps.service.HttpService;
import dev.nps.service.ServiceSettings;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Start a cluster node (roles, slots, seeds, storage root, TLS from the config file; README \"Cluster\")"
                + " and run until stopped. Ctrl-C leaves the cluster gracefully; its evaluators move to other nodes."
                + " With nps.node.service it also serves the HTTP API (README \"Service\").")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "HOCON node config (nps.node { ... })")
    Path config;

    @Override
    public Integer call() {
        NodeSettings settings = NodeSettings.load(config); // checks the file (exists, regular) and says so in one line
        LogSettings.load(config).apply(); // before the node starts: every line it prints follows it
        Optional<JournalStore> journal = NodeSettings.journal(config);
        Optional<ServiceSettings> service = ServiceSettings.load(config);
        return ServeMain.serve(settings, journal, ServedCommands::execute,
                node -> service.ifPresent(s -> HttpService.start(node, journal.orElseThrow(), s, ServedCommands::problem)));
    }
}
