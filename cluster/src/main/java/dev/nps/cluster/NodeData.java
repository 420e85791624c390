package dev.nps.cluster;

import dev.nps.evaluator.ModelScorer;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.evaluator.actor.OrtBackend;
import dev.nps.evaluator.actor.ScoringBackend;
import dev.nps.evaluator.actor.SearchData;
import dev.nps.evaluator.actor.SimulatedBackend;
import dev.nps.protocol.Attach;
import dev.nps.protocol.RunSpec;
import dev.nps.spec.ExperimentSpec;
import dev.nps.coordinator.NpsSearch;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.storage.subspace.SubspacePartition;
import dev.nps.workflow.Experiment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What a node has read from its storage root: each spec's experiment (base, task vectors,
 * calibration data) loaded once, each task's partition built once per setting, and one ONNX
 * Runtime scorer per slot and run settings. Evaluator entities take their run's data from here,
 * so a node reads its inputs once whatever the number of slots and runs. Thread-safe.
 */
final class NodeData implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeData.class);
    private final Path storageRoot;
    private final Map<String, Experiment> experiments = new HashMap<>();           // spec path + unshared policy
    private final Map<String, SubspacePartition> partitions = new HashMap<>();
    private final Map<String, ModelScorer> scorers = new HashMap<>();             // spec + slot + scorer options
    private boolean closed;

    NodeData(Path storageRoot) {
        this.storageRoot = storageRoot;
    }

    /** The backend a slot's evaluator scores an attached run with; a one-line exception if this node cannot. */
    synchronized ScoringBackend backend(Attach attach, Slot slot) {
        if (closed) {
            throw new IllegalStateException("node is shutting down");
        }
        RunSpec run = attach.getSpec();
        if (run.getSimulatedMicros() > 0) {
            return new SimulatedBackend(run.getSimulatedMicros());
        }
        if (run.getSpec().isEmpty()) {
            throw new IllegalArgumentException("the run names no spec (is the coordinator a cluster coordinator?)");
        }
        Path spec = StorageRoot.resolve(storageRoot, run.getSpec());
        String sha = sha256(spec);
        if (!run.getSpecSha256().isEmpty() && !run.getSpecSha256().equals(sha)) {
            throw new IllegalArgumentException("spec " + spec + " on this node differs from the coordinator's (SHA-256 "
                    + sha.substring(0, 12) + " vs " + run.getSpecSha256().substring(0, Math.min(12, run.getSpecSha256().length())) + ")");
        }
        ScorerOptions options = scorerOptions(run);
        Experiment ex = experiments.computeIfAbsent(spec + "|" + run.getUnshared(), k -> {
            long t0 = System.nanoTime();
            Experiment loaded = Experiment.load(ExperimentSpec.load(spec), options, unshared(run.getUnshared()));
            LOG.info("loaded spec {} ({} tasks) in {} ms", spec, loaded.taskCount(), (System.nanoTime() - t0) / 1_000_000);
            return loaded;
        });
        Map<Integer, SubspacePartition> parts = new LinkedHashMap<>();
        for (int t : run.getPartitionTasksList()) {
            check(t, ex);
            parts.put(t, partitions.computeIfAbsent(spec + "|" + t + "|" + run.getSubspaces() + "|" + run.getKeep() + "|"
                    + run.getPartition() + "|" + run.getBandFactor(), k -> partition(ex.taus().get(t), run)));
        }
        Map<Integer, SearchData.EvalTask> eval = new LinkedHashMap<>();
        for (int t : run.getEvalTasksList()) {
            check(t, ex);
            eval.put(t, new SearchData.EvalTask(ex.dataset(t, Experiment.Split.CALIBRATION), ex.spec().tasks().get(t).output()));
        }
        ScorerOptions slotOptions = slot.options(options);
        ModelScorer scorer = scorers.computeIfAbsent(spec + "|" + slot + "|" + slotOptions, k -> {
            TreeSet<String> names = new TreeSet<>(ex.base().names());
            names.addAll(ex.carried().names());
            return ModelScorer.open(ex.spec().graph(), names, slotOptions);
        });
        // Sign election (FUSION): every node zeroes the same entries from the same fused masks.
        List<ParameterSet> taus = run.getSignElection()
                ? NpsSearch.signElected(ex.taus(), run.getFusedMasksList(), parts) : ex.taus();
        ScoringBackend ort = new OrtBackend(new SearchData(ex.base(), taus, ex.carried(), scorer, parts, eval));
        return run.getMinBatchMicros() > 0 ? new PacedBackend(ort, run.getMinBatchMicros()) : ort;
    }

    private static void check(int t, Experiment ex) {
        if (t < 0 || t >= ex.taskCount()) {
            throw new IllegalArgumentException("task " + t + " outside the spec's " + ex.taskCount() + " tasks");
        }
    }

    /** The same partition NpsSearch builds on the coordinator, from the same numbers. */
    private static SubspacePartition partition(ParameterSet tau, RunSpec run) {
        long keepCount = (long) Math.ceil(run.getKeep() * tau.elementCount());
        return SubspacePartition.build(tau.flatView(), run.getSubspaces(), keepCount,
                SubspacePartition.Kind.valueOf(run.getPartition()), run.getBandFactor());
    }

    static ScorerOptions scorerOptions(RunSpec run) {
        ScorerOptions o = ScorerOptions.defaults().withThreads(Math.max(1, run.getThreads()), 1);
        return run.getFeed().isEmpty() ? o : o.withFeedMode(ScorerOptions.FeedMode.valueOf(run.getFeed()));
    }

    static UnsharedPolicy unshared(String s) {
        return s.isEmpty() ? UnsharedPolicy.CARRY : UnsharedPolicy.valueOf(s);
    }

    static String sha256(Path file) {
        dev.nps.storage.InputFiles.requireRegularFile(file, "spec");
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read spec " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Entities must be stopped first (their sessions belong to these scorers). */
    @Override
    public synchronized void close() {
        closed = true;
        scorers.values().forEach(ModelScorer::close);
        experiments.values().forEach(Experiment::close);
        scorers.clear();
        experiments.clear();
    }
}
