package dev.nps.storage.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.nps.storage.DType;
import dev.nps.storage.FloatCodec;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.StorageException;
import dev.nps.storage.onnx.proto.GraphProto;
import dev.nps.storage.onnx.proto.ModelProto;
import dev.nps.storage.onnx.proto.NodeProto;
import dev.nps.storage.onnx.proto.OperatorSetIdProto;
import dev.nps.storage.onnx.proto.StringStringEntryProto;
import dev.nps.storage.onnx.proto.TensorProto;
import dev.nps.storage.onnx.proto.TensorShapeProto;
import dev.nps.storage.onnx.proto.TypeProto;
import dev.nps.storage.onnx.proto.ValueInfoProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny Y = X·W + B graph built here, edited, serialized and parsed back. */
class OnnxModelTest {
    @TempDir
    Path dir;

    static final float[] W = {1, 2, 3, 4, 5, 6};
    static final float[] B = {0.5f, -0.5f};

    static ValueInfoProto value(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            shape.addDim(d instanceof String s ? TensorShapeProto.Dimension.newBuilder().setDimParam(s)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    /** An attribute (NodeProto field 5) that onnx_subset.proto does not declare: bytes of an AttributeProto. */
    static final ByteString ATTRIBUTE = ByteString.copyFromUtf8("\n\u0005alpha\u0015\u0000\u0000\u0080\u003f\u0020\u0001");

    static ModelProto model(boolean withUnknownFields) {
        NodeProto.Builder matmul = NodeProto.newBuilder().setOpType("MatMul").setName("mm").addInput("X").addInput("W").addOutput("XW");
        if (withUnknownFields) {
            matmul.setUnknownFields(UnknownFieldSet.newBuilder()
                    .addField(5, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ATTRIBUTE).build()).build());
        }
        GraphProto graph = GraphProto.newBuilder().setName("g")
                .addNode(matmul)
                .addNode(NodeProto.newBuilder().setOpType("Add").setName("add").addInput("XW").addInput("B").addOutput("Y"))
                .addInitializer(TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(3).addDims(2)
                        .setRawData(ByteString.copyFrom(FloatCodec.encode(W, DType.F32))))
                .addInitializer(TensorProto.newBuilder().setName("B").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(2)
                        .addFloatData(B[0]).addFloatData(B[1]))
                .addInitializer(TensorProto.newBuilder().setName("shape_const").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1)
                        .addInt64Data(2))
                .addInput(value("X", TensorProto.DataType.FLOAT_VALUE, "N", 3))
                .addOutput(value("Y", TensorProto.DataType.FLOAT_VALUE, "N", 2))
                .build();
        ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(8).setProducerName("nps-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).setGraph(graph);
        if (withUnknownFields) {
            // ModelProto field 20 (training_info) is not in the subset either.
            m.setUnknownFields(UnknownFieldSet.newBuilder()
                    .addField(20, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8("training")).build()).build());
        }
        return m.build();
    }

    private static ParameterSet params(String name, long[] shape, float... v) {
        return new ParameterSet(Map.of(name, new FloatTensor(shape, v)));
    }

    @Test
    void listsAndReadsInitializers() {
        OnnxModel m = OnnxModel.parse(model(false).toByteArray(), null);
        List<OnnxModel.Initializer> inits = m.initializers();
        assertEquals(List.of("W", "B", "shape_const"), inits.stream().map(OnnxModel.Initializer::name).toList());
        assertEquals(DType.F32, inits.get(0).dtype());
        assertArrayEquals(new long[] {3, 2}, inits.get(0).shape());
        assertEquals(DType.I64, inits.get(2).dtype());
        assertFalse(inits.get(2).isFloating());
        assertArrayEquals(W, m.readFloats("W"));
        assertArrayEquals(B, m.readFloats("B"));
        assertEquals(Set.of("B", "W"), m.readAllFloats().names());
        assertEquals("ONNX initializer 'shape_const' is INT64, not a floating type",
                assertThrows(StorageException.class, () -> m.readFloats("shape_const")).getMessage());
        assertEquals("ONNX initializer 'nope' not found in graph", assertThrows(StorageException.class, () -> m.readFloats("nope")).getMessage());

        assertEquals(1, m.inputs().size());
        assertEquals("X", m.inputs().getFirst().name());
        assertEquals(TensorProto.DataType.FLOAT_VALUE, m.inputs().getFirst().elemType());
        assertArrayEquals(new long[] {-1, 3}, m.inputs().getFirst().shape());
        assertArrayEquals(new long[] {-1, 2}, m.outputs().getFirst().shape());
    }

