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
    private final boolean foldsParameters;              // some node computes from parameters and constants alone
    private final ArrayDeque<WeightSlot> idle = new ArrayDeque<>();
    private boolean closed;                             // guarded by idle
    private final java.util.concurrent.atomic.AtomicInteger liveSlots = new java.util.concurrent.atomic.AtomicInteger();

    private ModelScorer(Path graph, ScorerOptions options, Map<String, long[]> parameterShapes,
                        Map<String, TensorInfo> dataInputs, Map<String, TensorInfo> outputs, OrtSession shared,
                        boolean foldsParameters) {
        this.graph = graph;
        this.options = options;
        this.mode = options.resolveFeedMode(parameterBytes(parameterShapes));
        this.parameterShapes = parameterShapes;
        this.dataInputs = dataInputs;
        this.outputs = outputs;
        this.shared = shared;
        this.foldsParameters = foldsParameters;
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
        FeedMode mode = options.resolveFeedMode(parameterBytes(shapes));
        boolean folds = foldsParameters(model, shapes.keySet());
        OrtSession session = null;
        try (SessionOptions so = options.sessionOptions()) {
            if (mode == FeedMode.INPUTS) {
                if (model.hasExternalData()) {
                    throw new EvaluatorException(onnxGraph + " keeps initializers in external data files, which the INPUTS feed"
                            + " mode cannot load from memory; use the REBUILD feed mode");
                }
                byte[] edited = model.withInitializersAsInputs(shapes.keySet()).toByteArray();
                model = null; // the edited bytes are all we need; let the parsed graph go
                session = Ort.env().createSession(edited, so);
            } else {
                // Built once to validate the graph and read its signature; candidates get their own.
                session = Ort.env().createSession(onnxGraph.toString(), so);
            }
            Map<String, TensorInfo> inputs = tensorInfos(session.getInputInfo(), onnxGraph);
            inputs.keySet().removeAll(initializerNames);
            Map<String, TensorInfo> outs = tensorInfos(session.getOutputInfo(), onnxGraph);
            ModelScorer scorer = new ModelScorer(onnxGraph, options, Collections.unmodifiableMap(shapes),
                    Collections.unmodifiableMap(inputs), Collections.unmodifiableMap(outs),
                    mode == FeedMode.INPUTS ? session : null, folds);
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
     * Makes a candidate ready to score: copies its weights into native tensors and, in REBUILD
     * mode, builds its session. {@code params} must hold exactly this scorer's parameters with
     * the graph's shapes.
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
            try (SessionOptions so = options.sessionOptions()) {
                if (foldsParameters) {
                    // ONNX Runtime folds such nodes from the graph's embedded values before addInitializer
                    // replaces them: the candidate's weights would be silently ignored there.
                    so.addConfigEntry("optimization.disable_specified_optimizers", "ConstantFolding");
                }
                for (Map.Entry<String, OnnxTensor> w : slot.tensors().entrySet()) {
                    so.addInitializer(w.getKey(), w.getValue());
                }
                own = Ort.env().createSession(graph.toString(), so);
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
     * Whether some node reads only initializers and Constant outputs, at least one of them a searched
     * parameter (e.g. MatMul over Transpose(weight) from a torch export without constant folding).
     */
    static boolean foldsParameters(OnnxModel model, Set<String> parameters) {
        Set<String> constant = new TreeSet<>();
        model.initializers().forEach(i -> constant.add(i.name()));
        var nodes = model.proto().getGraph().getNodeList();
        nodes.stream().filter(n -> n.getOpType().equals("Constant")).forEach(n -> constant.addAll(n.getOutputList()));
        return nodes.stream().anyMatch(n -> !n.getOpType().equals("Constant") && n.getInputCount() > 0
                && n.getInputList().stream().allMatch(i -> i.isEmpty() || constant.contains(i))
                && n.getInputList().stream().anyMatch(parameters::contains));
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
        WeightSlot s = new WeightSlot(parameterShapes);
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

    private static long parameterBytes(Map<String, long[]> shapes) {
        long n = 0;
        for (long[] shape : shapes.values()) {
            n += dev.nps.storage.Shapes.elementCount(shape);
        }
        return n * Float.BYTES;
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
