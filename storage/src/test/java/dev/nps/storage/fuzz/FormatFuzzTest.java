package dev.nps.storage.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nps.storage.DType;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.StorageException;
import dev.nps.storage.safetensors.SafetensorsFile;
import dev.nps.storage.safetensors.SafetensorsWriter;
import dev.nps.storage.sparse.SparseTaskVector;
import dev.nps.storage.sparse.ValueEncoding;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the two binary formats NPS reads: safetensors and the sparse task vector
 * (.npsv). Random bytes, random headers and mutations of valid files (bit flips, byte overwrites,
 * truncation, extension, header-length and JSON-token edits). Every outcome must be a one-line
 * {@link StorageException} or a read that decodes every tensor; any other exception, an error
 * (OutOfMemoryError included) or a hang (the whole run is bounded) fails the test.
 */
class FormatFuzzTest {
    private static final int CASES = 400;

    @TempDir
    Path dir;

    private static ParameterSet params() {
        Map<String, FloatTensor> m = new TreeMap<>();
        m.put("a.weight", new FloatTensor(new long[] {4, 3}, new float[] {1, 0, -2, 0, 0, 3, 0, 0, 0.5f, 0, 0, -1}));
        m.put("b.bias", new FloatTensor(new long[] {5}, new float[] {0, 0, 7, 0, 0}));
        m.put("c", new FloatTensor(new long[] {}, new float[] {0.25f}));
        return new ParameterSet(m);
    }

