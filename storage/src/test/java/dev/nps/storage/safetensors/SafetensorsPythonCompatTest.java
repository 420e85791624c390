package dev.nps.storage.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nps.storage.DType;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files written by the reference implementation (fixtures/make_python_fixtures.py). */
class SafetensorsPythonCompatTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        try {
            return Path.of(SafetensorsPythonCompatTest.class.getResource("/fixtures/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static final double[] VALS = {0.0, -0.0, 1.0, -2.5, 3.140625, 1e-3, 65504.0, -1.0e-8, 1.0 / 3.0, 123.456};

    @Test
    void readsEveryDtypeThePythonLibraryWrites() {
        try (SafetensorsFile f = SafetensorsFile.open(fixture("python_all_dtypes.safetensors"))) {
            assertEquals(Map.of("format", "np", "note", "fixture"), f.metadata());
            float[] asFloat = new float[VALS.length];
            for (int i = 0; i < VALS.length; i++) {
                asFloat[i] = (float) VALS[i];
            }
            assertArrayEquals(asFloat, f.readFloats("f64"));
            assertArrayEquals(new long[] {2, 5}, f.info("f64").shape());
            assertArrayEquals(asFloat, f.readFloats("f32"));
            // numpy's float64 -> float16 rounding, as printed by Python.
            assertArrayEquals(new float[] {0.0f, -0.0f, 1.0f, -2.5f, 3.140625f, 0.0010004043579101562f, 65504.0f, -0.0f,
                    0.333251953125f, 123.4375f}, f.readFloats("f16"));
            assertArrayEquals(new float[] {7.5f}, f.readFloats("scalar"));
            assertArrayEquals(new long[] {}, f.info("scalar").shape());
            assertArrayEquals(new float[0], f.readFloats("empty"));
            assertArrayEquals(new long[] {0, 3}, f.info("empty").shape());
            var le64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertEquals(-(1L << 62), f.bytes("i64").getAtIndex(le64, 0));
            assertEquals(1L << 62, f.bytes("i64").getAtIndex(le64, 4));
            var le32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertEquals(Integer.MIN_VALUE, f.bytes("i32").getAtIndex(le32, 0));
            assertArrayEquals(new byte[] {(byte) 0x00, (byte) 0x80, 7, 0, (byte) 0xff, 0x7f}, f.bytes("i16").toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new byte[] {-128, 0, 127}, f.bytes("i8").toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new byte[] {0, (byte) 200, (byte) 255}, f.bytes("u8").toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new byte[] {1, 0, 1}, f.bytes("bool").toArray(ValueLayout.JAVA_BYTE));
            assertEquals(DType.BOOL, f.info("bool").dtype());
        }
    }

    @Test
    void bfloat16MatchesTorchRoundingBothWays() {
        // torch.tensor(VALS, float32).to(bfloat16), as printed by Python.
        float[] torchBf16 = {0.0f, -0.0f, 1.0f, -2.5f, 3.140625f, 0.00099945068359375f, 65536.0f, -1.0011717677116394e-08f,
                0.333984375f, 123.5f};
        try (SafetensorsFile py = SafetensorsFile.open(fixture("python_bf16.safetensors"))) {
            assertArrayEquals(torchBf16, py.readFloats("bf16"));
            float[] f32 = new float[VALS.length];
            for (int i = 0; i < f32.length; i++) {
                f32[i] = (float) VALS[i];
            }
            Path p = dir.resolve("bf16.safetensors");
            new SafetensorsWriter().addFloats("bf16", new long[] {VALS.length}, f32, DType.BF16).write(p);
            try (SafetensorsFile ours = SafetensorsFile.open(p)) {
                assertArrayEquals(py.bytes("bf16").toArray(ValueLayout.JAVA_BYTE), ours.bytes("bf16").toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }

    @Test
    void writerOutputIsByteIdenticalToThePythonLibrary() throws Exception {
        Path expected = fixture("python_f32.safetensors");
        float[] b = new float[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (float) i / 7; // numpy: float32(arange) / 7 in float32
        }
        Path p = dir.resolve("ours.safetensors");
        new SafetensorsWriter().metadata("producer", "nps-test")
                .addFloats("c", new long[] {1}, new float[] {3f}, DType.F32)
                .addFloats("b.weight", new long[] {2, 3}, b, DType.F32)
                .addFloats("a.bias", new long[] {3}, new float[] {1.5f, -2f, 0.25f}, DType.F32)
                .write(p);
        assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(p));
    }
}
