package dev.nps.cli;

import dev.nps.coordinator.AbortMode;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.ValueMode;
import dev.nps.evaluator.ScoringPlan;
import dev.nps.kernels.subspace.SubspacePartition;
import dev.nps.workflow.NpsWorkflow;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options of every NPS search (CMA-ES over subspace weights or lambdas, scored by evaluator actors). */
final class SearchOptions {

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "CMA-ES seed; equal seeds give bit-identical runs")
    long seed;

    @Option(names = "--evaluators", defaultValue = "0", paramLabel = "N",
            description = "evaluator actors (one ONNX Runtime session each); default 0 = fill the cores (cores / --threads)")
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

    /** CMA-ES over more weights per task than this is out of reach (covariance M x M, eigendecomposition M^3). */
    static final int MAX_SUBSPACES = 1024;
    /** With --cluster, --evaluators is the cluster's slot count: bounded only by what a coordinator serves. */
    static final int MAX_CLUSTER_EVALUATORS = 4096;

    /**
     * How this search spreads scoring over the cores (ScoringPlan's rule), after bounding --evaluators and
     * --threads by this machine's cores.
     */
    ScoringPlan plan(RuntimeOptions runtime) {
        int cores = ScoringPlan.machineCores();
        runtime.checkThreads(cores);
        if (evaluators < 0) {
            throw new IllegalArgumentException("--evaluators must be >= 1 (or 0 for the default), got " + evaluators);
        }
        if (cluster != null) {
            if (evaluators > MAX_CLUSTER_EVALUATORS) {
                throw new IllegalArgumentException("--evaluators " + evaluators + " exceeds the " + MAX_CLUSTER_EVALUATORS
                        + " slots one coordinator serves (at most " + MAX_CLUSTER_EVALUATORS + ")");
            }
        } else if (evaluators > cores) {
            throw new IllegalArgumentException("--evaluators " + evaluators + " exceeds this machine's " + cores
                    + " cores; more evaluators than cores only wait for each other (at most " + cores + ")");
        } else if (evaluators > 0 && runtime.threads > 0 && (long) evaluators * runtime.threads > cores) {
            throw new IllegalArgumentException("--evaluators " + evaluators + " x --threads " + runtime.threads + " = "
                    + (long) evaluators * runtime.threads + " threads exceeds this machine's " + cores + " cores");
        }
        if (cluster != null) {
            // Each node's slots are its evaluators; a node fills its cores with nps.node.cpu-slots = its cores.
            return new ScoringPlan(Math.max(1, evaluators), Math.max(1, runtime.threads), cores,
                    "cluster: intra-op threads per slot = --threads (default 1); each node's cpu-slots fill its cores");
        }
        return ScoringPlan.forSearch(cores, evaluators, runtime.threads);
    }

    SearchConfig config(double keep, ScoringPlan plan) {
        if (subspaces > MAX_SUBSPACES) {
            throw new IllegalArgumentException("--subspaces " + subspaces + " exceeds " + MAX_SUBSPACES
                    + ", the most weights per task CMA-ES can search (its covariance grows as M x M)");
        }
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
        return SearchConfig.defaults().withSeed(seed).withEvaluators(plan.evaluators()).withAbort(a).withSubspaces(subspaces)
                .withPartition(p, bandFactor).withValues(v).withKeep(keep).withGenerations(generations)
                .withPopulation(population).withCache(!noCache);
    }

    /** The searches' progress on stderr unless quiet ({@link SearchProgress}); closed with {@code progress}. */
    SearchListener listener(boolean quiet, ProgressBars progress) {
        if (quiet) {
            return SearchListener.NONE;
        }
        SearchProgress p = SearchProgress.onStderr(generations);
        progress.closing(p);
        return p;
    }
}
