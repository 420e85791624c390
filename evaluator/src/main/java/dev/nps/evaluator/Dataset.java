package dev.nps.evaluator;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import dev.nps.storage.Checkpoint;
import dev.nps.storage.DType;
import dev.nps.storage.StorageException;
import dev.nps.storage.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Labelled samples in a safetensors file: one tensor per graph input, all with the same
 * leading dimension N, plus {@value #LABELS} (I64 or I32, shape [N]). The samples are cut
 * into {@link #batchCount()} batches of {@link #batchSize()} (the last may be shorter) in
 * file order; every evaluator sees the same batches in the same order.
 *
 * <p>Batch tensors are zero-copy views of the memory-mapped file, made once at open and
 * shared read-only by every session, so a dataset may be used from several threads. They
 * are freed by {@link #close()}, which must come after the last scoring call.
 */
public final class Dataset implements AutoCloseable {
    public static final String LABELS = "labels";

    private final Path file;
    private final Checkpoint checkpoint;
    private final int size;
    private final int batchSize;
    private final Map<String, TensorInfo> inputs;
    private final long[] labels;
    private final List<Batch> batches = new ArrayList<>();
    private final Set<Integer> checkedClassCounts = ConcurrentHashMap.newKeySet();

    private Dataset(Path file, Checkpoint checkpoint, int batchSize) {
        this.file = file;
        this.checkpoint = checkpoint;
        this.batchSize = batchSize;
        if (!checkpoint.contains(LABELS)) {
            throw new EvaluatorException(file + " has no '" + LABELS + "' tensor (it holds " + checkpoint.names() + ")");
        }
        TensorInfo labelInfo = checkpoint.info(LABELS);
        if (labelInfo.dtype() != DType.I64 && labelInfo.dtype() != DType.I32) {
            throw new EvaluatorException("'" + LABELS + "' in " + file + " is " + labelInfo.dtype() + "; expected I64 or I32");
        }
        if (labelInfo.shape().length != 1) {
            throw new EvaluatorException("'" + LABELS + "' in " + file + " has shape " + Arrays.toString(labelInfo.shape())
                    + "; expected [N]");
        }
        long n = labelInfo.shape()[0];
        if (n == 0) {
            throw new EvaluatorException("empty calibration set: " + file + " holds 0 samples");
        }
        if (n > Integer.MAX_VALUE) {
            throw new EvaluatorException(file + " holds " + n + " samples; at most " + Integer.MAX_VALUE + " are supported");
        }
        this.size = (int) n;
        Map<String, TensorInfo> in = new TreeMap<>();
        for (String name : checkpoint.names()) {
            if (name.equals(LABELS)) {
                continue;
            }
            TensorInfo info = checkpoint.info(name);
            long[] shape = info.shape();
            if (shape.length == 0 || shape[0] != n) {
                throw new EvaluatorException("tensor '" + name + "' in " + file + " has shape " + Arrays.toString(shape)
                        + " but '" + LABELS + "' has " + n + " samples; every tensor must lead with N=" + n);
            }
            in.put(name, info);
        }
        if (in.isEmpty()) {
            throw new EvaluatorException(file + " holds only '" + LABELS + "'; it needs one tensor per graph input");
        }
        this.inputs = java.util.Collections.unmodifiableMap(in);
        for (TensorInfo info : in.values()) {
            requireFinite(file, info, checkpoint.bytes(info.name()));
        }
        this.labels = readLabels(checkpoint.bytes(LABELS), labelInfo.dtype(), size);
        for (int s = 0; s < size; s++) {
            if (labels[s] < 0) {
                throw new EvaluatorException("label " + labels[s] + " is negative at sample " + s + " in " + file);
            }
        }
    }

    /** Opens {@code file} and cuts it into batches of {@code batchSize} samples. */
    public static Dataset open(Path file, int batchSize) {
        if (batchSize <= 0) {
            throw new EvaluatorException("batch size must be positive, got " + batchSize);
        }
        Checkpoint cp;
        try {
            cp = Checkpoint.open(file);
        } catch (StorageException e) {
            throw new EvaluatorException("cannot read dataset " + file + ": " + e.getMessage(), e);
        }
        Dataset d = null;
        try {
            d = new Dataset(file, cp, batchSize);
            d.makeBatches();
            return d;
        } catch (RuntimeException e) {
            if (d != null) {
                d.close();
            } else {
                cp.close();
            }
            throw e;
        }
    }

    private void makeBatches() {
        for (int b = 0, start = 0; start < size; b++, start += batchSize) {
            int count = Math.min(batchSize, size - start);
            Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
            try {
                for (var e : inputs.entrySet()) {
                    tensors.put(e.getKey(), slice(e.getValue(), start, count));
                }
            } catch (RuntimeException ex) {
                tensors.values().forEach(OnnxTensor::close);
                throw ex;
            }
            batches.add(new Batch(this, b, start, count, tensors));
        }
    }

    /** A tensor over rows {@code [start, start+count)}, viewing the mapped file without a copy. */
    private OnnxTensor slice(TensorInfo info, int start, int count) {
        long[] shape = info.shape();
        long rowBytes = info.byteLength() / shape[0];
        MemorySegment rows = checkpoint.bytes(info.name()).asSlice(start * rowBytes, count * rowBytes);
        shape[0] = count;
        // ORT reads a direct buffer in place; safetensors data are little-endian, as is every
        // platform ORT ships for (a big-endian host would make ORT copy and misread).
        ByteBuffer view = rows.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        try {
            return OnnxTensor.createTensor(Ort.env(), view, shape, Ort.javaType(info.dtype()));
        } catch (OrtException e) {
            throw new EvaluatorException("cannot wrap '" + info.name() + "' of " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * NaN or an infinity in an input would be scored as a wrong answer without a word (even a whole
     * calibration set of NaN): refused, naming the file, the tensor and the first bad sample.
     */
    private static void requireFinite(Path file, TensorInfo info, MemorySegment seg) {
        if (!info.dtype().isFloating()) {
            return;
        }
        long count = info.elementCount();
        long bad = -1;
        double value = 0;
        switch (info.dtype()) {
            case F32 -> {
                var l = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < count && bad < 0; i++) {
                    float v = seg.getAtIndex(l, i);
                    if (!Float.isFinite(v)) {
                        bad = i;
                        value = v;
                    }
                }
            }
            case F64 -> {
                var l = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < count && bad < 0; i++) {
                    double v = seg.getAtIndex(l, i);
                    if (!Double.isFinite(v)) {
                        bad = i;
                        value = v;
                    }
                }
            }
            default -> { // F16, BF16: the exponent bits all set means NaN or an infinity
                var l = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
                int mask = info.dtype() == DType.BF16 ? 0x7F80 : 0x7C00;
                for (long i = 0; i < count && bad < 0; i++) {
                    short v = seg.getAtIndex(l, i);
                    if ((v & mask) == mask) {
                        bad = i;
                        value = info.dtype() == DType.BF16 ? Float.intBitsToFloat(v << 16) : Float.float16ToFloat(v);
                    }
                }
            }
        }
        if (bad >= 0) {
            long perSample = count / info.shape()[0];
            throw new EvaluatorException("input '" + info.name() + "' in " + file + " has non-finite value " + value + " at sample "
                    + (bad / perSample) + " (flat index " + bad + "); NaN and infinite inputs are refused");
        }
    }

    private static long[] readLabels(MemorySegment seg, DType dtype, int n) {
        long[] out = new long[n];
        if (dtype == DType.I64) {
            var layout = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out[i] = seg.getAtIndex(layout, i);
            }
        } else {
            var layout = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out[i] = seg.getAtIndex(layout, i);
            }
        }
        return out;
    }

    public Path file() {
        return file;
    }

    /** Number of samples N. */
    public int size() {
        return size;
    }

    public int batchSize() {
        return batchSize;
    }

    public int batchCount() {
        return batches.size();
    }

    public Batch batch(int index) {
        return batches.get(java.util.Objects.checkIndex(index, batches.size()));
    }

    /** Names of the input tensors (every tensor but {@value #LABELS}), sorted. */
    public Set<String> inputNames() {
        return inputs.keySet();
    }

    /** Header entry of an input tensor (its full shape, leading with N). */
    TensorInfo inputInfo(String name) {
        return inputs.get(name);
    }

    long label(int sample) {
        return labels[sample];
    }

    void checkLabels(int classes) {
        if (checkedClassCounts.contains(classes)) {
            return;
        }
        for (int s = 0; s < size; s++) {
            if (labels[s] >= classes) {
                throw new EvaluatorException("label " + labels[s] + " out of range [0, " + classes + ") at sample " + s
                        + " in " + file);
            }
        }
        checkedClassCounts.add(classes);
    }

    @Override
    public void close() {
        for (Batch b : batches) {
            b.inputs().values().forEach(OnnxTensor::close);
        }
        batches.clear();
        checkpoint.close();
    }
}
