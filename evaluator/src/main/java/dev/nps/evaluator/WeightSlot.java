package dev.nps.evaluator;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Memory for one candidate's weights, pooled by {@link ModelScorer} (allocating and zeroing
 * hundreds of MB costs several times the copy that refills a slot). INPUTS: native memory with an
 * ONNX Runtime tensor viewing each parameter (the tensors stay valid across refills because ONNX
 * Runtime reads a direct buffer in place). REBUILD: a copy of the {@link WrittenGraph}'s model
 * bytes, the candidate's floats written into them.
 */
final class WeightSlot {
    private final Arena arena;                      // INPUTS only; shared: sessions may be closed on another thread
    private final Map<String, MemorySegment> segments = new LinkedHashMap<>();
    private final Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
    private final WrittenGraph graph;               // REBUILD only
    private final byte[] modelBytes;                // REBUILD only

    /** A slot of input tensors (INPUTS). */
    WeightSlot(Map<String, long[]> shapes) {
        this.arena = Arena.ofShared();
        this.graph = null;
        this.modelBytes = null;
        try {
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                long n = dev.nps.storage.Shapes.elementCount(e.getValue());
                MemorySegment seg = arena.allocate(n * Float.BYTES, 64);
                segments.put(e.getKey(), seg);
                tensors.put(e.getKey(), OnnxTensor.createTensor(Ort.env(),
                        seg.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer(), e.getValue()));
            }
        } catch (OrtException e) {
            free();
            throw new EvaluatorException("cannot allocate candidate tensors: " + ModelScorer.oneLine(e), e);
        } catch (RuntimeException e) {
            free();
            throw e;
        }
    }

    /** A slot of model bytes (REBUILD). */
    WeightSlot(WrittenGraph graph) {
        this.arena = null;
        this.graph = graph;
        this.modelBytes = graph.newBuffer();
    }

    /** Copies each parameter's floats into the slot; names and sizes were checked by the scorer. */
    void fill(Map<String, float[]> values) {
        if (graph != null) {
            graph.fill(modelBytes, values);
        } else {
            values.forEach((name, data) -> MemorySegment.copy(data, 0, segments.get(name), ValueLayout.JAVA_FLOAT, 0, data.length));
        }
    }

    /** INPUTS: the tensors to feed with every batch. */
    Map<String, OnnxTensor> tensors() {
        return tensors;
    }

    /** REBUILD: the written model's bytes holding the last filled candidate. */
    byte[] modelBytes() {
        return modelBytes;
    }

    void free() {
        tensors.values().forEach(OnnxTensor::close);
        tensors.clear();
        if (arena != null) {
            arena.close();
        }
    }
}
