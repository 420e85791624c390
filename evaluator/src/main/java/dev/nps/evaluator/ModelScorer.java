package dev.nps.evaluator;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.TensorInfo;
import dev.nps.evaluator.ScorerOptions.FeedMode;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.StorageException;
import dev.nps.storage.onnx.OnnxModel;
import dev.nps.storage.onnx.proto.TensorProto;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Scores candidate weights for one ONNX graph. The graph's float32 initializers named at
 * {@link #open} are the searched parameters; every candidate supplies all of them, and the
 * rest of the graph is fixed.
 *
 * <p>{@link #load} is thread-safe. Every {@link ScoringSession} must be closed before the scorer.
 */
public final class ModelScorer implements AutoCloseable {
    /** Idle weight slots kept for reuse: enough for an actor that loads the next candidate before closing the last. */
    private static final int MAX_IDLE_SLOTS = 2;

    private final Path graph;
    private final ScorerOptions options;
    private final FeedMode mode;
    private final Map<String, long[]> parameterShapes; // sorted by name
    private final Map<String, TensorInfo> dataInputs;  // graph inputs fed from a dataset
    private final Map<String, TensorInfo> outputs;
    private final OrtSession shared;                    // INPUTS mode only
    private final WrittenGraph written;                 // REBUILD mode only
    private final ArrayDeque<WeightSlot> idle = new ArrayDeque<>();
    private boolean closed;                             // guarded by idle
    private volatile Agreement guard;                   // set by openChecked
    private final java.util.concurrent.atomic.AtomicInteger liveSlots = new java.util.concurrent.atomic.AtomicInteger();

    private ModelScorer(Path graph, ScorerOptions options, FeedMode mode, Map<String, long[]> parameterShapes,
                        Map<String, TensorInfo> dataInputs, Map<String, TensorInfo> outputs, OrtSession shared,
                        WrittenGraph written) {
        this.graph = graph;
        this.options = options;
        this.mode = mode;
        this.parameterShapes = parameterShapes;
        this.dataInputs = dataInputs;
        this.outputs = outputs;
        this.shared = shared;
        this.written = written;
    }

    /**
     * Reads {@code onnxGraph} and prepares to score candidates for {@code parameterNames}, which
     * must all be float32 initializers of the graph.
     */
    public static ModelScorer open(Path onnxGraph, Set<String> parameterNames, ScorerOptions options) {
        OnnxModel model;
        try {
            model = OnnxModel.load(onnxGraph);
        } catch (StorageException e) {
            throw new EvaluatorException(e.getMessage(), e);
        }
        Map<String, long[]> shapes = new TreeMap<>();
        for (String name : new TreeSet<>(parameterNames)) {
            if (!model.hasInitializer(name)) {
                throw new EvaluatorException("parameter '" + name + "' is not an initializer of " + onnxGraph + " ("
                        + describeNames(model.initializers().stream().map(OnnxModel.Initializer::name).toList()) + ")");
            }
            OnnxModel.Initializer init = model.initializer(name);
            if (init.dataType() != TensorProto.DataType.FLOAT_VALUE) {
                var type = TensorProto.DataType.forNumber(init.dataType());
                throw new EvaluatorException("parameter '" + name + "' of " + onnxGraph + " is "
                        + (type == null ? "ONNX type " + init.dataType() : type.name()) + "; only FLOAT initializers can be searched");
            }
            shapes.put(name, init.shape());
        }
        // IR < 4 graphs also declare initializers as inputs; those keep their values and are not fed.
        Set<String> initializerNames = new TreeSet<>();
        model.initializers().forEach(i -> initializerNames.add(i.name()));
        FeedMode mode = options.resolveFeedMode(model.hasExternalData(), model.hasOperator("Conv"));
        WrittenGraph written = null;
        OrtSession session = null;
        try (SessionOptions so = sessionOptions(options, onnxGraph)) {
            if (mode == FeedMode.INPUTS) {
                if (model.hasExternalData()) {
                    throw new EvaluatorException(onnxGraph + " keeps initializers in external data files, which the INPUTS feed"
                            + " mode cannot load from memory; use the REBUILD feed mode");
                }
                byte[] edited = model.withInitializersAsInputs(shapes.keySet()).toByteArray();
                model = null; // the edited bytes are all we need; let the parsed graph go
                session = Ort.env().createSession(edited, so);
            } else {
                // Candidates are built from the written graph's bytes; this first one (zeroed weights)
                // validates the graph and reads its signature.
                try {
                    written = WrittenGraph.of(model, shapes);
                } catch (StorageException e) {
                    throw new EvaluatorException(onnxGraph + ": " + e.getMessage(), e);
                }
                model = null;
                session = Ort.env().createSession(written.newBuffer(), so);
            }
            Map<String, TensorInfo> inputs = tensorInfos(session.getInputInfo(), onnxGraph);
            inputs.keySet().removeAll(initializerNames);
            Map<String, TensorInfo> outs = tensorInfos(session.getOutputInfo(), onnxGraph);
            ModelScorer scorer = new ModelScorer(onnxGraph, options, mode, Collections.unmodifiableMap(shapes),
                    Collections.unmodifiableMap(inputs), Collections.unmodifiableMap(outs),
                    mode == FeedMode.INPUTS ? session : null, written);
            if (mode == FeedMode.REBUILD) {
                session.close();
            }
            return scorer;
        } catch (OrtException e) {
            closeQuietly(session);
            throw new EvaluatorException("ONNX Runtime cannot load " + onnxGraph + ": " + oneLine(e), e);
        } catch (RuntimeException e) {
            closeQuietly(session);
            throw e;
        }
    }

    /**
     * Makes a candidate ready to score: INPUTS copies its weights into the native tensors fed with
     * every batch; REBUILD copies them into the written graph's bytes and builds its session from
     * those. {@code params} must hold exactly this scorer's parameters with the graph's shapes.
     */
    public ScoringSession load(ParameterSet params) {
        checkParameters(params);
        WeightSlot slot = acquire();
        OrtSession own = null;
        try {
            Map<String, float[]> values = new LinkedHashMap<>();
            params.asMap().forEach((name, t) -> values.put(name, t.data()));
            slot.fill(values);
            if (mode == FeedMode.INPUTS) {
                return new ScoringSession(this, shared, false, slot);
            }
            // The written model's own bytes: every optimization (constant folding, NCHWc conv weight
            // reordering) reads the candidate's values. addInitializer would not do: ORT's ConstantFolding
            // and NchwcTransformer build from the values embedded in the graph (examples/conv).
            try (SessionOptions so = sessionOptions(options, graph)) {
                own = Ort.env().createSession(slot.modelBytes(), so);
            }
            return new ScoringSession(this, own, true, slot);
        } catch (OrtException e) {
            closeQuietly(own);
            release(slot);
            throw new EvaluatorException("cannot load candidate into " + graph + ": " + oneLine(e), e);
        } catch (RuntimeException e) {
            closeQuietly(own);
            release(slot);
            throw e;
        }
    }

    /**
     * The guard's tolerance: the feed mode's logits on one calibration batch may differ from the written
     * graph's by at most {@code GUARD_TOLERANCE * max(1, max |written logit|)} (feed modes run different
     * kernels, so the last bits may differ; a stale weight moves logits by whole units).
     */
    public static final double GUARD_TOLERANCE = 1e-3;

    /** What {@link #checkAgainstWritten} found: the largest |logit difference| and the bound it had to meet. */
    public record Agreement(FeedMode mode, double maxAbsDiff, double bound) {
        public boolean agrees() {
            return maxAbsDiff <= bound; // NaN disagrees
        }
    }

    /**
     * Scores batch 0 of {@code data} with {@code params} two ways: through this scorer's feed mode, and
     * through a fresh session over the graph exactly as it would be written ({@link OnnxModel#withInitializers},
     * serialized and built anew), and compares the logits of {@code output}.
     */
    public Agreement checkAgainstWritten(ParameterSet params, Dataset data, String output) {
        checkBinding(data, output);
        float[] got;
        try (ScoringSession s = load(params)) {
            got = s.logits(data, 0, output);
        }
        return compare(got, writtenLogits(params, data, output));
    }

    /** Logits of batch 0 from a fresh session over the graph as written with {@code params}. */
    float[] writtenLogits(ParameterSet params, Dataset data, String output) {
        checkBinding(data, output);
        checkParameters(params);
        float[] want;
        byte[] bytes;
        try {
            bytes = OnnxModel.load(graph).withInitializers(params).toByteArray();
        } catch (StorageException e) {
            throw new EvaluatorException(e.getMessage(), e);
        }
        try (SessionOptions so = sessionOptions(options.withFeedMode(FeedMode.REBUILD), graph);
             OrtSession ref = Ort.env().createSession(bytes, so)) {
            Batch batch = data.batch(0);
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            for (String input : dataInputs.keySet()) {
                feed.put(input, batch.inputs().get(input));
            }
            try (OrtSession.Result r = ref.run(feed, Set.of(output))) {
                want = ScoringSession.floats(r.get(0), output, graph);
            }
        } catch (OrtException e) {
            throw new EvaluatorException("cannot score the written graph of " + graph + ": " + oneLine(e), e);
        }
        return want;
    }

    /** The guard's comparison of this mode's logits with the written graph's. */
    Agreement compare(float[] got, float[] want) {
        if (got.length != want.length) {
            return new Agreement(mode, Double.POSITIVE_INFINITY, 0);
        }
        double diff = 0, scale = 1;
        for (int i = 0; i < want.length; i++) {
            diff = Math.max(diff, Double.isNaN(got[i]) != Double.isNaN(want[i]) ? Double.POSITIVE_INFINITY
                    : Double.isNaN(want[i]) ? 0 : Math.abs((double) got[i] - want[i]));
            if (Float.isFinite(want[i])) {
                scale = Math.max(scale, Math.abs(want[i]));
            }
        }
        return new Agreement(mode, diff, GUARD_TOLERANCE * scale);
    }

    /** The model a guard probes: a fine-tuned checkpoint's parameters, a calibration set, the task's output. */
    public record Probe(String modelName, ParameterSet params, Dataset calibration, String output) {
    }

    /**
     * {@link #open}, then the guard ({@link #checkAgainstWritten}) on {@code probe}. An explicit feed mode
     * that disagrees is refused; AUTO tries its rule's choice, then the other mode, and keeps the first that
     * agrees. {@code probe.params} must hold every parameter.
     */
    public static ModelScorer openChecked(Path onnxGraph, Set<String> parameterNames, ScorerOptions options, Probe probe) {
        return openChecked(onnxGraph, parameterNames, options, probe, null);
    }

    /** As above; {@code feedLogits} (tests only; null = the scorer's own) stands in for a mode's logits on the probe. */
    static ModelScorer openChecked(Path onnxGraph, Set<String> parameterNames, ScorerOptions options, Probe probe,
                                   java.util.function.Function<ModelScorer, float[]> feedLogits) {
        List<FeedMode> tries = new ArrayList<>();
        ModelScorer first = open(onnxGraph, parameterNames, options);
        tries.add(first.feedMode());
        if (options.feedMode() == FeedMode.AUTO) {
            tries.add(first.feedMode() == FeedMode.INPUTS ? FeedMode.REBUILD : FeedMode.INPUTS);
        }
        List<String> seen = new ArrayList<>();
        for (FeedMode m : tries) {
            ModelScorer s = m == first.feedMode() ? first : open(onnxGraph, parameterNames, options.withFeedMode(m));
            Agreement a;
            try {
                a = feedLogits == null ? s.checkAgainstWritten(probe.params(), probe.calibration(), probe.output())
                        : s.compare(feedLogits.apply(s), s.writtenLogits(probe.params(), probe.calibration(), probe.output()));
            } catch (RuntimeException e) {
                s.close();
                throw e;
            }
            if (a.agrees()) {
                s.guard = a;
                return s;
            }
            s.close();
            seen.add(m + " (max |logit diff| " + String.format(java.util.Locale.ROOT, "%.3g", a.maxAbsDiff())
                    + " > " + String.format(java.util.Locale.ROOT, "%.3g", a.bound()) + ")");
        }
        throw new EvaluatorException("feed mode " + String.join(", ", seen) + " scores model '" + probe.modelName()
                + "' of " + onnxGraph + " differently from the graph as written; refusing to search with it"
                + (options.feedMode() == FeedMode.AUTO ? "" : " (try --feed auto)"));
    }

    private WeightSlot acquire() {
        synchronized (idle) {
            if (closed) {
                throw new IllegalStateException("model scorer for " + graph + " is closed");
            }
            WeightSlot s = idle.poll();
            if (s != null) {
                return s;
            }
        }
        WeightSlot s = written != null ? new WeightSlot(written) : new WeightSlot(parameterShapes);
        liveSlots.incrementAndGet();
        return s;
    }

    /** Takes back a slot no session uses any more: kept for the next candidate, or freed. */
    void release(WeightSlot slot) {
        synchronized (idle) {
            if (!closed && idle.size() < MAX_IDLE_SLOTS) {
                idle.push(slot);
                return;
            }
        }
        slot.free();
        liveSlots.decrementAndGet();
    }

    /** Weight slots allocated and not yet freed (in use or pooled); for leak tests. */
    int liveSlots() {
        return liveSlots.get();
    }

    private void checkParameters(ParameterSet params) {
        for (String name : params.names()) {
            if (!parameterShapes.containsKey(name)) {
                throw new EvaluatorException("candidate tensor '" + name + "' is not a searched parameter of " + graph + " ("
                        + describeNames(parameterShapes.keySet()) + ")");
            }
        }
        for (Map.Entry<String, long[]> e : parameterShapes.entrySet()) {
            if (!params.contains(e.getKey())) {
                throw new EvaluatorException("candidate lacks parameter '" + e.getKey() + "' of " + graph);
            }
            long[] shape = params.get(e.getKey()).shape();
            if (!Arrays.equals(shape, e.getValue())) {
                throw new EvaluatorException("candidate parameter '" + e.getKey() + "' has shape " + Arrays.toString(shape)
                        + " but " + graph + " declares " + Arrays.toString(e.getValue()));
            }
        }
    }

    /**
     * Checks up front, before any scoring, that {@code dataset} can feed this graph, that
     * {@code outputName} exists, and, where the output's class dimension is static, that every
     * label lies in range. One-line {@link EvaluatorException} otherwise.
     */
    public void validate(Dataset dataset, String outputName) {
        checkBinding(dataset, outputName);
        long[] shape = outputs.get(outputName).getShape();
        if (shape.length > 0 && shape[shape.length - 1] > 0) {
            dataset.checkLabels((int) shape[shape.length - 1]);
        }
    }

    /** Fails with a one-line message if {@code dataset} cannot feed this graph or it lacks {@code outputName}. */
    void checkBinding(Dataset dataset, String outputName) {
        if (!outputs.containsKey(outputName)) {
            throw new EvaluatorException("output '" + outputName + "' is not in " + graph + " (outputs: " + outputs.keySet() + ")");
        }
        List<String> missing = new ArrayList<>();
        for (String input : dataInputs.keySet()) {
            if (dataset.inputInfo(input) == null) {
                missing.add(input);
            }
        }
        if (!missing.isEmpty()) {
            throw new EvaluatorException(dataset.file() + " lacks input tensor" + (missing.size() > 1 ? "s " : " ") + missing
                    + " of " + graph + " (it holds " + dataset.inputNames() + ")");
        }
        for (Map.Entry<String, TensorInfo> e : dataInputs.entrySet()) {
            dev.nps.storage.TensorInfo have = dataset.inputInfo(e.getKey());
            OnnxJavaType haveType = Ort.javaType(have.dtype());
            if (haveType != e.getValue().type) {
                throw new EvaluatorException("input '" + e.getKey() + "' in " + dataset.file() + " is " + have.dtype() + " but "
                        + graph + " expects " + e.getValue().type);
            }
            long[] want = e.getValue().getShape();
            long[] got = have.shape();
            boolean ok = want.length == got.length;
            for (int i = 1; ok && i < want.length; i++) {
                ok = want[i] < 0 || want[i] == got[i];
            }
            if (!ok) {
                throw new EvaluatorException("input '" + e.getKey() + "' in " + dataset.file() + " has shape " + Arrays.toString(got)
                        + " but " + graph + " expects " + Arrays.toString(want) + " (-1 = any)");
            }
        }
    }

    /** Path of the graph as given to {@link #open}. */
    public Path graph() {
        return graph;
    }

    /** What the feed-mode guard measured when {@link #openChecked} opened this scorer; null otherwise. */
    public Agreement guard() {
        return guard;
    }

    /** The feed mode in use (AUTO resolved). */
    public FeedMode feedMode() {
        return mode;
    }

    /** Searched parameter names, sorted, with the graph's shapes. */
    public Map<String, long[]> parameterShapes() {
        return parameterShapes;
    }

    /** Graph inputs a dataset must supply. */
    public Set<String> dataInputs() {
        return dataInputs.keySet();
    }

    public Set<String> outputNames() {
        return outputs.keySet();
    }

    /** Frees the shared session (INPUTS) and pooled weight memory; open sessions must be closed first. */
    @Override
    public void close() {
        synchronized (idle) {
            if (closed) {
                return;
            }
            closed = true;
            idle.forEach(WeightSlot::free);
            liveSlots.addAndGet(-idle.size());
            idle.clear();
        }
        closeQuietly(shared);
    }

    /** The options' session options; graphs built from bytes find external data files beside {@code graph}. */
    private static SessionOptions sessionOptions(ScorerOptions options, Path graph) throws OrtException {
        SessionOptions so = options.sessionOptions();
        Path dir = graph.toAbsolutePath().getParent();
        if (dir != null) {
            so.addConfigEntry("session.model_external_initializers_file_folder_path", dir.toString());
        }
        return so;
    }

    private static Map<String, TensorInfo> tensorInfos(Map<String, NodeInfo> infos, Path graph) {
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        infos.forEach((name, info) -> {
            if (info.getInfo() instanceof TensorInfo t) {
                out.put(name, t);
            } else {
                throw new EvaluatorException("graph value '" + name + "' of " + graph + " is not a tensor; only tensor inputs"
                        + " and outputs are supported");
            }
        });
        return out;
    }

    private static String describeNames(java.util.Collection<String> names) {
        List<String> sorted = new ArrayList<>(new TreeSet<>(names));
        int shown = Math.min(8, sorted.size());
        String list = String.join(", ", sorted.subList(0, shown));
        return sorted.size() + (sorted.size() == 1 ? " name: " : " names: ") + list + (shown < sorted.size() ? ", ..." : "");
    }

    static String oneLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        return m.replace('\n', ' ').strip();
    }

    private static void closeQuietly(OrtSession s) {
        if (s != null) {
            try {
                s.close();
            } catch (OrtException ignored) {
                // nothing left to free that we could act on
            }
        }
    }
}
