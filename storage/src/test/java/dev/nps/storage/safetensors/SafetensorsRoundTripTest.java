package dev.nps.storage.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.storage.Checkpoint;
import dev.nps.storage.DType;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.StorageException;
import dev.nps.storage.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextGaussian() * 3);
        }
        return f;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64", "F16", "BF16"})
    void floatsRoundTripThroughEveryFloatingDtype(DType dtype) {
        float[] data = randomFloats(60, 1);
        // Values already representable in the target type must come back bit-exact.
        float[] representable = dtype == DType.F32 || dtype == DType.F64 ? data : floatsThrough(data, dtype);
        Path p = dir.resolve("t.safetensors");
        new SafetensorsWriter().addFloats("w", new long[] {3, 4, 5}, representable, dtype).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            TensorInfo info = f.info("w");
            assertEquals(dtype, info.dtype());
            assertArrayEquals(new long[] {3, 4, 5}, info.shape());
            assertEquals(60L * dtype.byteSize(), info.byteLength());
            assertArrayEquals(representable, f.readFloats("w"));
        }
    }

    /** The value after a trip through {@code dtype}'s rounding, computed independently of FloatCodec. */
    private static float[] floatsThrough(float[] data, DType dtype) {
        float[] out = new float[data.length];
        for (int i = 0; i < data.length; i++) {
            out[i] = switch (dtype) {
                case F16 -> Float.float16ToFloat(Float.floatToFloat16(data[i]));
                case BF16 -> bf16(data[i]);
                default -> throw new AssertionError();
            };
        }
        return out;
    }

    /** Round-to-nearest-even to bfloat16, written with BigDecimal-free integer logic on the bits. */
    private static float bf16(float f) {
        int bits = Float.floatToIntBits(f);
        int lower = bits & 0xFFFF;
        int upper = bits & 0xFFFF0000;
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 0x10000) != 0)) {
            upper += 0x10000;
        }
        return Float.intBitsToFloat(upper);
    }

    @Test
    void rawBytesOfEveryDtypeRoundTrip() {
        Path p = dir.resolve("all.safetensors");
        SafetensorsWriter w = new SafetensorsWriter().metadata("k", "v").metadata(Map.of("format", "pt"));
        TreeMap<String, byte[]> expected = new TreeMap<>();
        int i = 0;
        for (DType d : DType.values()) {
            byte[] b = new byte[6 * d.byteSize()];
            for (int j = 0; j < b.length; j++) {
                b[j] = (byte) (31 * i + j);
            }
            // BOOL must be 0/1 for other readers; the format itself does not care.
            if (d == DType.BOOL) {
                b = new byte[] {1, 0, 1, 1, 0, 0};
            }
            w.add("t_" + d, d, new long[] {2, 3}, b);
            expected.put("t_" + d, b);
            i++;
        }
        w.add("scalar", DType.F32, new long[] {}, new byte[] {0, 0, (byte) 0x80, 0x3f});
        w.add("empty", DType.I64, new long[] {0, 7}, new byte[0]);
        w.addLongs("longs", new long[] {3}, new long[] {Long.MIN_VALUE, -1, Long.MAX_VALUE});
        w.write(p);
        try (Checkpoint c = Checkpoint.open(p)) {
            assertEquals(Map.of("k", "v", "format", "pt"), c.metadata());
            List<String> names = c.names();
            assertEquals(names.stream().sorted().toList(), names);
            assertEquals(DType.values().length + 3, names.size());
            expected.forEach((name, bytes) -> assertArrayEquals(bytes, c.bytes(name).toArray(ValueLayout.JAVA_BYTE), name));
            assertArrayEquals(new float[] {1f}, c.readFloats("scalar"));
            assertArrayEquals(new long[] {}, c.info("scalar").shape());
            assertEquals(0, c.bytes("empty").byteSize());
            MemorySegment longs = c.bytes("longs");
            ValueLayout.OfLong le = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertEquals(Long.MIN_VALUE, longs.getAtIndex(le, 0));
            assertEquals(Long.MAX_VALUE, longs.getAtIndex(le, 2));
            StorageException e = assertThrows(StorageException.class, () -> c.readFloats("t_I64"));
            assertTrue(e.getMessage().contains("'t_I64' is I64, not a floating type"), e.getMessage());
            // readAllFloats leaves integer tensors out.
            assertEquals(List.of("scalar", "t_BF16", "t_F16", "t_F32", "t_F64"), List.copyOf(c.readAllFloats().names()));
        }
    }

    @Test
    void layoutMatchesTheReference() throws Exception {
        Path p = dir.resolve("layout.safetensors");
        new SafetensorsWriter().addFloats("z", new long[] {1}, new float[] {1}, DType.F32)
                .addFloats("a", new long[] {3}, new float[] {1, 2, 3}, DType.F16).write(p);
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header padded to 8 bytes");
        String header = new String(bytes, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(header.endsWith("}") || header.matches("(?s).*} +"), header);
        assertTrue(header.indexOf("\"a\"") < header.indexOf("\"z\""), "name order: " + header);
        assertTrue(header.contains("\"data_offsets\":[0,6]") && header.contains("\"data_offsets\":[6,10]"), header);
        assertEquals(8 + n + 10, bytes.length);
    }

    @Test
    void parameterSetConvenienceWritesF32() {
        ParameterSet ps = new ParameterSet(Map.of(
                "b", new FloatTensor(new long[] {2}, new float[] {1, 2}),
                "a", new FloatTensor(new long[] {1, 1}, new float[] {-3})));
        Path p = dir.resolve("ps.safetensors");
        SafetensorsWriter.write(p, ps, Map.of("source", "test"));
        try (Checkpoint c = Checkpoint.open(p)) {
            assertEquals(DType.F32, c.info("a").dtype());
            ParameterSet back = c.readAllFloats();
            assertEquals(ps.names(), back.names());
            for (String name : ps.names()) {
                assertArrayEquals(ps.get(name).data(), back.get(name).data());
                assertArrayEquals(ps.get(name).shape(), back.get(name).shape());
            }
        }
    }

    @Test
    void largeTensorsCrossTheWritersChunkBoundaries() {
        float[] big = randomFloats((1 << 20) + 3, 7); // > 1 MiB chunk in every dtype
        Path p = dir.resolve("big.safetensors");
        new SafetensorsWriter().addFloats("big", new long[] {big.length}, big, DType.F64)
                .addFloats("big32", new long[] {big.length}, big, DType.F32).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(big, f.readFloats("big"));
            assertArrayEquals(big, f.readFloats("big32"));
            // Copy raw bytes from one open file into a new one: the zero-copy path.
            Path q = dir.resolve("copy.safetensors");
            new SafetensorsWriter().add("big32", DType.F32, f.info("big32").shape(), f.bytes("big32")).write(q);
            try (SafetensorsFile g = SafetensorsFile.open(q)) {
                assertArrayEquals(big, g.readFloats("big32"));
            }
        }
    }

    @Test
    void writerRefusesInconsistentInput() {
        SafetensorsWriter w = new SafetensorsWriter();
        assertThrows(StorageException.class, () -> w.addFloats("x", new long[] {2, 2}, new float[3], DType.F32));
        assertThrows(StorageException.class, () -> w.add("x", DType.F32, new long[] {2}, new byte[7]));
        assertThrows(StorageException.class, () -> w.addFloats("x", new long[] {1}, new float[1], DType.I32));
        assertThrows(StorageException.class, () -> w.add("__metadata__", DType.U8, new long[] {1}, new byte[1]));
        w.add("x", DType.U8, new long[] {1}, new byte[1]);
        StorageException dup = assertThrows(StorageException.class, () -> w.add("x", DType.U8, new long[] {1}, new byte[1]));
        assertEquals("tensor 'x' added twice", dup.getMessage());
    }

    @Test
    void viewsDieWithTheFile() {
        Path p = dir.resolve("c.safetensors");
        new SafetensorsWriter().addFloats("w", new long[] {2}, new float[] {1, 2}, DType.F32).write(p);
        MemorySegment view;
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            view = f.bytes("w");
            assertEquals(8, view.byteSize());
        }
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void replacingAnExistingFileIsAtomicAndLeavesNoTemporaryFiles() throws Exception {
        Path p = dir.resolve("r.safetensors");
        new SafetensorsWriter().addFloats("w", new long[] {1}, new float[] {1}, DType.F32).write(p);
        new SafetensorsWriter().addFloats("w", new long[] {2}, new float[] {5, 6}, DType.F32).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {5, 6}, f.readFloats("w"));
        }
        try (var s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList());
        }
    }
}
