package dev.nps.cli;

import dev.nps.cluster.NodeSettings;
import dev.nps.cluster.ServeMain;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Start a cluster node (roles, slots, seeds, storage root, TLS from the config file; README \"Cluster\")"
                + " and run until stopped. Ctrl-C leaves the cluster gracefully; its evaluators move to other nodes.")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "HOCON node config (nps.node { ... })")
    Path config;

    @Override
    public Integer call() {
        return ServeMain.serve(NodeSettings.load(config), NodeSettings.journal(config), ServedCommands::execute);
    }
}