    @Test
    void replacesInitializerValues() {
        OnnxModel m = OnnxModel.of(model(false), null);
        float[] w2 = {-1, -2, -3, -4, -5, -6};
        OnnxModel edited = m.withInitializers(new ParameterSet(Map.of(
                "W", new FloatTensor(new long[] {3, 2}, w2),
                "B", new FloatTensor(new long[] {2}, new float[] {9, 8}))));
        assertArrayEquals(W, m.readFloats("W"), "original untouched");
        OnnxModel back = OnnxModel.parse(edited.toByteArray(), null);
        assertArrayEquals(w2, back.readFloats("W"));
        assertArrayEquals(new float[] {9, 8}, back.readFloats("B"));
        TensorProto b = back.proto().getGraph().getInitializer(1);
        assertEquals(0, b.getFloatDataCount(), "float_data replaced by raw_data");
        assertEquals(8, b.getRawData().size());
        assertEquals(List.of("W", "B", "shape_const"), back.initializers().stream().map(OnnxModel.Initializer::name).toList());
        assertEquals(m.proto().getGraph().getNodeList(), back.proto().getGraph().getNodeList());
    }

    @Test
    void replacementErrors() {
        OnnxModel m = OnnxModel.of(model(false), null);
        assertEquals("ONNX initializer 'x' not found in graph",
                assertThrows(StorageException.class, () -> m.withInitializers(params("x", new long[] {1}, 1))).getMessage());
        assertEquals("shape mismatch for ONNX initializer 'W': graph [3, 2] vs given [2, 3]",
                assertThrows(StorageException.class, () -> m.withInitializers(params("W", new long[] {2, 3}, W))).getMessage());
        assertEquals("ONNX initializer 'shape_const' is INT64; cannot store floats in it",
                assertThrows(StorageException.class, () -> m.withInitializers(params("shape_const", new long[] {1}, 2))).getMessage());
    }

    @Test
    void keepsAnInitializersHalfPrecisionType() {
        ModelProto p = model(false);
        GraphProto g = p.getGraph().toBuilder().setInitializer(1, TensorProto.newBuilder().setName("B")
                .setDataType(TensorProto.DataType.FLOAT16_VALUE).addDims(2)
                .addInt32Data(Float.floatToFloat16(0.5f)).addInt32Data(Float.floatToFloat16(-0.5f))).build();
        OnnxModel m = OnnxModel.of(p.toBuilder().setGraph(g).build(), null);
        assertArrayEquals(B, m.readFloats("B"));
        OnnxModel edited = m.withInitializers(params("B", new long[] {2}, 1.5f, 0.1f));
        TensorProto b = edited.proto().getGraph().getInitializer(1);
        assertEquals(TensorProto.DataType.FLOAT16_VALUE, b.getDataType());
        assertEquals(4, b.getRawData().size());
        assertArrayEquals(new float[] {1.5f, Float.float16ToFloat(Float.floatToFloat16(0.1f))}, edited.readFloats("B"));
    }

    @Test
    void movesInitializersToInputs() {
        OnnxModel m = OnnxModel.of(model(false), null);
        OnnxModel moved = OnnxModel.parse(m.withInitializersAsInputs(Set.of("W", "B")).toByteArray(), null);
        assertEquals(List.of("shape_const"), moved.initializers().stream().map(OnnxModel.Initializer::name).toList());
        assertEquals(List.of("X", "B", "W"), moved.inputs().stream().map(OnnxModel.TensorSpec::name).toList());
        OnnxModel.TensorSpec w = moved.inputs().get(2);
        assertEquals(TensorProto.DataType.FLOAT_VALUE, w.elemType());
        assertArrayEquals(new long[] {3, 2}, w.shape());
        assertFalse(moved.hasInitializer("W"));
        assertEquals("ONNX initializer 'Z' not found in graph",
                assertThrows(StorageException.class, () -> m.withInitializersAsInputs(Set.of("Z"))).getMessage());
    }

    @Test
    void olderGraphsListingInitializersAsInputs() {
        ModelProto p = model(false);
        GraphProto g = p.getGraph().toBuilder().addInput(value("W", TensorProto.DataType.FLOAT_VALUE, 3, 2)).build();
        OnnxModel m = OnnxModel.of(p.toBuilder().setIrVersion(3).setGraph(g).build(), null);
        assertEquals(List.of("X"), m.inputs().stream().map(OnnxModel.TensorSpec::name).toList(), "initializer inputs are not feeds");
        OnnxModel moved = m.withInitializersAsInputs(Set.of("W"));
        assertEquals(List.of("X", "W"), moved.inputs().stream().map(OnnxModel.TensorSpec::name).toList());
        assertEquals(2, moved.proto().getGraph().getInputCount(), "not declared twice");
    }

