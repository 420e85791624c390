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
 * Native memory for one candidate's weights, with an ONNX Runtime tensor viewing each
 * parameter. Slots are pooled by {@link ModelScorer}: allocating (and zeroing) hundreds of MB
 * costs several times the copy that refills a slot, and the tensors over a slot stay valid
 * across refills because ONNX Runtime reads a direct buffer in place.
 */
final class WeightSlot {
    private final Arena arena = Arena.ofShared(); // sessions may be closed on another thread
    private final Map<String, MemorySegment> segments = new LinkedHashMap<>();
    private final Map<String, OnnxTensor> tensors = new LinkedHashMap<>();

    WeightSlot(Map<String, long[]> shapes) {
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

    /** Copies each parameter's floats into the slot; names and sizes were checked by the scorer. */
    void fill(Map<String, float[]> values) {
        values.forEach((name, data) -> MemorySegment.copy(data, 0, segments.get(name), ValueLayout.JAVA_FLOAT, 0, data.length));
    }

    Map<String, OnnxTensor> tensors() {
        return tensors;
    }

    void free() {
        tensors.values().forEach(OnnxTensor::close);
        tensors.clear();
        arena.close();
    }
}
