package dev.nps.storage.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nps.storage.AtomicFiles;
import dev.nps.storage.DType;
import dev.nps.storage.FloatCodec;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.Shapes;
import dev.nps.storage.StorageException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds a safetensors file and writes it atomically ({@link AtomicFiles}). Tensors are laid out
 * contiguously in name order and the JSON header is padded with spaces so the data section
 * starts at a multiple of 8, as the reference implementation does. Sources are kept by
 * reference and encoded while writing, so a large checkpoint is never held twice.
 */
public final class SafetensorsWriter {
    private static final int CHUNK = 1 << 20;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private sealed interface Source {
    }

    private record Raw(MemorySegment bytes) implements Source {
    }

    private record Floats(float[] data) implements Source {
    }

    private record Longs(long[] data) implements Source {
    }

    private record Entry(DType dtype, long[] shape, long byteLength, Source source) {
    }

    private final TreeMap<String, Entry> entries = new TreeMap<>();
    private final TreeMap<String, String> metadata = new TreeMap<>();

    /** Writes {@code params} as F32 with the given header metadata. */
    public static void write(Path target, ParameterSet params, Map<String, String> metadata) {
        new SafetensorsWriter().metadata(metadata).addAll(params, DType.F32).write(target);
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter metadata(Map<String, String> values) {
        values.forEach(this::metadata);
        return this;
    }

    /** Raw little-endian bytes of any dtype; the array is not copied. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] littleEndian) {
        return add(name, dtype, shape, MemorySegment.ofArray(littleEndian));
    }

    /** Raw little-endian bytes, e.g. {@link SafetensorsFile#bytes} of another file (must stay open until written). */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment littleEndian) {
        return put(name, dtype, shape, littleEndian.byteSize(), new Raw(littleEndian));
    }

    /** Float data stored as {@code as} (F32, F16, BF16 or F64; F16/BF16 round to nearest even). */
    public SafetensorsWriter addFloats(String name, long[] shape, float[] data, DType as) {
        if (!as.isFloating()) {
            throw new StorageException("tensor '" + name + "': cannot store floats as " + as);
        }
        checkCount(name, shape, data.length);
        return put(name, as, shape, (long) data.length * as.byteSize(), new Floats(data));
    }

    public SafetensorsWriter addLongs(String name, long[] shape, long[] data) {
        checkCount(name, shape, data.length);
        return put(name, DType.I64, shape, (long) data.length * 8, new Longs(data));
    }

    public SafetensorsWriter addAll(ParameterSet params, DType as) {
        params.asMap().forEach((name, t) -> addFloats(name, t.shape(), t.data(), as));
        return this;
    }

    public SafetensorsWriter add(String name, FloatTensor t, DType as) {
        return addFloats(name, t.shape(), t.data(), as);
    }

    private static void checkCount(String name, long[] shape, int length) {
        if (Shapes.elementCount(shape) != length) {
            throw new StorageException("tensor '" + name + "': shape " + Arrays.toString(shape) + " does not hold " + length + " elements");
        }
    }

    private SafetensorsWriter put(String name, DType dtype, long[] shape, long byteLength, Source source) {
        if (name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new StorageException("'" + name + "' is reserved for the metadata and cannot name a tensor");
        }
        long expected = Math.multiplyExact(Shapes.elementCount(shape), dtype.byteSize());
        if (expected != byteLength) {
            throw new StorageException("tensor '" + name + "': " + dtype + Arrays.toString(shape) + " needs " + expected + " bytes, got " + byteLength);
        }
        if (entries.putIfAbsent(name, new Entry(dtype, shape.clone(), byteLength, source)) != null) {
            throw new StorageException("tensor '" + name + "' added twice");
        }
        return this;
    }

    /** The header as it will be written, padded to a multiple of 8 bytes. */
    byte[] header() {
        ObjectNode root = SafetensorsFile.JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            Entry t = e.getValue();
            ObjectNode node = root.putObject(e.getKey());
            node.put("dtype", t.dtype().safetensorsName());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            node.putArray("data_offsets").add(offset).add(offset + t.byteLength());
            offset += t.byteLength();
        }
        byte[] json;
        try {
            json = SafetensorsFile.JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    public void write(Path target) {
        byte[] header = header();
        AtomicFiles.write(target, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer scratch = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            MemorySegment scratchSeg = MemorySegment.ofBuffer(scratch);
            for (Entry e : entries.values()) {
                switch (e.source()) {
                    case Raw(MemorySegment bytes) -> {
                        for (long off = 0; off < bytes.byteSize(); off += CHUNK) {
                            writeFully(ch, bytes.asSlice(off, Math.min(CHUNK, bytes.byteSize() - off)).asByteBuffer());
                        }
                    }
                    case Floats(float[] data) -> {
                        int per = CHUNK / e.dtype().byteSize();
                        for (int from = 0; from < data.length; from += per) {
                            int n = Math.min(per, data.length - from);
                            FloatCodec.encode(data, from, n, e.dtype(), scratchSeg, 0);
                            writeFully(ch, scratch.clear().limit(n * e.dtype().byteSize()));
                        }
                    }
                    case Longs(long[] data) -> {
                        int per = CHUNK / 8;
                        for (int from = 0; from < data.length; from += per) {
                            int n = Math.min(per, data.length - from);
                            MemorySegment.copy(data, from, scratchSeg, I64, 0, n);
                            writeFully(ch, scratch.clear().limit(n * 8));
                        }
                    }
                }
            }
        });
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
