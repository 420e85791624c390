package dev.nps.cli;

import dev.nps.coordinator.AbortMode;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.ValueMode;
import dev.nps.storage.subspace.SubspacePartition;
import dev.nps.workflow.NpsWorkflow;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options of every NPS search (CMA-ES over subspace weights or lambdas, scored by evaluator actors). */
final class SearchOptions {

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "CMA-ES seed; equal seeds give bit-identical runs")
    long seed;

    @Option(names = "--evaluators", defaultValue = "1", paramLabel = "N", description = "evaluator actors (one ONNX Runtime session each)")
    int evaluators;

    @Option(names = "--abort", defaultValue = "exact", paramLabel = "exact|off|statistical",
            description = "early abort of poor candidates: exact never changes the search; default ${DEFAULT-VALUE}")
    String abort;

    @Option(names = "--subspaces", defaultValue = "8", paramLabel = "M", description = "magnitude subspaces per task vector")
    int subspaces;

    @Option(names = "--partition", defaultValue = "band", paramLabel = "all|band",
            description = "subspaces over all entries (the paper) or over the top c*k entries (band); default ${DEFAULT-VALUE}")
    String partition;

    @Option(names = "--band-factor", defaultValue = "2", paramLabel = "C", description = "band partition covers the top C*k entries")
    double bandFactor;

    @Option(names = "--values", defaultValue = "mask", paramLabel = "mask|reweight",
            description = "kept entries stay tau (mask) or become w*tau (reweight); default ${DEFAULT-VALUE}")
    String values;

    @Option(names = "--generations", defaultValue = "20", paramLabel = "G", description = "CMA-ES generations")
    int generations;

    @Option(names = "--population", defaultValue = "0", paramLabel = "P", description = "candidates per generation (0: 4 + 3 ln n)")
    int population;

    @Option(names = "--no-cache", description = "score every candidate even when an equal one was scored")
    boolean noCache;

    @Option(names = "--cluster", paramLabel = "HOST:PORT",
            description = "run the searches on a cluster, joining it through this node (see `nps serve`); --evaluators is then"
                    + " the cluster's slot count")
    String cluster;

    @Option(names = "--node-config", paramLabel = "FILE",
            description = "with --cluster: this node's settings (host, port, storage root, TLS); default 127.0.0.1, any port,"
                    + " storage root = current directory")
    java.nio.file.Path nodeConfig;

    SearchConfig config(double keep) {
        AbortMode a = switch (abort.toLowerCase(Locale.ROOT)) {
            case "exact" -> AbortMode.EXACT;
            case "off" -> AbortMode.OFF;
            case "statistical" -> AbortMode.STATISTICAL;
            default -> throw new IllegalArgumentException("unknown --abort '" + abort + "' (exact, off or statistical)");
        };
        SubspacePartition.Kind p = switch (partition.toLowerCase(Locale.ROOT)) {
            case "all" -> SubspacePartition.Kind.ALL;
            case "band" -> SubspacePartition.Kind.BAND;
            default -> throw new IllegalArgumentException("unknown --partition '" + partition + "' (all or band)");
        };
        ValueMode v = switch (values.toLowerCase(Locale.ROOT)) {
            case "mask" -> ValueMode.MASK;
            case "reweight" -> ValueMode.REWEIGHT;
            default -> throw new IllegalArgumentException("unknown --values '" + values + "' (mask or reweight)");
        };
        return SearchConfig.defaults().withSeed(seed).withEvaluators(evaluators).withAbort(a).withSubspaces(subspaces)
                .withPartition(p, bandFactor).withValues(v).withKeep(keep).withGenerations(generations)
                .withPopulation(population).withCache(!noCache);
    }

    /** Prints one line per generation on stderr unless quiet. */
    SearchListener listener(boolean quiet) {
        return quiet ? SearchListener.NONE : g -> System.err.println(NpsWorkflow.describe(g, generations));
    }
}
