package dev.nps.cluster;

import dev.nps.evaluator.ModelScorer;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.evaluator.actor.OrtBackend;
import dev.nps.evaluator.actor.ScoringBackend;
import dev.nps.evaluator.actor.SearchData;
import dev.nps.evaluator.actor.SimulatedBackend;
import dev.nps.evaluator.BatchScore;
import dev.nps.protocol.Attach;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.RunSpec;
import dev.nps.spec.ExperimentSpec;
import dev.nps.coordinator.NpsSearch;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.kernels.subspace.SubspacePartition;
import dev.nps.experiment.Experiment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What a node has read from its storage root, held only while runs use it. Per run (the node's
 * slots serving it share it): each task's partition, the task vectors (sign-elected ones for a
 * FUSION with sign election), the calibration tasks and the ranked entries, built when the first
 * slot attaches and dropped when the last slot's backend for the run is closed (the run ended, or
 * the slot made room). Per spec: the experiment (base, task vectors, calibration data) and one ONNX
 * Runtime scorer per slot and scorer options, loaded once while any run uses the spec and kept
 * {@code linger} after the last one ends, so the searches of one command (which follow each other)
 * load it once; then closed. Thread-safe.
 */
final class NodeData implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeData.class);
    static final Duration DEFAULT_LINGER = Duration.ofSeconds(30);

    private final Path storageRoot;
    private final long lingerNanos;
    private final Map<String, Loaded> experiments = new HashMap<>(); // spec path + unshared policy
    private final Map<String, RunData> runs = new HashMap<>();       // run id
    private boolean closed;

    /** A spec's experiment and the scorers opened over its graph. */
    private static final class Loaded {
        final String key;
        final Experiment ex;
        final Map<String, ModelScorer> scorers = new LinkedHashMap<>(); // slot + scorer options
        int runs;
        long idleSince;

        Loaded(String key, Experiment ex) {
            this.key = key;
            this.ex = ex;
        }
    }

    /** One run's data on this node; {@code template} has no scorer (each slot adds its own). */
    private record RunData(String run, Loaded loaded, SearchData template, long minBatchMicros, int[] backends) {
    }

    /** What the node holds now (tests). */
    record Stats(int experiments, int idleExperiments, int runs, int backends, int scorers) {
    }

    private volatile long loadedBytes;

    NodeData(Path storageRoot) {
        this(storageRoot, DEFAULT_LINGER);
    }

    NodeData(Path storageRoot, Duration linger) {
        this.storageRoot = storageRoot;
        this.lingerNanos = linger.toNanos();
    }

    /** The backend a slot's evaluator scores an attached run with; a one-line exception if this node cannot. */
    synchronized ScoringBackend backend(Attach attach, Slot slot) {
        return backend(attach, slot, OrtBackend.LoadListener.NONE);
    }

    /** As above; each candidate's materialize and session times go to {@code onLoad} (the slot's meters). */
    synchronized ScoringBackend backend(Attach attach, Slot slot, OrtBackend.LoadListener onLoad) {
        if (closed) {
            throw new IllegalStateException("node is shutting down");
        }
        RunSpec run = attach.getSpec();
        if (run.getSimulatedMicros() > 0) {
            return new SimulatedBackend(run.getSimulatedMicros());
        }
        expire(System.nanoTime());
        RunData rd = runs.get(attach.getRun());
        if (rd == null) {
            rd = load(attach.getRun(), run);
            runs.put(rd.run(), rd);
        }
        SearchData t = rd.template();
        Experiment ex = rd.loaded().ex;
        ScorerOptions slotOptions = slot.options(scorerOptions(run));
        ModelScorer scorer = rd.loaded().scorers.computeIfAbsent(slot + "|" + slotOptions, k -> {
            TreeSet<String> names = new TreeSet<>(ex.base().names());
            names.addAll(ex.carried().names());
            return ModelScorer.open(ex.spec().graph(), names, slotOptions);
        });
        ScoringBackend ort = new OrtBackend(new SearchData(t.base(), t.taus(), t.carried(), scorer, t.partitions(),
                t.evalTasks(), t.cost(), t.ranked()), onLoad);
        rd.backends()[0]++;
        ScoringBackend b = rd.minBatchMicros() > 0 ? new PacedBackend(ort, rd.minBatchMicros()) : ort;
        return new Held(b, rd, this);
    }

    /** Builds a run's data, loading its spec's experiment unless the node holds it already. */
    private RunData load(String runId, RunSpec run) {
        if (run.getSpec().isEmpty()) {
            throw new IllegalArgumentException("the run names no spec (is the coordinator a cluster coordinator?)");
        }
        Path spec = StorageRoot.resolve(storageRoot, run.getSpec());
        String sha = dev.nps.storage.Sha256.ofFile(spec, "spec");
        if (!run.getSpecSha256().isEmpty() && !run.getSpecSha256().equals(sha)) {
            throw new IllegalArgumentException("spec " + spec + " on this node differs from the coordinator's (SHA-256 "
                    + sha.substring(0, 12) + " vs " + run.getSpecSha256().substring(0, Math.min(12, run.getSpecSha256().length())) + ")");
        }
        String key = spec + "|" + run.getUnshared();
        Loaded loaded = experiments.get(key);
        if (loaded == null) {
            long t0 = System.nanoTime();
            Experiment ex = Experiment.load(ExperimentSpec.load(spec), scorerOptions(run), unshared(run.getUnshared()));
            LOG.info("loaded spec {} ({} tasks) in {} ms", spec, ex.taskCount(), (System.nanoTime() - t0) / 1_000_000);
            loaded = new Loaded(key, ex);
            experiments.put(key, loaded);
            loadedBytes = weightBytes();
        }
        Experiment ex = loaded.ex;
        Map<Integer, SubspacePartition> parts = new LinkedHashMap<>();
        Map<Integer, SearchData.EvalTask> eval = new LinkedHashMap<>();
        List<ParameterSet> taus;
        try {
            for (int t : run.getPartitionTasksList()) {
                check(t, ex);
                parts.put(t, partition(ex.taus().get(t), run));
            }
            for (int t : run.getEvalTasksList()) {
                check(t, ex);
                eval.put(t, new SearchData.EvalTask(ex.dataset(t, Experiment.Split.CALIBRATION), ex.spec().tasks().get(t).output()));
            }
            // Sign election (FUSION): every node zeroes the same entries from the same fused masks.
            taus = run.getSignElection() ? NpsSearch.signElected(ex.taus(), run.getFusedMasksList(), parts) : ex.taus();
        } catch (RuntimeException e) {
            if (loaded.runs == 0) {
                loaded.idleSince = System.nanoTime(); // loaded for nothing: lingers like any unused experiment
            }
            throw e;
        }
        loaded.runs++;
        SearchData template = new SearchData(ex.base(), taus, ex.carried(), null, parts, eval);
        return new RunData(runId, loaded, template, run.getMinBatchMicros(), new int[1]);
    }

    /** A backend of {@code rd} was closed: the run's data goes with the last one, the experiment after its linger. */
    private synchronized void closed(RunData rd) {
        if (--rd.backends()[0] > 0 || runs.get(rd.run()) != rd) {
            return;
        }
        runs.remove(rd.run());
        Loaded l = rd.loaded();
        if (--l.runs == 0) {
            l.idleSince = System.nanoTime();
            if (lingerNanos == 0) {
                expire(l.idleSince);
            }
        }
    }

    /** Closes experiments no run has used for the linger time. */
    synchronized void expire(long now) {
        Iterator<Loaded> it = experiments.values().iterator();
        while (it.hasNext()) {
            Loaded l = it.next();
            if (l.runs == 0 && now - l.idleSince >= lingerNanos) {
                it.remove();
                closeLoaded(l);
                loadedBytes = weightBytes();
                LOG.info("freed spec {}: no run has used it for {} s", l.key, lingerNanos / 1_000_000_000);
            }
        }
    }

    /** Bytes of the weights the node holds now (base, task vectors, carried; 4 per float): read without the lock by the scrape. */
    long loadedBytes() {
        return loadedBytes;
    }

    private long weightBytes() {
        long n = 0;
        for (Loaded l : experiments.values()) {
            n += l.ex.base().elementCount() + l.ex.carried().elementCount();
            for (var tau : l.ex.taus()) {
                n += tau.elementCount();
            }
        }
        return 4 * n;
    }

    synchronized Stats stats() {
        int idle = 0;
        int scorers = 0;
        for (Loaded l : experiments.values()) {
            idle += l.runs == 0 ? 1 : 0;
            scorers += l.scorers.size();
        }
        int backends = 0;
        for (RunData rd : runs.values()) {
            backends += rd.backends()[0];
        }
        return new Stats(experiments.size(), idle, runs.size(), backends, scorers);
    }

    private static void closeLoaded(Loaded l) {
        l.scorers.values().forEach(ModelScorer::close);
        l.scorers.clear();
        l.ex.close();
    }

    /** A backend that tells its node data when it is closed. */
    private static final class Held implements ScoringBackend {
        private final ScoringBackend inner;
        private final RunData rd;
        private final NodeData data;
        private boolean closed;

        Held(ScoringBackend inner, RunData rd, NodeData data) {
            this.inner = inner;
            this.rd = rd;
            this.data = data;
        }

        @Override
        public void load(CandidateSpec spec) {
            inner.load(spec);
        }

        @Override
        public BatchScore score(BatchRef ref) {
            return inner.score(ref);
        }

        @Override
        public void release() {
            inner.release();
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                inner.close();
                data.closed(rd);
            }
        }
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


    /** Entities must be stopped first (their sessions belong to these scorers). */
    @Override
    public synchronized void close() {
        closed = true;
        experiments.values().forEach(NodeData::closeLoaded);
        experiments.clear();
        loadedBytes = 0;
        runs.clear();
    }
}
