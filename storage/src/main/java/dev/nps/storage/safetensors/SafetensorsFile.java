package dev.nps.storage.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.nps.storage.Checkpoint;
import dev.nps.storage.DType;
import dev.nps.storage.FloatCodec;
import dev.nps.storage.InputFiles;
import dev.nps.storage.StorageException;
import dev.nps.storage.TensorInfo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One memory-mapped safetensors file. The format: an 8-byte little-endian header length N, N
 * bytes of JSON mapping tensor names to {dtype, shape, data_offsets} (offsets relative to the
 * data section that follows), then the data. The whole header is validated on open, with the
 * same rules as the reference (Rust) implementation: tensors must tile the data section exactly
 * (no overlap, no gap, no trailing bytes) and each byte range must match dtype x shape.
 *
 * <p>Opening costs the header only: {@link #bytes} is a view of the mapping, and heap memory is
 * spent only by {@link #readFloats}. Views die with {@link #close}.
 */
public final class SafetensorsFile implements Checkpoint {
    /** The reference implementation's cap; a larger "length" means the file is not safetensors. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final TreeMap<String, TensorInfo> infos;
    private final List<String> names;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, TreeMap<String, TensorInfo> infos, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.infos = infos;
        this.names = List.copyOf(infos.keySet());
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        if (Files.isDirectory(path)) {
            throw new StorageException(path + " is a directory, not a safetensors file");
        }
        InputFiles.requireRegularFile(path, "safetensors file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment whole;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < 8) {
                    throw new StorageException(path + ": not a safetensors file (" + size + " bytes, shorter than the 8-byte header length)");
                }
                whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            SafetensorsFile file = parse(path, arena, whole);
            arena = null; // owned by the file now
            return file;
        } catch (IOException e) {
            throw StorageException.io("cannot open " + path, e);
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    private static SafetensorsFile parse(Path path, Arena arena, MemorySegment whole) {
        long size = whole.byteSize();
        long n = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new StorageException(path + ": header length " + Long.toUnsignedString(n) + " exceeds the " + MAX_HEADER_BYTES
                    + "-byte limit (not a safetensors file?)");
        }
        if (8 + n > size) {
            throw new StorageException(path + ": truncated: header length is " + n + " bytes but only " + (size - 8) + " bytes follow");
        }
        byte[] header = whole.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        MemorySegment data = whole.asSlice(8 + n);
        Header parsed = parseHeader(path.toString(), header, data.byteSize());
        return new SafetensorsFile(path, arena, data, parsed.infos(), parsed.metadata());
    }

    record Header(TreeMap<String, TensorInfo> infos, Map<String, String> metadata) {
    }

    /** Parses and validates a header against a data section of {@code dataLength} bytes. */
    static Header parseHeader(String file, byte[] header, long dataLength) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JacksonException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + " column " + loc.getColumnNr();
            throw new StorageException(file + ": header is not valid JSON" + where + ": " + oneLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw StorageException.io(file + ": cannot read header", e);
        }
        if (root == null || !root.isObject()) {
            throw new StorageException(file + ": header is not a JSON object");
        }
        TreeMap<String, TensorInfo> infos = new TreeMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            JsonNode node = e.getValue();
            if (name.equals(METADATA_KEY)) {
                metadata = parseMetadata(file, node);
            } else {
                infos.put(name, parseEntry(file, name, node, dataLength));
            }
        }
        checkLayout(file, infos.values(), dataLength);
        return new Header(infos, metadata);
    }

    private static Map<String, String> parseMetadata(String file, JsonNode node) {
        if (!node.isObject()) {
            throw new StorageException(file + ": " + METADATA_KEY + " must be an object of strings");
        }
        TreeMap<String, String> out = new TreeMap<>();
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new StorageException(file + ": " + METADATA_KEY + " value for '" + m.getKey() + "' is not a string");
            }
            out.put(m.getKey(), m.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(String file, String name, JsonNode node, long dataLength) {
        String where = file + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new StorageException(where + ": entry is not a JSON object");
        }
        JsonNode dtypeNode = required(where, node, "dtype");
        if (!dtypeNode.isTextual()) {
            throw new StorageException(where + ": dtype is not a string");
        }
        DType dtype = dtype(where, dtypeNode.textValue());
        long[] shape = nonNegativeLongs(where, "shape", required(where, node, "shape"), -1);
        long[] offsets = nonNegativeLongs(where, "data_offsets", required(where, node, "data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new StorageException(where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataLength) {
            throw new StorageException(where + ": data_offsets [" + begin + ", " + end + "] run past the " + dataLength
                    + "-byte data section (truncated file?)");
        }
        long bytes;
        try {
            long count = 1;
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            bytes = Math.multiplyExact(count, dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new StorageException(where + ": shape " + Arrays.toString(shape) + " is too large");
        }
        if (bytes != end - begin) {
            throw new StorageException(where + ": " + dtype + Arrays.toString(shape) + " needs " + bytes + " bytes but data_offsets ["
                    + begin + ", " + end + "] hold " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end - begin);
    }

    /** The tensors must tile [0, dataLength) exactly, as the reference implementation requires. */
    private static void checkLayout(String file, Iterable<TensorInfo> infos, long dataLength) {
        List<TensorInfo> byOffset = new ArrayList<>();
        infos.forEach(byOffset::add);
        byOffset.sort(Comparator.comparingLong(TensorInfo::dataOffset).thenComparingLong(TensorInfo::byteLength));
        long expected = 0;
        TensorInfo previous = null;
        for (TensorInfo t : byOffset) {
            if (t.dataOffset() < expected) {
                throw new StorageException(file + ": tensors '" + previous.name() + "' " + range(previous) + " and '" + t.name() + "' "
                        + range(t) + " overlap");
            }
            if (t.dataOffset() > expected) {
                throw new StorageException(file + ": tensor '" + t.name() + "' " + range(t) + " leaves unused bytes [" + expected + ", "
                        + t.dataOffset() + ") before it; safetensors requires tensors to be contiguous");
            }
            expected = t.dataOffset() + t.byteLength();
            previous = t;
        }
        if (expected != dataLength) {
            throw new StorageException(file + ": " + (dataLength - expected) + " bytes after the last tensor's data (data section is "
                    + dataLength + " bytes, tensors cover " + expected + ")");
        }
    }

    private static String range(TensorInfo t) {
        return "[" + t.dataOffset() + ", " + (t.dataOffset() + t.byteLength()) + "]";
    }

    private static JsonNode required(String where, JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new StorageException(where + ": missing '" + key + "'");
        }
        return v;
    }

    private static DType dtype(String where, String name) {
        for (DType d : DType.values()) {
            if (d.safetensorsName().equals(name)) {
                return d;
            }
        }
        throw new StorageException(where + ": unsupported dtype '" + name + "'");
    }

    private static long[] nonNegativeLongs(String where, String key, JsonNode node, int requiredLength) {
        if (!node.isArray() || (requiredLength >= 0 && node.size() != requiredLength)) {
            throw new StorageException(where + ": '" + key + "' must be an array of " + (requiredLength >= 0 ? requiredLength + " " : "")
                    + "non-negative integers");
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new StorageException(where + ": '" + key + "' entry " + v + " is not a non-negative 64-bit integer");
            }
            out[i] = v.longValue();
        }
        return out;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /** The file this checkpoint was opened from. */
    public Path path() {
        return path;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return infos.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo t = infos.get(name);
        if (t == null) {
            throw new StorageException(path + ": no tensor '" + name + "'");
        }
        return t;
    }

    @Override
    public MemorySegment bytes(String name) {
        TensorInfo t = info(name);
        return data.asSlice(t.dataOffset(), t.byteLength());
    }

    @Override
    public float[] readFloats(String name) {
        TensorInfo t = info(name);
        if (!t.dtype().isFloating()) {
            throw new StorageException(path + ": tensor '" + name + "' is " + t.dtype() + ", not a floating type");
        }
        int count = FloatCodec.arrayLength(path + ": tensor '" + name + "'", t.elementCount());
        return FloatCodec.decode(bytes(name), t.dtype(), count);
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + infos.size() + " tensors]";
    }
}
