package dev.nps.storage.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.nps.storage.AtomicFiles;
import dev.nps.storage.DType;
import dev.nps.storage.FloatCodec;
import dev.nps.storage.InputFiles;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.Shapes;
import dev.nps.storage.StorageException;
import dev.nps.storage.onnx.proto.GraphProto;
import dev.nps.storage.onnx.proto.ModelProto;
import dev.nps.storage.onnx.proto.StringStringEntryProto;
import dev.nps.storage.onnx.proto.TensorProto;
import dev.nps.storage.onnx.proto.TensorShapeProto;
import dev.nps.storage.onnx.proto.TypeProto;
import dev.nps.storage.onnx.proto.ValueInfoProto;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An ONNX model, immutable: the edits NPS needs (new initializer values, initializers turned
 * into graph inputs) return a new model. Only the fields in onnx_subset.proto are understood;
 * everything else rides along as protobuf unknown fields and is written back unchanged.
 *
 * <p>Initializers may be stored inline (raw_data little-endian, or the typed repeated fields) or
 * as external data ({@code data_location = EXTERNAL}, with location/offset/length relative to
 * the model file's directory). Values written by {@link #withInitializers} are always inline.
 */
public final class OnnxModel {

    /** An initializer's header: ONNX TensorProto.DataType code and dims. */
    public record Initializer(String name, int dataType, long[] shape) {
        public Initializer {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** The element type, or a {@link StorageException} for types NPS does not handle (strings, complex, ...). */
        public DType dtype() {
            DType d = fromOnnx(dataType);
            if (d == null) {
                throw new StorageException("ONNX initializer '" + name + "' has unsupported data type " + typeName(dataType));
            }
            return d;
        }

        public boolean isFloating() {
            DType d = fromOnnx(dataType);
            return d != null && d.isFloating();
        }
    }

    /**
     * A graph input or output: name, ONNX element type, and shape with -1 for symbolic or unknown
     * dimensions; {@code shape} is null when the graph declares no shape at all.
     */
    public record TensorSpec(String name, int elemType, long[] shape) {
    }

    private final ModelProto proto;
    private final Path baseDir;
    private final Map<String, Integer> initializerIndex;

    private OnnxModel(ModelProto proto, Path baseDir) {
        if (!proto.hasGraph()) {
            throw new StorageException("not an ONNX model: no graph");
        }
        this.proto = proto;
        this.baseDir = baseDir;
        Map<String, Integer> index = new HashMap<>();
        List<TensorProto> inits = proto.getGraph().getInitializerList();
        for (int i = 0; i < inits.size(); i++) {
            if (index.putIfAbsent(inits.get(i).getName(), i) != null) {
                throw new StorageException("ONNX initializer '" + inits.get(i).getName() + "' appears twice in the graph");
            }
        }
        this.initializerIndex = index;
    }

    public static OnnxModel load(Path path) {
        byte[] bytes;
        InputFiles.requireRegularFile(path, "ONNX model");
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw StorageException.io("cannot read ONNX model " + path, e);
        }
        try {
            return parse(bytes, path.toAbsolutePath().getParent());
        } catch (StorageException e) {
            throw new StorageException(path + ": " + e.getMessage(), e);
        }
    }

    /** Parses model bytes; {@code baseDir} resolves external data and may be null if there is none. */
    public static OnnxModel parse(byte[] bytes, Path baseDir) {
        ModelProto proto;
        try {
            proto = ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new StorageException("not an ONNX model (" + e.getMessage().replace('\n', ' ') + ")", e);
        }
        if (proto.getIrVersion() <= 0) {
            throw new StorageException("not an ONNX model: no ir_version");
        }
        return new OnnxModel(proto, baseDir);
    }

    /** Wraps a model built in code; {@code baseDir} as for {@link #parse}. */
    public static OnnxModel of(ModelProto proto, Path baseDir) {
        return new OnnxModel(proto, baseDir);
    }

    public ModelProto proto() {
        return proto;
    }

    public List<Initializer> initializers() {
        return proto.getGraph().getInitializerList().stream()
                .map(t -> new Initializer(t.getName(), t.getDataType(), dims(t)))
                .toList();
    }

    public boolean hasInitializer(String name) {
        return initializerIndex.containsKey(name);
    }

    public Initializer initializer(String name) {
        TensorProto t = tensor(name);
        return new Initializer(name, t.getDataType(), dims(t));
    }

    private TensorProto tensor(String name) {
        Integer i = initializerIndex.get(name);
        if (i == null) {
            throw new StorageException("ONNX initializer '" + name + "' not found in graph");
        }
        return proto.getGraph().getInitializer(i);
    }

    /** A floating initializer (FLOAT, FLOAT16, BFLOAT16, DOUBLE) as float32. */
    public float[] readFloats(String name) {
        TensorProto t = tensor(name);
        String what = "ONNX initializer '" + name + "'";
        DType dtype = new Initializer(name, t.getDataType(), dims(t)).dtype();
        if (!dtype.isFloating()) {
            throw new StorageException(what + " is " + typeName(t.getDataType()) + ", not a floating type");
        }
        int count = FloatCodec.arrayLength(what, Shapes.elementCount(dims(t)));
        long bytes = (long) count * dtype.byteSize();
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            return readExternal(what, t, dtype, count, bytes);
        }
        if (t.hasRawData()) {
            ByteString raw = t.getRawData();
            if (raw.size() != bytes) {
                throw new StorageException(what + ": raw_data has " + raw.size() + " bytes, expected " + bytes);
            }
            return FloatCodec.decode(MemorySegment.ofBuffer(raw.asReadOnlyByteBuffer()), dtype, count);
        }
        float[] out = new float[count];
        int have = switch (dtype) {
            case F32 -> t.getFloatDataCount();
            case F64 -> t.getDoubleDataCount();
            default -> t.getInt32DataCount(); // F16/BF16 bit patterns, one per int32
        };
        if (have != count) {
            throw new StorageException(what + ": has " + have + " typed values, expected " + count);
        }
        for (int i = 0; i < count; i++) {
            out[i] = switch (dtype) {
                case F32 -> t.getFloatData(i);
                case F64 -> (float) t.getDoubleData(i);
                case F16 -> Float.float16ToFloat((short) t.getInt32Data(i));
                default -> Float.intBitsToFloat((t.getInt32Data(i) & 0xFFFF) << 16);
            };
        }
        return out;
    }

    private float[] readExternal(String what, TensorProto t, DType dtype, int count, long bytes) {
        Map<String, String> ext = new HashMap<>();
        for (StringStringEntryProto e : t.getExternalDataList()) {
            ext.put(e.getKey(), e.getValue());
        }
        String location = ext.get("location");
        if (location == null) {
            throw new StorageException(what + ": external data without a location");
        }
        if (baseDir == null) {
            throw new StorageException(what + ": external data '" + location + "' but the model was not loaded from a file");
        }
        Path dir = baseDir.toAbsolutePath().normalize();
        Path file = dir.resolve(location).normalize();
        if (!file.startsWith(dir)) {
            throw new StorageException(what + ": external data location '" + location + "' is outside " + dir);
        }
        long offset = parseLong(what, ext.getOrDefault("offset", "0"));
        long length = ext.containsKey("length") ? parseLong(what, ext.get("length")) : bytes;
        if (length != bytes) {
            throw new StorageException(what + ": external data length " + length + " but the tensor needs " + bytes + " bytes");
        }
        InputFiles.requireRegularFile(file, what + ": external data");
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (offset + length > ch.size()) {
                throw new StorageException(what + ": external data [" + offset + ", " + (offset + length) + ") runs past the end of "
                        + location + " (" + ch.size() + " bytes)");
            }
            if (length == 0) {
                return new float[0];
            }
            return FloatCodec.decode(ch.map(FileChannel.MapMode.READ_ONLY, offset, length, arena), dtype, count);
        } catch (IOException e) {
            throw StorageException.io(what + ": cannot read external data " + file, e);
        }
    }

    private static long parseLong(String what, String s) {
        try {
            long v = Long.parseLong(s.strip());
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new StorageException(what + ": external data offset/length '" + s + "' is not a non-negative integer");
        }
    }

    /** Every floating initializer as float32. */
    public ParameterSet readAllFloats() {
        TreeMap<String, FloatTensor> out = new TreeMap<>();
        for (TensorProto t : proto.getGraph().getInitializerList()) {
            DType d = fromOnnx(t.getDataType());
            if (d != null && d.isFloating()) {
                out.put(t.getName(), new FloatTensor(dims(t), readFloats(t.getName())));
            }
        }
        return new ParameterSet(out);
    }

    /**
     * A model whose named initializers hold {@code values} instead, stored inline as raw_data in
     * each initializer's own floating type. Names must exist and shapes must match.
     */
    public OnnxModel withInitializers(ParameterSet values) {
        GraphProto.Builder graph = proto.getGraph().toBuilder();
        for (Map.Entry<String, FloatTensor> e : values.asMap().entrySet()) {
            String name = e.getKey();
            TensorProto old = tensor(name);
            long[] dims = dims(old);
            DType dtype = new Initializer(name, old.getDataType(), dims).dtype();
            if (!dtype.isFloating()) {
                throw new StorageException("ONNX initializer '" + name + "' is " + typeName(old.getDataType()) + "; cannot store floats in it");
            }
            if (!Arrays.equals(dims, e.getValue().shape())) {
                throw new StorageException("shape mismatch for ONNX initializer '" + name + "': graph " + Shapes.format(dims) + " vs given "
                        + Shapes.format(e.getValue().shape()));
            }
            TensorProto replaced = old.toBuilder()
                    .clearRawData().clearFloatData().clearDoubleData().clearInt32Data()
                    .clearExternalData().clearDataLocation()
                    .setRawData(UnsafeByteOperations.unsafeWrap(FloatCodec.encode(e.getValue().data(), dtype)))
                    .build();
            graph.setInitializer(initializerIndex.get(name), replaced);
        }
        return new OnnxModel(proto.toBuilder().setGraph(graph).build(), baseDir);
    }

    /**
     * A model in which the named initializers are graph inputs instead (removed from the
     * initializer list, declared as inputs with their type and static shape), so the values can
     * be fed per run. A name already declared as an input (IR &lt; 4 style graphs) is not added twice.
     */
    public OnnxModel withInitializersAsInputs(Set<String> names) {
        for (String name : names) {
            tensor(name);
        }
        GraphProto g = proto.getGraph();
        Set<String> declared = new TreeSet<>();
        g.getInputList().forEach(v -> declared.add(v.getName()));
        GraphProto.Builder graph = g.toBuilder().clearInitializer();
        for (TensorProto t : g.getInitializerList()) {
            if (!names.contains(t.getName())) {
                graph.addInitializer(t);
            }
        }
        for (String name : new TreeSet<>(names)) {
            if (declared.contains(name)) {
                continue;
            }
            TensorProto t = tensor(name);
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
            for (long d : t.getDimsList()) {
                shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            }
            graph.addInput(ValueInfoProto.newBuilder()
                    .setName(name)
                    .setType(TypeProto.newBuilder().setTensorType(
                            TypeProto.Tensor.newBuilder().setElemType(t.getDataType()).setShape(shape))));
        }
        return new OnnxModel(proto.toBuilder().setGraph(graph).build(), baseDir);
    }

    /** Graph inputs a caller feeds: declared inputs that are not initializers. */
    public List<TensorSpec> inputs() {
        List<TensorSpec> out = new ArrayList<>();
        for (ValueInfoProto v : proto.getGraph().getInputList()) {
            if (!initializerIndex.containsKey(v.getName())) {
                out.add(spec(v));
            }
        }
        return out;
    }

    public List<TensorSpec> outputs() {
        return proto.getGraph().getOutputList().stream().map(OnnxModel::spec).toList();
    }

    private static TensorSpec spec(ValueInfoProto v) {
        if (!v.hasType() || !v.getType().hasTensorType()) {
            return new TensorSpec(v.getName(), 0, null);
        }
        TypeProto.Tensor t = v.getType().getTensorType();
        long[] shape = null;
        if (t.hasShape()) {
            shape = t.getShape().getDimList().stream().mapToLong(d -> d.hasDimValue() ? d.getDimValue() : -1).toArray();
        }
        return new TensorSpec(v.getName(), t.getElemType(), shape);
    }

    /** True if some initializer still points at an external data file. */
    /** Whether some node of the main graph is of this operator type (ONNX's default domain). */
    public boolean hasOperator(String opType) {
        return proto.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals(opType));
    }

    public boolean hasExternalData() {
        return proto.getGraph().getInitializerList().stream().anyMatch(t -> t.getDataLocation() == TensorProto.DataLocation.EXTERNAL);
    }

    public byte[] toByteArray() {
        return proto.toByteArray();
    }

    /** Writes the model atomically. External data references stay valid only next to the original. */
    public void write(Path target) {
        if (hasExternalData()) {
            Path dir = target.toAbsolutePath().normalize().getParent();
            if (baseDir == null || !dir.equals(baseDir.toAbsolutePath().normalize())) {
                throw new StorageException("cannot write " + target + ": the model has initializers in external data files relative to "
                        + baseDir + "; replace them with withInitializers or write next to the original");
            }
        }
        AtomicFiles.write(target, toByteArray());
    }

    private static long[] dims(TensorProto t) {
        return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    /** ONNX TensorProto.DataType code to DType; null for types NPS does not handle. */
    static DType fromOnnx(int dataType) {
        return switch (dataType) {
            case TensorProto.DataType.FLOAT_VALUE -> DType.F32;
            case TensorProto.DataType.DOUBLE_VALUE -> DType.F64;
            case TensorProto.DataType.FLOAT16_VALUE -> DType.F16;
            case TensorProto.DataType.BFLOAT16_VALUE -> DType.BF16;
            case TensorProto.DataType.INT64_VALUE -> DType.I64;
            case TensorProto.DataType.INT32_VALUE -> DType.I32;
            case TensorProto.DataType.INT16_VALUE -> DType.I16;
            case TensorProto.DataType.INT8_VALUE -> DType.I8;
            case TensorProto.DataType.UINT8_VALUE -> DType.U8;
            case TensorProto.DataType.BOOL_VALUE -> DType.BOOL;
            default -> null;
        };
    }

    static String typeName(int dataType) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(dataType);
        return t == null ? "type " + dataType : t.name();
    }
}
