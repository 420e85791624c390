package dev.nps.evaluator.actor;

import dev.nps.evaluator.BatchScore;
import dev.nps.evaluator.ScoringSession;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.CandidateSpec;

/**
 * Scores with ONNX Runtime over a node's {@link SearchData}: a candidate is materialized once into
 * buffers allocated once, and kept loaded while consecutive units belong to it.
 */
public final class OrtBackend implements ScoringBackend {
    /** Told each candidate's load times (a node's slot meters); must be quick. */
    @FunctionalInterface
    public interface LoadListener {
        LoadListener NONE = (materializeNanos, sessionNanos) -> { };

        void loaded(long materializeNanos, long sessionNanos);
    }

    private final SearchData data;
    private final Materializer materializer;
    private final LoadListener onLoad;
    private CandidateSpec loadedSpec;
    private ScoringSession session;

    public OrtBackend(SearchData data) {
        this(data, LoadListener.NONE);
    }

    public OrtBackend(SearchData data, LoadListener onLoad) {
        this.data = data;
        this.materializer = new Materializer(data);
        this.onLoad = onLoad;
    }

    @Override
    public void load(CandidateSpec spec) {
        if (session != null && spec.equals(loadedSpec)) {
            return;
        }
        release();
        long t0 = System.nanoTime();
        var weights = materializer.materialize(spec);
        long t1 = System.nanoTime();
        session = data.scorer().load(weights);
        long t2 = System.nanoTime();
        data.cost().loaded(t1 - t0, t2 - t1);
        onLoad.loaded(t1 - t0, t2 - t1);
        loadedSpec = spec;
    }

    @Override
    public BatchScore score(BatchRef ref) {
        SearchData.EvalTask task = data.evalTask(ref.getTask());
        long t0 = System.nanoTime();
        BatchScore score = session.scoreBatch(task.calibration(), ref.getBatch(), task.output());
        data.cost().scored(System.nanoTime() - t0);
        return score;
    }

    @Override
    public void release() {
        if (session != null) {
            session.close();
            session = null;
            loadedSpec = null;
        }
    }
}
