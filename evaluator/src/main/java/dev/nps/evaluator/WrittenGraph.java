package dev.nps.evaluator;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.onnx.OnnxModel;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The graph exactly as {@link OnnxModel#withInitializers} writes it, serialized once, with the byte
 * range of every searched parameter's raw_data located. A candidate's model bytes are a copy of this
 * template with its floats written into those ranges: the same bytes the writer would produce, so a
 * session built from them runs every ONNX Runtime optimization (constant folding, NCHWc conv layout)
 * over the candidate's own weights, at the cost of one copy of the weights.
 */
final class WrittenGraph {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    // ONNX field numbers: ModelProto.graph, GraphProto.initializer, TensorProto.name, TensorProto.raw_data.
    private static final int MODEL_GRAPH = 7, GRAPH_INITIALIZER = 5, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9;

    private final byte[] template;
    private final Map<String, Integer> offsets; // parameter -> first byte of its raw_data in template

    private WrittenGraph(byte[] template, Map<String, Integer> offsets) {
        this.template = template;
        this.offsets = offsets;
    }

    /** The template for {@code shapes} (float32 initializers of {@code model}), their values zeroed. */
    static WrittenGraph of(OnnxModel model, Map<String, long[]> shapes) {
        long parameterBytes = 0;
        for (long[] shape : shapes.values()) {
            parameterBytes += dev.nps.storage.Shapes.elementCount(shape) * Float.BYTES;
        }
        if (parameterBytes > Integer.MAX_VALUE - (64L << 20)) {
            // One protobuf message cannot exceed 2 GiB; INPUTS feeds the weights beside the graph instead.
            throw new EvaluatorException("the REBUILD feed mode writes the whole graph into one ONNX protobuf, which holds at"
                    + " most 2 GiB; these parameters take " + (parameterBytes >> 20) + " MiB; use --feed inputs");
        }
        Map<String, FloatTensor> zeros = new TreeMap<>();
        shapes.forEach((name, shape) -> zeros.put(name, new FloatTensor(shape,
                new float[Math.toIntExact(dev.nps.storage.Shapes.elementCount(shape))])));
        byte[] bytes = model.withInitializers(new ParameterSet(zeros)).toByteArray();
        Map<String, Integer> at = locate(bytes, shapes);
        return new WrittenGraph(bytes, at);
    }

    /** A fresh copy of the template, to be filled by {@link #fill}. */
    byte[] newBuffer() {
        return template.clone();
    }

    /** Writes each parameter's floats (little-endian, as ONNX raw_data) into its range of {@code buffer}. */
    void fill(byte[] buffer, Map<String, float[]> values) {
        MemorySegment dst = MemorySegment.ofArray(buffer);
        values.forEach((name, data) -> MemorySegment.copy(data, 0, dst, LE_FLOAT, offsets.get(name), data.length));
    }

    /** raw_data start of every parameter; each must appear once with exactly its float32 byte size. */
    static Map<String, Integer> locate(byte[] model, Map<String, long[]> shapes) {
        Map<String, Integer> at = new LinkedHashMap<>();
        try {
            CodedInputStream in = CodedInputStream.newInstance(model);
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                if (WireFormat.getTagFieldNumber(tag) == MODEL_GRAPH && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    int len = in.readRawVarint32();
                    int start = in.getTotalBytesRead();
                    graph(model, start, len, shapes, at);
                    in.skipRawBytes(len);
                } else {
                    in.skipField(tag);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot re-read the serialized graph: " + e.getMessage(), e);
        }
        if (!at.keySet().equals(shapes.keySet())) {
            throw new IllegalStateException("serialized graph lacks raw_data of " + shapes.keySet().stream().filter(n -> !at.containsKey(n)).toList());
        }
        return at;
    }

    private static void graph(byte[] b, int off, int len, Map<String, long[]> shapes, Map<String, Integer> at) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(b, off, len);
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            if (WireFormat.getTagFieldNumber(tag) == GRAPH_INITIALIZER && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int n = in.readRawVarint32();
                tensor(b, off + in.getTotalBytesRead(), n, shapes, at);
                in.skipRawBytes(n);
            } else {
                in.skipField(tag);
            }
        }
    }

    private static void tensor(byte[] b, int off, int len, Map<String, long[]> shapes, Map<String, Integer> at) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(b, off, len);
        String name = null;
        int raw = -1, rawLen = -1;
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == TENSOR_NAME && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                name = in.readStringRequireUtf8();
            } else if (field == TENSOR_RAW_DATA && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                rawLen = in.readRawVarint32();
                raw = off + in.getTotalBytesRead();
                in.skipRawBytes(rawLen);
            } else {
                in.skipField(tag);
            }
        }
        if (name == null || !shapes.containsKey(name)) {
            return;
        }
        long want = dev.nps.storage.Shapes.elementCount(shapes.get(name)) * Float.BYTES;
        if (want == 0 && raw < 0) { // proto3 leaves an empty raw_data out
            raw = 0;
            rawLen = 0;
        }
        if (raw < 0 || rawLen != want || at.putIfAbsent(name, raw) != null) {
            throw new IllegalStateException("initializer '" + name + "' of the serialized graph has raw_data of " + rawLen
                    + " bytes, expected " + want + " once (shape " + Arrays.toString(shapes.get(name)) + ")");
        }
    }
}
