package dev.nps.storage.sparse;

import dev.nps.storage.AtomicFiles;
import dev.nps.storage.FloatCodec;
import dev.nps.storage.InputFiles;
import dev.nps.storage.StorageException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The NPSSPARS file: fixed header, tensor list, metadata, Elias-Fano indices, values, CRC32C.
 * All integers little-endian; docs/compression-format.md has the byte-level table.
 */
final class SparseFormat {
    private SparseFormat() {
    }

    static final byte[] MAGIC = "NPSSPARS".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int INDEX_ELIAS_FANO = 0;
    /** magic 8, version 2, encoding 1, index coding 1, low bits 1, reserved 3, n 8, k 8, tensor count 4. */
    static final int FIXED_BYTES = 36;
    /** The fixed header, an empty metadata count and the checksum: no valid file is shorter. */
    static final int MIN_FILE_BYTES = FIXED_BYTES + 4 + 4;
    static final int CHECKSUM_BYTES = 4;
    private static final int CHUNK = 1 << 20;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // ---------------------------------------------------------------- writing

    static byte[] header(FlatLayout layout, long k, ValueEncoding enc, Map<String, String> metadata) {
        long n = layout.size();
        Le out = new Le();
        out.bytes(MAGIC);
        out.u16(VERSION);
        out.u8(enc.code());
        out.u8(INDEX_ELIAS_FANO);
        out.u8(EliasFano.lowBits(n, k));
        out.u8(0).u8(0).u8(0);
        out.u64(n);
        out.u64(k);
        out.u32(layout.tensors().size());
        for (FlatLayout.Tensor t : layout.tensors()) {
            out.string16(t.name(), "tensor name");
            long[] shape = t.shape();
            if (shape.length > 255) {
                throw new StorageException("tensor '" + t.name() + "' has rank " + shape.length + "; the sparse format allows 255");
            }
            out.u8(shape.length);
            for (long d : shape) {
                out.u64(d);
            }
        }
        SortedMap<String, String> sorted = new TreeMap<>(metadata);
        out.u32(sorted.size());
        sorted.forEach((key, value) -> {
            out.string16(key, "metadata key");
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            out.u32(v.length);
            out.bytes(v);
        });
        return out.toByteArray();
    }

    static SparseTaskVector.Sizes sizes(FlatLayout layout, long k, ValueEncoding enc, Map<String, String> metadata) {
        long n = layout.size();
        int l = EliasFano.lowBits(n, k);
        long index = EliasFano.bytes(k * l) + EliasFano.bytes(EliasFano.upperBitCount(n, k, l));
        return new SparseTaskVector.Sizes(header(layout, k, enc, metadata).length, index, k * enc.byteSize(), CHECKSUM_BYTES);
    }

