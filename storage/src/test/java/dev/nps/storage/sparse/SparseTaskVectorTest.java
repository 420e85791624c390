package dev.nps.storage.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseTaskVectorTest {
    @TempDir
    Path dir;

    private static final Map<String, String> META = Map.of("task", "mnist", "keep", "0.05", "method", "nps");

    /** Tensors of several ranks, including a scalar and an empty one, in unsorted insertion order. */
    private static ParameterSet randomTau(long seed, double density) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, long[]> shapes = new TreeMap<>();
        shapes.put("z.bias", new long[] {17});
        shapes.put("a.weight", new long[] {13, 11});
        shapes.put("m.conv", new long[] {3, 2, 5, 5});
        shapes.put("scalar", new long[] {});
        shapes.put("empty", new long[] {0, 4});
        Map<String, FloatTensor> out = new TreeMap<>();
        shapes.forEach((name, shape) -> {
            int size = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            float[] d = new float[size];
            for (int i = 0; i < size; i++) {
                if (rnd.nextDouble() < density) {
                    // Wide magnitudes, both signs, and values F16 must round or flush.
                    d[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-9, 4)));
                }
            }
            out.put(name, new FloatTensor(shape, d));
        });
        return new ParameterSet(out);
    }

    private static void assertBitwiseEqual(ParameterSet expected, ParameterSet actual) {
        assertEquals(expected.names(), actual.names());
        for (String name : expected.names()) {
            assertArrayEquals(expected.get(name).shape(), actual.get(name).shape(), name);
            float[] e = expected.get(name).data();
            float[] a = actual.get(name).data();
            for (int i = 0; i < e.length; i++) {
                assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]), name + "[" + i + "]");
            }
        }
    }

    @Test
    void roundTripIsBitExactForBothEncodingsAndAllDensities() {
        int file = 0;
        for (double density : new double[] {0, 0.01, 0.05, 0.3, 0.9, 1}) {
            ParameterSet tau = randomTau(Double.hashCode(density), density);
            if (density == 1) {
                // Dense: make sure no accidental zero slipped in, so k = n.
                tau = tau.map(d -> {
                    for (int i = 0; i < d.length; i++) {
                        d[i] = d[i] == 0 ? 1e-3f : d[i];
                    }
                    return d;
                });
            }
            SparseTaskVector v = SparseTaskVector.fromDense(tau);
            assertBitwiseEqual(tau, v.toDense());
            if (density == 0) {
                assertEquals(0, v.k());
            }
            if (density == 1) {
                assertEquals(v.n(), v.k());
            }
            for (ValueEncoding enc : ValueEncoding.values()) {
                Path p = dir.resolve("t" + file++ + ".npss");
                v.write(p, enc, META);
                SparseTaskVector.Stored s = SparseTaskVector.readStored(p);
                assertEquals(v.rounded(enc), s.vector());
                assertEquals(enc, s.encoding());
                assertEquals(META, s.metadata());
                assertEquals(v.sizes(enc, META), s.sizes());
                assertEquals(fileSize(p), s.sizes().total());
                assertBitwiseEqual(v.rounded(enc).toDense(), s.vector().toDense());
                // Reading back and writing again gives the same bytes: the format is canonical.
                Path again = dir.resolve("again.npss");
                s.vector().write(again, enc, s.metadata());
                assertArrayEquals(bytes(p), bytes(again));
            }
        }
    }

    @Test
    void f16StoresTheHalfRoundedValuesBitForBit() {
        long[] idx = {0, 3, 4, 9};
        float[] val = {0.1f, -65504f, 1e-8f, -1e-9f};
        FlatLayout layout = new FlatLayout(List.of(new FlatLayout.Tensor("w", new long[] {10})));
        SparseTaskVector v = new SparseTaskVector(layout, idx, val);
        Path p = dir.resolve("h.npss");
        v.write(p, ValueEncoding.F16, Map.of());
        SparseTaskVector r = SparseTaskVector.read(p);
        assertArrayEquals(idx, r.indices());
        float[] got = r.values();
        for (int i = 0; i < val.length; i++) {
            float expected = Float.float16ToFloat(Float.floatToFloat16(val[i]));
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got[i]));
        }
        assertNotEquals(0.1f, got[0]);
        // Underflow keeps the position with a (signed) zero value: k counts stored entries.
        assertEquals(0f, got[2]);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(got[3]));
        assertEquals(4, r.k());
    }

    @Test
    void f16RefusesValuesThatOverflow() {
        FlatLayout layout = new FlatLayout(List.of(new FlatLayout.Tensor("w", new long[] {4})));
        SparseTaskVector v = new SparseTaskVector(layout, new long[] {2}, new float[] {70000f});
        Path p = dir.resolve("o.npss");
        StorageException e = assertThrows(StorageException.class, () -> v.write(p, ValueEncoding.F16, Map.of()));
        assertEquals("cannot write " + p + " as F16: value 70000.0 at flat index 2 overflows half precision (max 65504); use F32", e.getMessage());
        assertFalse(Files.exists(p));
        v.write(p, ValueEncoding.F32, Map.of());
        assertEquals(v, SparseTaskVector.read(p));
    }

    @Test
    void negativeZeroIsZeroAndNonFiniteValuesAreRefused() {
        ParameterSet tau = new ParameterSet(Map.of("b", new FloatTensor(new long[] {4}, new float[] {-0f, 0f, 2f, -0f}),
                "a", new FloatTensor(new long[] {2}, new float[] {0f, -3f})));
        SparseTaskVector v = SparseTaskVector.fromDense(tau);
        assertArrayEquals(new long[] {1, 4}, v.indices());
        assertArrayEquals(new float[] {-3f, 2f}, v.values());
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(v.toDense().get("b").data()[0]));

        ParameterSet nan = new ParameterSet(Map.of("w", new FloatTensor(new long[] {3}, new float[] {1, Float.NaN, 2})));
        StorageException e = assertThrows(StorageException.class, () -> SparseTaskVector.fromDense(nan));
        assertEquals("task vector has NaN at tensor 'w' entry 1", e.getMessage());
        ParameterSet inf = new ParameterSet(Map.of("w", new FloatTensor(new long[] {1}, new float[] {Float.NEGATIVE_INFINITY})));
        assertThrows(StorageException.class, () -> SparseTaskVector.fromDense(inf));
        FlatLayout layout = new FlatLayout(List.of(new FlatLayout.Tensor("w", new long[] {4})));
        assertThrows(StorageException.class, () -> new SparseTaskVector(layout, new long[] {1}, new float[] {Float.NaN}));
        assertThrows(StorageException.class, () -> new SparseTaskVector(layout, new long[] {2, 1}, new float[] {1, 1}));
        assertThrows(StorageException.class, () -> new SparseTaskVector(layout, new long[] {4}, new float[] {1}));
    }

    @Test
    void everySingleByteFlipIsDetected() throws IOException {
        SparseTaskVector v = SparseTaskVector.fromDense(randomTau(3, 0.05));
        for (ValueEncoding enc : ValueEncoding.values()) {
            Path p = dir.resolve("c.npss");
            v.write(p, enc, META);
            byte[] good = bytes(p);
            Path bad = dir.resolve("bad.npss");
            for (int at = 0; at < good.length; at++) {
                for (int mask : new int[] {0x01, 0xFF}) {
                    byte[] b = good.clone();
                    b[at] ^= (byte) mask;
                    Files.write(bad, b);
                    StorageException e = assertThrows(StorageException.class, () -> SparseTaskVector.read(bad), "byte " + at);
                    assertOneLine(bad, e);
                }
            }
            // The checksum, not a structural check, is what catches a flip inside the values.
            byte[] b = good.clone();
            b[good.length - 6] ^= 1;
            Files.write(bad, b);
            StorageException e = assertThrows(StorageException.class, () -> SparseTaskVector.read(bad));
            assertTrue(e.getMessage().startsWith(bad + ": checksum mismatch (stored CRC32C 0x"), e.getMessage());
            assertTrue(e.getMessage().endsWith("): the file is corrupt"), e.getMessage());
        }
    }

    /** Files whose checksum is right but whose content is not (a buggy or hostile writer). */
    @Test
    void structuralChecksStandBehindAValidChecksum() throws IOException {
        FlatLayout layout = new FlatLayout(List.of(new FlatLayout.Tensor("w", new long[] {1000})));
        SparseTaskVector v = new SparseTaskVector(layout, new long[] {1, 5, 9, 900}, new float[] {1, 2, 3, 4});
        Path p = dir.resolve("s.npss");
        v.write(p, ValueEncoding.F32, Map.of());
        byte[] good = bytes(p);
        int header = (int) v.sizes(ValueEncoding.F32, Map.of()).headerBytes();
        int values = good.length - 4 - 16;

        byte[] b = good.clone();
        b[12] = 3; // low bits: floor(log2(1000/4)) is 7
        assertEquals(p + ": header has 3 Elias-Fano low bits, expected 7 for n=1000, k=4", readResealed(p, b));
        b = good.clone();
        b[values + 3] = (byte) 0x7f; // float 1.0 -> 0x7f80_0000 = +Infinity
        b[values + 2] = (byte) 0x80;
        assertEquals(p + ": sparse value at flat index 1 is Infinity", readResealed(p, b));
        b = good.clone();
        b[header] ^= 0x40; // index #0's low bits: 1 -> 65, above index #1 = 5
        assertEquals(p + ": corrupt index section: index #1 = 5 does not increase (previous 65)", readResealed(p, b));
        b = good.clone();
        b[36 + 2] = 'v'; // tensor name 'w' -> 'v': still consistent, a different layout
        assertEquals(null, readResealedOrNull(p, b));
        assertEquals("v", SparseTaskVector.read(p).layout().tensors().get(0).name());
        b = good.clone();
        b[36 + 2 + 1 + 1 + 1] = 4; // shape [0x3e8] -> [0x4e8]
        assertEquals(p + ": header says n=1000 but its tensors hold 1256 entries", readResealed(p, b));
    }

    private static String readResealed(Path p, byte[] b) throws IOException {
        String m = readResealedOrNull(p, b);
        assertTrue(m != null, "expected a StorageException");
        return m;
    }

    private static String readResealedOrNull(Path p, byte[] b) throws IOException {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, 0, b.length - 4);
        java.nio.ByteBuffer.wrap(b, b.length - 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        Files.write(p, b);
        try {
            SparseTaskVector.read(p);
            return null;
        } catch (StorageException e) {
            return e.getMessage();
        }
    }

    @Test
    void everyTruncationAndAppendedDataIsDetected() throws IOException {
        SparseTaskVector v = SparseTaskVector.fromDense(randomTau(4, 0.1));
        Path p = dir.resolve("t.npss");
        v.write(p, ValueEncoding.F32, META);
        byte[] good = bytes(p);
        Path bad = dir.resolve("bad.npss");
        for (int len = 0; len < good.length; len++) {
            Files.write(bad, Arrays.copyOf(good, len));
            StorageException e = assertThrows(StorageException.class, () -> SparseTaskVector.read(bad), "length " + len);
            assertOneLine(bad, e);
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
        Files.write(bad, Arrays.copyOf(good, good.length - 100));
        StorageException e = assertThrows(StorageException.class, () -> SparseTaskVector.read(bad));
        assertEquals(bad + ": truncated: the header describes a " + good.length + "-byte file but it has " + (good.length - 100) + " bytes",
                e.getMessage());
        Files.write(bad, Arrays.copyOf(good, good.length + 1));
        e = assertThrows(StorageException.class, () -> SparseTaskVector.read(bad));
        assertTrue(e.getMessage().contains("trailing data"), e.getMessage());
    }

    @Test
    void badMagicVersionAndLayoutMismatch() throws IOException {
        ParameterSet tau = randomTau(5, 0.1);
        SparseTaskVector v = SparseTaskVector.fromDense(tau);
        Path p = dir.resolve("m.npss");
        v.write(p, ValueEncoding.F32, Map.of());
        byte[] good = bytes(p);

        Path bad = dir.resolve("x.safetensors");
        Files.write(bad, "{\"__metadata__\":{}}\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000".getBytes());
        assertEquals(bad + ": not an NPS sparse task vector (bad magic, expected \"NPSSPARS\")",
                assertThrows(StorageException.class, () -> SparseTaskVector.read(bad)).getMessage());
        byte[] b = good.clone();
        b[8] = 2;
        Files.write(bad, b);
        assertEquals(bad + ": unsupported sparse format version 2 (this reader knows version 1)",
                assertThrows(StorageException.class, () -> SparseTaskVector.read(bad)).getMessage());
        assertThrows(StorageException.class, () -> SparseTaskVector.read(dir.resolve("missing.npss")));
        assertThrows(StorageException.class, () -> SparseTaskVector.read(dir));

        // The layout is checked against the base a reader will add the vector to.
        assertEquals(v, SparseTaskVector.read(p, tau));
        Map<String, FloatTensor> other = new TreeMap<>(tau.asMap());
        other.put("a.weight", new FloatTensor(new long[] {11, 13}, new float[143]));
        StorageException e = assertThrows(StorageException.class, () -> SparseTaskVector.read(p, new ParameterSet(other)));
        assertEquals(p + ": layout mismatch with the base: tensor 'a.weight' has shape [13, 11] here but [11, 13] in the base", e.getMessage());
        other.put("a.weight", tau.get("a.weight"));
        other.remove("z.bias");
        other.put("y.bias", new FloatTensor(new long[] {17}, new float[17]));
        e = assertThrows(StorageException.class, () -> SparseTaskVector.read(p, new ParameterSet(other)));
        assertTrue(e.getMessage().contains("'z.bias' here but 'y.bias' in the base"), e.getMessage());
        other.remove("y.bias");
        e = assertThrows(StorageException.class, () -> SparseTaskVector.read(p, new ParameterSet(tau.asMap().entrySet().stream()
                .filter(x -> !x.getKey().equals("z.bias")).collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)))));
        assertEquals(p + ": layout mismatch with the base: 5 tensors here but 4 in the base (first extra: 'z.bias')", e.getMessage());
    }

    @Test
    void indicesBeyondTwoToTheThirtyOneRoundTripThroughAFile() {
        // The layout alone (no dense data) is enough to write and read: n > 2^31 needs long indices.
        long big = (1L << 31) + 9;
        FlatLayout layout = new FlatLayout(List.of(new FlatLayout.Tensor("a", new long[] {4}),
                new FlatLayout.Tensor("huge", new long[] {big - 4})));
        long[] idx = {0, 3, 4, (1L << 31) - 1, 1L << 31, big - 1};
        float[] val = {1, -2, 3, -4, 5, -6};
        SparseTaskVector v = new SparseTaskVector(layout, idx, val);
        Path p = dir.resolve("big.npss");
        v.write(p, ValueEncoding.F32, Map.of("note", "n > 2^31"));
        SparseTaskVector r = SparseTaskVector.read(p);
        assertEquals(v, r);
        assertEquals(big, r.n());
        StorageException e = assertThrows(StorageException.class, r::toDense);
        assertTrue(e.getMessage().startsWith("tensor 'huge' has 2147483653 elements"), e.getMessage());
    }

    @Test
    void writesAtomicallyOverAnExistingFile() throws IOException {
        SparseTaskVector a = SparseTaskVector.fromDense(randomTau(6, 0.05));
        SparseTaskVector b = SparseTaskVector.fromDense(randomTau(7, 0.5));
        Path p = dir.resolve("task.npss");
        a.write(p, ValueEncoding.F32, META);
        b.write(p, ValueEncoding.F16, META);
        assertEquals(b.rounded(ValueEncoding.F16), SparseTaskVector.read(p));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList());
        }
    }

    /**
     * n = 1M, keep = 0.05 (k = 50,000): the worked example of docs/compression-format.md.
     * Indices cost 39,063 bytes (6.25 bits each) where the paper's n-bit mask costs 125,000.
     */
    @Test
    void sizesMatchTheDocumentedExample() {
        int n = 1_000_000;
        int k = 50_000;
        long[] idx = EliasFanoTest.sample(new SplittableRandom(11), n, k);
        float[] val = new float[k];
        SplittableRandom rnd = new SplittableRandom(12);
        for (int i = 0; i < k; i++) {
            val[i] = (float) rnd.nextGaussian() * 1e-3f;
        }
        FlatLayout layout = new FlatLayout(List.of(new FlatLayout.Tensor("encoder.weight", new long[] {1000, 1000})));
        SparseTaskVector v = new SparseTaskVector(layout, idx, val);
        Map<String, String> meta = new TreeMap<>(Map.of("task", "mnist", "keep", "0.05", "method", "nps"));
        SparseTaskVector.Sizes f32 = v.sizes(ValueEncoding.F32, meta);
        SparseTaskVector.Sizes f16 = v.sizes(ValueEncoding.F16, meta);
        assertEquals(new SparseTaskVector.Sizes(117, 39_063, 200_000, 4), f32);
        assertEquals(new SparseTaskVector.Sizes(117, 39_063, 100_000, 4), f16);
        assertEquals(239_184, f32.total());
        assertEquals(139_184, f16.total());
        assertEquals(312_500, SparseTaskVector.indexBits(n, k));
        assertEquals(2_600_000, SparseTaskVector.paperBits(n, 0.05));
        long bound = (long) k * (2 + EliasFanoTest.ceilLog2Ratio(n, k)); // 7 bits per index
        assertTrue(SparseTaskVector.indexBits(n, k) <= bound);
        assertTrue(f32.indexBytes() * 8 <= bound + 16);
        Path p = dir.resolve("example.npss");
        v.write(p, ValueEncoding.F32, meta);
        assertEquals(f32.total(), fileSize(p));
        assertEquals(f32, SparseTaskVector.readStored(p).sizes());
    }

    @Test
    void paperBitsFollowsTheFormula() {
        assertEquals(2_600_000, SparseTaskVector.paperBits(1_000_000, 0.05));
        assertEquals(33, SparseTaskVector.paperBits(1, 1.0));
        assertEquals(4, SparseTaskVector.paperBits(3, 0.01)); // ceil(0.96 + 3)
        assertThrows(IllegalArgumentException.class, () -> SparseTaskVector.paperBits(10, 0));
        assertThrows(IllegalArgumentException.class, () -> SparseTaskVector.paperBits(10, 1.5));
    }

    private static void assertOneLine(Path file, StorageException e) {
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private static byte[] bytes(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long fileSize(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
