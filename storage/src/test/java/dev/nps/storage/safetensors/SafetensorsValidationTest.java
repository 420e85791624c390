package dev.nps.storage.safetensors;

import static dev.nps.storage.safetensors.SafetensorsTestFiles.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.storage.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One hand-made corrupt file per validation rule; each message is one line naming file and tensor. */
class SafetensorsValidationTest {
    @TempDir
    Path dir;

    private String refuse(byte[] content) throws IOException {
        Path p = SafetensorsTestFiles.write(dir, "bad.safetensors", content);
        StorageException e = assertThrows(StorageException.class, () -> SafetensorsFile.open(p).close());
        String m = e.getMessage();
        assertTrue(m.startsWith(p.toString()), m);
        assertFalse(m.contains("\n"), m);
        return m;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void acceptsAWellFormedHandMadeFile() throws IOException {
        Path p = SafetensorsTestFiles.write(dir, "ok.safetensors",
                raw("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "U8", "[3]", 8, 11) + "}", 11));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(2, f.names().size());
            assertEquals(3, f.bytes("b").byteSize());
        }
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        assertTrue(refuse(new byte[] {1, 2, 3}).contains("shorter than the 8-byte header length"));
        assertTrue(refuse(new byte[0]).contains("(0 bytes"));
    }

    @Test
    void hugeHeaderLength() throws IOException {
        byte[] b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 100_000_001L).array();
        assertTrue(refuse(b).contains("header length 100000001 exceeds the 100000000-byte limit"));
        byte[] negative = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L).array();
        assertTrue(refuse(negative).contains("header length 18446744073709551615 exceeds"));
    }

    @Test
    void truncatedHeader() throws IOException {
        byte[] full = raw("{" + entry("a", "F32", "[2]", 0, 8) + "}", 8);
        String m = refuse(Arrays.copyOf(full, 20));
        assertTrue(m.contains("truncated: header length is"), m);
    }

    @Test
    void truncatedData() throws IOException {
        byte[] full = raw("{" + entry("a", "F32", "[2]", 0, 8) + "}", 8);
        String m = refuse(Arrays.copyOf(full, full.length - 3));
        assertTrue(m.contains("tensor 'a': data_offsets [0, 8] run past the 5-byte data section (truncated file?)"), m);
    }

    @Test
    void badJson() throws IOException {
        String m = refuse(raw("{\"a\":{\"dtype\":\"F32\",", 0));
        assertTrue(m.contains("header is not valid JSON at line 1"), m);
        assertTrue(refuse(raw("{} trailing", 0)).contains("header is not valid JSON"));
        assertTrue(refuse(raw("{\"a\":1,\"a\":2}", 0)).contains("Duplicate field 'a'"));
        byte[] invalidUtf8 = raw("{\"xx\":1}", 0);
        invalidUtf8[10] = (byte) 0xff;
        assertTrue(refuse(invalidUtf8).contains("header is not valid JSON"));
    }

    @Test
    void headerNotAnObject() throws IOException {
        assertTrue(refuse(raw("[1,2]", 0)).contains("header is not a JSON object"));
        assertTrue(refuse(raw("", 0)).contains("header is not a JSON object"));
        assertTrue(refuse(raw("{\"a\":[]}", 0)).contains("tensor 'a': entry is not a JSON object"));
    }

    @Test
    void missingKeys() throws IOException {
        assertTrue(refuse(raw("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4)).contains("tensor 'a': missing 'dtype'"));
        assertTrue(refuse(raw("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4)).contains("tensor 'a': missing 'shape'"));
        assertTrue(refuse(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4)).contains("tensor 'a': missing 'data_offsets'"));
    }

    @Test
    void malformedValues() throws IOException {
        assertTrue(refuse(raw("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4)).contains("dtype is not a string"));
        assertTrue(refuse(raw("{" + entry("a", "F32", "[-1]", 0, 4) + "}", 4)).contains("'shape' entry -1 is not a non-negative"));
        assertTrue(refuse(raw("{" + entry("a", "F32", "[1.5]", 0, 4) + "}", 4)).contains("'shape' entry 1.5"));
        assertTrue(refuse(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4))
                .contains("'data_offsets' must be an array of 2 non-negative integers"));
        assertTrue(refuse(raw("{" + entry("a", "F32", "[99999999999999999999]", 0, 4) + "}", 4)).contains("not a non-negative 64-bit"));
        assertTrue(refuse(raw("{" + entry("a", "F32", "[4294967296,4294967296]", 0, 4) + "}", 4)).contains("is too large"));
    }

    @Test
    void unknownDtype() throws IOException {
        String m = refuse(raw("{" + entry("a", "F8_E4M3", "[4]", 0, 4) + "}", 4));
        assertTrue(m.endsWith("tensor 'a': unsupported dtype 'F8_E4M3'"), m);
        // Spelling is exact, as in the reference implementation.
        assertTrue(refuse(raw("{" + entry("a", "f32", "[1]", 0, 4) + "}", 4)).contains("unsupported dtype 'f32'"));
    }

    @Test
    void offsetsOutOfBoundsOrReversed() throws IOException {
        assertTrue(refuse(raw("{" + entry("a", "U8", "[4]", 4, 8) + "}", 6)).contains("tensor 'a': data_offsets [4, 8] run past"));
        assertTrue(refuse(raw("{" + entry("a", "U8", "[0]", 4, 2) + "}", 6)).contains("data_offsets [4, 2] end before they begin"));
    }

    @Test
    void dtypeTimesShapeMustEqualTheByteLength() throws IOException {
        String m = refuse(raw("{" + entry("w", "F32", "[2,3]", 0, 20) + "}", 20));
        assertTrue(m.endsWith("tensor 'w': F32[2, 3] needs 24 bytes but data_offsets [0, 20] hold 20"), m);
    }

    @Test
    void overlappingTensors() throws IOException {
        String m = refuse(raw("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", 12));
        assertTrue(m.endsWith("tensors 'a' [0, 8] and 'b' [4, 12] overlap"), m);
        // Two tensors sharing the very same bytes are an overlap too.
        assertTrue(refuse(raw("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 0, 4) + "}", 4)).contains("overlap"));
    }

    @Test
    void gapsAndTrailingBytes() throws IOException {
        assertTrue(refuse(raw("{" + entry("a", "U8", "[2]", 0, 2) + "," + entry("b", "U8", "[2]", 4, 6) + "}", 6))
                .contains("tensor 'b' [4, 6] leaves unused bytes [2, 4) before it"));
        assertTrue(refuse(raw("{" + entry("a", "U8", "[2]", 0, 2) + "}", 5)).contains("3 bytes after the last tensor's data"));
    }

    @Test
    void metadataMustBeAStringMap() throws IOException {
        assertTrue(refuse(raw("{\"__metadata__\":{\"k\":1}}", 0)).contains("__metadata__ value for 'k' is not a string"));
        assertTrue(refuse(raw("{\"__metadata__\":[]}", 0)).contains("__metadata__ must be an object of strings"));
    }

    @Test
    void directoryAndMissingFile() {
        StorageException e = assertThrows(StorageException.class, () -> SafetensorsFile.open(dir));
        assertTrue(e.getMessage().endsWith("is a directory, not a safetensors file"), e.getMessage());
        Path missing = dir.resolve("nope.safetensors");
        e = assertThrows(StorageException.class, () -> SafetensorsFile.open(missing));
        assertEquals("safetensors file " + missing + ": no such file", e.getMessage());
    }

    @Test
    void emptyHeaderObjectAndEmptyFileAreFine() throws IOException {
        Path p = SafetensorsTestFiles.write(dir, "e.safetensors", raw("{}      ", 0));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertTrue(f.names().isEmpty());
        }
        assertFalse(Files.size(p) == 0);
    }
}