    @Test
    void unknownFieldsSurviveEdits() {
        byte[] original = model(true).toByteArray();
        OnnxModel m = OnnxModel.parse(original, null);
        byte[] out = m.withInitializers(params("B", new long[] {2}, 3, 4)).withInitializersAsInputs(Set.of("W")).toByteArray();
        assertTrue(contains(out, ATTRIBUTE.toByteArray()), "node attribute kept");
        assertTrue(contains(out, "training".getBytes()), "model-level field kept");
        ModelProto back = OnnxModel.parse(out, null).proto();
        assertEquals(ATTRIBUTE, back.getGraph().getNode(0).getUnknownFields().getField(5).getLengthDelimitedList().getFirst());
        // With no edits, bytes come back identical.
        assertArrayEquals(original, OnnxModel.parse(original, null).toByteArray());
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Test
    void externalData() throws IOException {
        ByteBuffer file = ByteBuffer.allocate(16 + 24);
        file.put(new byte[16]).put(FloatCodec.encode(W, DType.F32));
        Files.write(dir.resolve("weights.bin"), file.array());
        ModelProto p = model(false);
        TensorProto ext = p.getGraph().getInitializer(0).toBuilder().clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("16"))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue("24"))
                .build();
        Path modelPath = dir.resolve("model.onnx");
        Files.write(modelPath, p.toBuilder().setGraph(p.getGraph().toBuilder().setInitializer(0, ext)).build().toByteArray());
        OnnxModel m = OnnxModel.load(modelPath);
        assertTrue(m.hasExternalData());
        assertArrayEquals(W, m.readFloats("W"));

        Path other = Files.createDirectory(dir.resolve("other"));
        StorageException e = assertThrows(StorageException.class, () -> m.write(other.resolve("m.onnx")));
        assertTrue(e.getMessage().contains("external data"), e.getMessage());
        m.write(dir.resolve("copy.onnx")); // next to the original: references still resolve
        assertArrayEquals(W, OnnxModel.load(dir.resolve("copy.onnx")).readFloats("W"));
        OnnxModel inlined = m.withInitializers(params("W", new long[] {3, 2}, W));
        assertFalse(inlined.hasExternalData());
        inlined.write(other.resolve("m.onnx"));
        assertArrayEquals(W, OnnxModel.load(other.resolve("m.onnx")).readFloats("W"));

        TensorProto escape = ext.toBuilder().setExternalData(0, StringStringEntryProto.newBuilder().setKey("location").setValue("../w.bin")).build();
        OnnxModel bad = OnnxModel.of(p.toBuilder().setGraph(p.getGraph().toBuilder().setInitializer(0, escape)).build(), dir);
        assertTrue(assertThrows(StorageException.class, () -> bad.readFloats("W")).getMessage().contains("is outside"));
        TensorProto tooLong = ext.toBuilder().setExternalData(1, StringStringEntryProto.newBuilder().setKey("offset").setValue("20")).build();
        OnnxModel past = OnnxModel.of(p.toBuilder().setGraph(p.getGraph().toBuilder().setInitializer(0, tooLong)).build(), dir);
        assertTrue(assertThrows(StorageException.class, () -> past.readFloats("W")).getMessage().contains("runs past the end of weights.bin"));
    }

    @Test
    void refusesBytesThatAreNotOnnx() throws IOException {
        Path junk = Files.write(dir.resolve("junk.onnx"), "definitely not protobuf \u00ff\u00ff".getBytes());
        StorageException e = assertThrows(StorageException.class, () -> OnnxModel.load(junk));
        assertTrue(e.getMessage().startsWith(junk + ": not an ONNX model"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        // Bytes that happen to parse as protobuf still lack the model's fields.
        Path empty = Files.write(dir.resolve("empty.onnx"), new byte[0]);
        assertEquals(empty + ": not an ONNX model: no ir_version", assertThrows(StorageException.class, () -> OnnxModel.load(empty)).getMessage());
        Path noGraph = Files.write(dir.resolve("ng.onnx"), ModelProto.newBuilder().setIrVersion(8).build().toByteArray());
        assertEquals(noGraph + ": not an ONNX model: no graph", assertThrows(StorageException.class, () -> OnnxModel.load(noGraph)).getMessage());
        Path missing = dir.resolve("missing.onnx");
        assertEquals("ONNX model " + missing + ": no such file", assertThrows(StorageException.class, () -> OnnxModel.load(missing)).getMessage());
    }

    @Test
    void writeIsAtomicAndRoundTrips() throws IOException {
        Path p = dir.resolve("m.onnx");
        OnnxModel.of(model(true), null).write(p);
        assertArrayEquals(model(true).toByteArray(), Files.readAllBytes(p));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList());
        }
        assertNull(OnnxModel.load(p).outputs().stream().filter(o -> o.shape() == null).findFirst().orElse(null));
        assertEquals(2, Arrays.stream(OnnxModel.load(p).outputs().getFirst().shape()).count());
    }
}