    /** Reads and decodes the whole file; a refusal must be one line naming the file. */
    private static boolean safetensorsOutcome(Path f) {
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            for (String name : s.names()) {
                if (s.info(name).dtype().isFloating()) {
                    assertEquals(s.info(name).elementCount(), s.readFloats(name).length, name);
                } else {
                    s.bytes(name);
                }
            }
            return true;
        } catch (StorageException e) {
            assertOneLine(e);
            return false;
        }
    }

    private static boolean sparseOutcome(Path f, ParameterSet base) {
        try {
            SparseTaskVector.read(f, base).toDense();
            return true;
        } catch (StorageException e) {
            assertOneLine(e);
            return false;
        }
    }

    private static void assertOneLine(StorageException e) {
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank() && !e.getMessage().contains("\n"), String.valueOf(e.getMessage()));
    }

    private static byte[] mutate(byte[] valid, SplittableRandom rnd) {
        byte[] b = valid.clone();
        switch (rnd.nextInt(7)) {
            case 0 -> { // flip a few bits
                for (int i = rnd.nextInt(1, 4); i > 0; i--) {
                    int at = rnd.nextInt(b.length);
                    b[at] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256); // overwrite a byte
            case 2 -> b = Arrays.copyOf(b, rnd.nextInt(b.length)); // truncate
            case 3 -> { // extend with junk
                byte[] tail = new byte[rnd.nextInt(1, 64)];
                rnd.nextBytes(tail);
                byte[] c = Arrays.copyOf(b, b.length + tail.length);
                System.arraycopy(tail, 0, c, b.length, tail.length);
                b = c;
            }
            case 4 -> { // an extreme 8-byte little-endian length at the start (safetensors' header length)
                long[] extremes = {0, 1, 7, b.length, b.length - 8, Long.MAX_VALUE, -1, 1L << 40, Integer.MAX_VALUE};
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, extremes[rnd.nextInt(extremes.length)]);
            }
            case 5 -> { // huge numbers where digits are (shapes, offsets)
                String s = new String(b, StandardCharsets.ISO_8859_1);
                String[] big = {"99999999999999999999", "9223372036854775807", "-1", "4294967296", "0"};
                b = s.replaceFirst("[0-9]+", big[rnd.nextInt(big.length)]).getBytes(StandardCharsets.ISO_8859_1);
            }
            default -> { // overwrite a run of bytes
                int at = rnd.nextInt(b.length);
                int len = Math.min(b.length - at, rnd.nextInt(1, 16));
                for (int i = 0; i < len; i++) {
                    b[at + i] = (byte) rnd.nextInt(256);
                }
            }
        }
        return b;
    }

    @Test
    void safetensorsRandomBytesAndMutationsAreRefusedOrRead() throws IOException {
        Path validFile = dir.resolve("valid.safetensors");
        new SafetensorsWriter().addAll(params(), DType.F32).addLongs("steps", new long[] {2}, new long[] {3, 4})
                .write(validFile);
        byte[] valid = Files.readAllBytes(validFile);
        assertTrue(safetensorsOutcome(validFile));
        SplittableRandom rnd = new SplittableRandom(20251202L);
        int[] outcomes = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < CASES; i++) {
                byte[] bytes;
                if (i % 4 == 0) {
                    bytes = new byte[rnd.nextInt(0, 200)];
                    rnd.nextBytes(bytes);
                } else if (i % 4 == 1) { // a well-formed length prefix before random JSON-ish text
                    String[] pieces = {"{", "}", "\"w\"", ":", ",", "\"dtype\"", "\"F32\"", "\"I64\"", "\"shape\"", "[", "]",
                            "\"data_offsets\"", "0", "8", "-3", "1e309", "null", "\"__metadata__\"", "99999999999"};
                    StringBuilder json = new StringBuilder();
                    for (int p = rnd.nextInt(1, 30); p > 0; p--) {
                        json.append(pieces[rnd.nextInt(pieces.length)]);
                    }
                    byte[] h = json.toString().getBytes(StandardCharsets.UTF_8);
                    ByteBuffer b = ByteBuffer.allocate(8 + h.length + rnd.nextInt(0, 32)).order(ByteOrder.LITTLE_ENDIAN);
                    b.putLong(h.length).put(h);
                    bytes = b.array();
                } else {
                    bytes = mutate(valid, rnd);
                }
                Path f = Files.write(dir.resolve("case" + i + ".safetensors"), bytes);
                try {
                    outcomes[safetensorsOutcome(f) ? 1 : 0]++;
                } catch (RuntimeException | Error e) {
                    fail("case " + i + ": " + e, e);
                }
                Files.delete(f);
            }
        });
        assertTrue(outcomes[0] > CASES / 4, "most fuzzed files are refused: " + Arrays.toString(outcomes));
    }

    @Test
    void sparseRandomBytesAndMutationsAreRefusedOrReadExactly() throws IOException {
        ParameterSet tau = params();
        Path validFile = dir.resolve("valid.npsv");
        for (ValueEncoding enc : ValueEncoding.values()) {
            SparseTaskVector.fromDense(tau).write(validFile, enc, Map.of("nps.task", "t", "nps.keep", "0.5"));
            byte[] valid = Files.readAllBytes(validFile);
            float[] expected = SparseTaskVector.read(validFile, tau).toDense().get("a.weight").data();
            SplittableRandom rnd = new SplittableRandom(7 + enc.ordinal());
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (int i = 0; i < CASES; i++) {
                    byte[] bytes;
                    if (i % 3 == 0) {
                        bytes = new byte[rnd.nextInt(0, 300)];
                        rnd.nextBytes(bytes);
                        if (rnd.nextBoolean() && bytes.length >= 10) { // past the magic and version check
                            System.arraycopy("NPSSPARS".getBytes(StandardCharsets.US_ASCII), 0, bytes, 0, 8);
                            bytes[8] = 1;
                            bytes[9] = 0;
                        }
                    } else {
                        bytes = mutate(valid, rnd);
                    }
                    Path f = Files.write(dir.resolve("case" + i + ".npsv"), bytes);
                    try {
                        if (sparseOutcome(f, tau)) {
                            // The CRC32C covers every byte: what is accepted is the valid file's content.
                            // The CRC32C covers every byte: whatever is accepted is the valid file's content.
                            assertArrayEquals(expected, SparseTaskVector.read(f, tau).toDense().get("a.weight").data(), "case " + i);
                        }
                    } catch (RuntimeException | Error e) {
                        fail("case " + i + ": " + e, e);
                    }
                    Files.delete(f);
                }
            });
        }
    }
}
