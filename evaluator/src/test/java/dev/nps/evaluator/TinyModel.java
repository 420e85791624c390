package dev.nps.evaluator;

import dev.nps.storage.DType;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.onnx.proto.GraphProto;
import dev.nps.storage.onnx.proto.ModelProto;
import dev.nps.storage.onnx.proto.NodeProto;
import dev.nps.storage.onnx.proto.OperatorSetIdProto;
import dev.nps.storage.onnx.proto.TensorProto;
import dev.nps.storage.onnx.proto.TensorShapeProto;
import dev.nps.storage.onnx.proto.TypeProto;
import dev.nps.storage.onnx.proto.ValueInfoProto;
import dev.nps.storage.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A linear classifier logits = x·W + b (x [batch, 4], W [4, 3], b [3]) built in code, with
 * integer-valued data so ONNX Runtime's float arithmetic is exact and a Java reference
 * predicts its argmax without rounding doubts.
 */
final class TinyModel {
    static final int FEATURES = 4;
    static final int CLASSES = 3;

    private TinyModel() {
    }

    static Path writeGraph(Path dir, float[] w, float[] b) throws IOException {
        return write(dir, GraphProto.newBuilder()
                .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("W").addOutput("h"))
                .addInitializer(floatTensor("W", new long[] {FEATURES, CLASSES}, w)), b);
    }

    /**
     * The same classifier with W stored transposed ([3, 4], as torch keeps Linear weights) and read
     * through a Transpose node: a node over initializers alone, which ONNX Runtime constant-folds.
     */
    static Path writeTransposedGraph(Path dir, float[] w, float[] b) throws IOException {
        return write(dir, GraphProto.newBuilder()
                .addNode(NodeProto.newBuilder().setOpType("Transpose").addInput("W").addOutput("Wt"))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("Wt").addOutput("h"))
                .addInitializer(floatTensor("W", new long[] {CLASSES, FEATURES}, transpose(w))), b);
    }

    /** W [4, 3] row-major to its transpose [3, 4], and back. */
    static float[] transpose(float[] w) {
        float[] t = new float[w.length];
        for (int f = 0; f < FEATURES; f++) {
            for (int c = 0; c < CLASSES; c++) {
                t[c * FEATURES + f] = w[f * CLASSES + c];
            }
        }
        return t;
    }

    private static Path write(Path dir, GraphProto.Builder weights, float[] b) throws IOException {
        GraphProto graph = weights
                .setName("tiny")
                .addNode(NodeProto.newBuilder().setOpType("Add").addInput("h").addInput("b").addOutput("logits"))
                .addInitializer(floatTensor("b", new long[] {CLASSES}, b))
                .addInput(valueInfo("x", TensorProto.DataType.FLOAT_VALUE, -1, FEATURES))
                .addOutput(valueInfo("logits", TensorProto.DataType.FLOAT_VALUE, -1, CLASSES))
                .build();
        ModelProto model = ModelProto.newBuilder()
                .setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setProducerName("nps-test")
                .setGraph(graph)
                .build();
        Path p = dir.resolve("tiny.onnx");
        Files.write(p, model.toByteArray());
        return p;
    }

    static Path writeData(Path dir, String name, float[] x, long[] labels) {
        Path p = dir.resolve(name);
        new SafetensorsWriter()
                .addFloats("x", new long[] {labels.length, FEATURES}, x, DType.F32)
                .addLongs("labels", new long[] {labels.length}, labels)
                .write(p);
        return p;
    }

    static ParameterSet params(float[] w, float[] b) {
        return new ParameterSet(Map.of(
                "W", new FloatTensor(new long[] {FEATURES, CLASSES}, w),
                "b", new FloatTensor(new long[] {CLASSES}, b)));
    }

    /** Parameters of {@link #writeTransposedGraph}: W given as [4, 3], stored as its transpose. */
    static ParameterSet transposedParams(float[] w, float[] b) {
        return new ParameterSet(Map.of(
                "W", new FloatTensor(new long[] {CLASSES, FEATURES}, transpose(w)),
                "b", new FloatTensor(new long[] {CLASSES}, b)));
    }

    /** Correct predictions of the reference: argmax (first on ties) of x·W + b. */
    static int referenceCorrect(float[] x, long[] labels, float[] w, float[] b) {
        int correct = 0;
        for (int s = 0; s < labels.length; s++) {
            int best = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < CLASSES; c++) {
                double v = b[c];
                for (int f = 0; f < FEATURES; f++) {
                    v += (double) x[s * FEATURES + f] * w[f * CLASSES + c];
                }
                if (v > max) {
                    max = v;
                    best = c;
                }
            }
            if (best == labels[s]) {
                correct++;
            }
        }
        return correct;
    }

    private static TensorProto floatTensor(String name, long[] dims, float[] data) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
        for (long d : dims) {
            t.addDims(d);
        }
        for (float v : data) {
            t.addFloatData(v);
        }
        return t.build();
    }

    private static ValueInfoProto valueInfo(String name, int elemType, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)))
                .build();
    }
}