    static void write(SparseTaskVector v, Path path, ValueEncoding enc, Map<String, String> metadata) {
        float[] values = v.valuesUnsafe();
        if (enc == ValueEncoding.F16) {
            for (int i = 0; i < values.length; i++) {
                if (Float.isInfinite(ValueEncoding.F16.round(values[i]))) {
                    throw new StorageException("cannot write " + path + " as F16: value " + values[i] + " at flat index "
                            + v.index(i) + " overflows half precision (max 65504); use F32");
                }
            }
        }
        EliasFano.Encoded ef = EliasFano.encode(v.indicesUnsafe(), v.n());
        byte[] header = header(v.layout(), v.k(), enc, metadata);
        AtomicFiles.write(path, ch -> {
            CRC32C crc = new CRC32C();
            put(ch, crc, ByteBuffer.wrap(header));
            putWords(ch, crc, ef.lower(), EliasFano.bytes(ef.lowerBitCount()));
            putWords(ch, crc, ef.upper(), EliasFano.bytes(ef.upperBitCount()));
            ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : values) {
                if (buf.remaining() < 4) {
                    put(ch, crc, buf.flip());
                    buf.clear();
                }
                switch (enc) {
                    case F32 -> buf.putInt(Float.floatToRawIntBits(x));
                    case F16 -> buf.putShort(Float.floatToFloat16(x));
                }
            }
            put(ch, crc, buf.flip());
            ByteBuffer trailer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).flip();
            while (trailer.hasRemaining()) {
                ch.write(trailer);
            }
        });
    }

    private static void putWords(FileChannel ch, CRC32C crc, long[] words, long byteCount) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        long left = byteCount;
        for (long w : words) {
            if (buf.remaining() < 8) {
                put(ch, crc, buf.flip());
                buf.clear();
            }
            for (int b = 0; b < 8 && left > 0; b++, left--) {
                buf.put((byte) (w >>> (8 * b)));
            }
        }
        put(ch, crc, buf.flip());
    }

    private static void put(FileChannel ch, CRC32C crc, ByteBuffer buf) throws IOException {
        crc.update(buf.duplicate());
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    // ---------------------------------------------------------------- reading

    private record Header(FlatLayout layout, long n, int k, ValueEncoding encoding, int lowBits,
            Map<String, String> metadata, long headerBytes, long lowerBytes, long upperBytes, long fileBytes) {
    }

    static SparseTaskVector.Stored read(Path path) {
        if (Files.isDirectory(path)) {
            throw new StorageException(path + " is a directory, not a sparse task vector file");
        }
        InputFiles.requireRegularFile(path, "sparse task vector file");
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return parse(seg, size, path);
        } catch (IOException e) {
            throw StorageException.io("cannot read " + path, e);
        }
    }

    private static SparseTaskVector.Stored parse(MemorySegment seg, long size, Path path) {
        if (size >= MAGIC.length && MemorySegment.mismatch(seg, 0, MAGIC.length, MemorySegment.ofArray(MAGIC), 0, MAGIC.length) != -1) {
            throw new StorageException(path + ": not an NPS sparse task vector (bad magic, expected \"NPSSPARS\")");
        }
        if (size < MIN_FILE_BYTES) {
            throw new StorageException(path + ": truncated: " + size + " bytes, shorter than the smallest valid file (" + MIN_FILE_BYTES + " bytes)");
        }
        int version = Short.toUnsignedInt(seg.get(I16, 8));
        if (version != VERSION) {
            throw new StorageException(path + ": unsupported sparse format version " + version + " (this reader knows version " + VERSION + ")");
        }
        long body = size - CHECKSUM_BYTES;
        int stored = seg.get(I32, body);
        int computed = crc32c(seg, body);
        Header h = null;
        String problem = null;
        try {
            h = parseHeader(seg, body);
        } catch (StorageException e) {
            problem = e.getMessage();
        }
        // A truncated or extended file also fails the checksum; the size the header announces says which it is.
        if (h != null && h.fileBytes() != size) {
            throw new StorageException(path + ": " + (size < h.fileBytes() ? "truncated" : "trailing data or corrupt header")
                    + ": the header describes a " + h.fileBytes() + "-byte file but it has " + size + " bytes");
        }
        if (stored != computed) {
            throw new StorageException(path + ": checksum mismatch (stored CRC32C " + hex(stored) + ", computed " + hex(computed)
                    + "): the file is corrupt" + (problem == null ? "" : " (" + problem + ")"));
        }
        if (problem != null) {
            throw new StorageException(path + ": " + problem);
        }
        EliasFano.Encoded ef = new EliasFano.Encoded(h.n(), h.k(), h.lowBits(),
                words(seg, h.headerBytes(), h.lowerBytes()), words(seg, h.headerBytes() + h.lowerBytes(), h.upperBytes()));
        long[] indices;
        try {
            indices = EliasFano.decode(ef);
        } catch (StorageException e) {
            throw new StorageException(path + ": " + e.getMessage(), e);
        }
        long at = h.headerBytes() + h.lowerBytes() + h.upperBytes();
        float[] values = new float[h.k()];
        switch (h.encoding()) {
            case F32 -> MemorySegment.copy(seg, F32, at, values, 0, values.length);
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = Float.float16ToFloat(seg.get(I16, at + 2L * i));
                }
            }
        }
        SparseTaskVector v;
        try {
            v = SparseTaskVector.trusted(h.layout(), indices, values);
        } catch (StorageException e) {
            throw new StorageException(path + ": " + e.getMessage(), e);
        }
        return new SparseTaskVector.Stored(v, h.encoding(), h.metadata(),
                new SparseTaskVector.Sizes(h.headerBytes(), h.lowerBytes() + h.upperBytes(), (long) h.k() * h.encoding().byteSize(), CHECKSUM_BYTES));
    }

    private static Header parseHeader(MemorySegment seg, long limit) {
        Cursor c = new Cursor(seg, limit);
        c.skip(MAGIC.length + 2);
        int encCode = c.u8();
        ValueEncoding enc = ValueEncoding.ofCode(encCode);
        if (enc == null) {
            throw new StorageException("unknown value encoding code " + encCode + " (0 = F32, 1 = F16)");
        }
        int indexCoding = c.u8();
        if (indexCoding != INDEX_ELIAS_FANO) {
            throw new StorageException("unknown index coding " + indexCoding + " (0 = Elias-Fano)");
        }
        int lowBits = c.u8();
        if (c.u8() != 0 || c.u8() != 0 || c.u8() != 0) {
            throw new StorageException("reserved header bytes are not zero");
        }
        long n = c.u64();
        long k = c.u64();
        if (n < 0 || k < 0 || k > n) {
            throw new StorageException("header has k=" + Long.toUnsignedString(k) + " kept of n=" + Long.toUnsignedString(n) + " entries");
        }
        int k32 = FloatCodec.arrayLength("the kept-value list", k);
        if (lowBits != EliasFano.lowBits(n, k)) {
            throw new StorageException("header has " + lowBits + " Elias-Fano low bits, expected " + EliasFano.lowBits(n, k) + " for n=" + n + ", k=" + k);
        }
        long tensorCount = c.u32();
        // Each tensor takes at least 3 bytes: a bound that keeps a corrupt count from allocating.
        if (tensorCount * 3 > c.remaining()) {
            throw new StorageException("truncated header: " + tensorCount + " tensors cannot fit in the remaining " + c.remaining() + " bytes");
        }
        List<FlatLayout.Tensor> tensors = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = c.string(c.u16(), "tensor name");
            int rank = c.u8();
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++) {
                shape[d] = c.u64();
                if (shape[d] < 0) {
                    throw new StorageException("tensor '" + name + "' has dimension " + Long.toUnsignedString(shape[d]));
                }
            }
            tensors.add(new FlatLayout.Tensor(name, shape));
        }
        FlatLayout layout;
        try {
            layout = new FlatLayout(tensors);
        } catch (ArithmeticException e) {
            throw new StorageException("tensor sizes overflow a 64-bit count");
        }
        if (layout.size() != n) {
            throw new StorageException("header says n=" + n + " but its tensors hold " + layout.size() + " entries");
        }
        long metaCount = c.u32();
        if (metaCount * 6 > c.remaining()) {
            throw new StorageException("truncated header: " + metaCount + " metadata entries cannot fit in the remaining " + c.remaining() + " bytes");
        }
        TreeMap<String, String> metadata = new TreeMap<>();
        for (long i = 0; i < metaCount; i++) {
            String key = c.string(c.u16(), "metadata key");
            String value = c.string(c.u32(), "metadata value");
            if (metadata.put(key, value) != null) {
                throw new StorageException("metadata key '" + key + "' appears twice");
            }
        }
        long headerBytes = c.position();
        long lowerBytes = EliasFano.bytes(k * lowBits);
        long upperBytes = EliasFano.bytes(EliasFano.upperBitCount(n, k, lowBits));
        long fileBytes;
        try {
            fileBytes = Math.addExact(Math.addExact(headerBytes, lowerBytes + upperBytes),
                    Math.addExact(Math.multiplyExact(k, (long) enc.byteSize()), CHECKSUM_BYTES));
        } catch (ArithmeticException e) {
            throw new StorageException("header describes a file larger than 2^63 bytes");
        }
        return new Header(layout, n, k32, enc, lowBits, Collections.unmodifiableSortedMap(metadata), headerBytes, lowerBytes, upperBytes, fileBytes);
    }

    private static long[] words(MemorySegment seg, long at, long byteCount) {
        long[] out = new long[EliasFano.words(byteCount * 8, "an Elias-Fano section")];
        long full = byteCount / 8;
        MemorySegment.copy(seg, I64, at, out, 0, (int) full);
        for (long b = full * 8; b < byteCount; b++) {
            out[(int) full] |= (seg.get(ValueLayout.JAVA_BYTE, at + b) & 0xFFL) << (8 * (b - full * 8));
        }
        return out;
    }

    private static int crc32c(MemorySegment seg, long length) {
        CRC32C crc = new CRC32C();
        for (long at = 0; at < length; at += 1L << 30) {
            crc.update(seg.asSlice(at, Math.min(1L << 30, length - at)).asByteBuffer());
        }
        return (int) crc.getValue();
    }

    private static String hex(int v) {
        return String.format("0x%08x", v);
    }

    /** Bounds-checked little-endian reads: running past {@code limit} is a truncated header. */
    private static final class Cursor {
        private final MemorySegment seg;
        private final long limit;
        private long pos;

        Cursor(MemorySegment seg, long limit) {
            this.seg = seg;
            this.limit = limit;
        }

        long position() {
            return pos;
        }

        long remaining() {
            return limit - pos;
        }

        private long take(long n) {
            if (n > limit - pos) {
                throw new StorageException("truncated header: needs " + n + " more bytes at offset " + pos + " but only " + (limit - pos) + " remain");
            }
            long at = pos;
            pos += n;
            return at;
        }

        void skip(long n) {
            take(n);
        }

        int u8() {
            return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, take(1)));
        }

        int u16() {
            return Short.toUnsignedInt(seg.get(I16, take(2)));
        }

        long u32() {
            return Integer.toUnsignedLong(seg.get(I32, take(4)));
        }

        long u64() {
            return seg.get(I64, take(8));
        }

        String string(long length, String what) {
            long at = take(length);
            byte[] b = seg.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw new StorageException(what + " at offset " + at + " is not valid UTF-8");
            }
        }
    }

    /** Little-endian header builder. */
    private static final class Le {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Le u8(int v) {
            out.write(v);
            return this;
        }

        Le u16(int v) {
            return u8(v).u8(v >>> 8);
        }

        Le u32(long v) {
            return u16((int) v & 0xFFFF).u16((int) (v >>> 16) & 0xFFFF);
        }

        Le u64(long v) {
            return u32(v & 0xFFFFFFFFL).u32(v >>> 32);
        }

        Le bytes(byte[] b) {
            out.write(b, 0, b.length);
            return this;
        }

        void string16(String s, String what) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > 0xFFFF) {
                throw new StorageException(what + " '" + s.substring(0, 40) + "...' is longer than 65535 UTF-8 bytes");
            }
            u16(b.length);
            bytes(b);
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
