package dev.nps.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.storage.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<Path> listing() throws IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void failureMidWriteKeepsTheOldTargetAndRemovesTheTemporary() throws IOException {
        Path target = dir.resolve("out.bin");
        Files.write(target, new byte[] {1, 2, 3});
        RuntimeException boom = new RuntimeException("boom");
        RuntimeException e = assertThrows(RuntimeException.class, () -> AtomicFiles.write(target, ch -> {
            ch.write(ByteBuffer.wrap(new byte[1000]));
            throw boom;
        }));
        assertEquals(boom, e);
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
        assertEquals(List.of(target), listing());
    }

    @Test
    void ioFailureMidWriteNeverLeavesAPartialTarget() throws IOException {
        Path target = dir.resolve("new.bin");
        StorageException e = assertThrows(StorageException.class, () -> AtomicFiles.write(target, ch -> {
            ch.write(ByteBuffer.wrap(new byte[10]));
            throw new IOException("disk full");
        }));
        assertEquals("cannot write " + target + ": IO disk full", e.getMessage());
        assertFalse(Files.exists(target));
        assertEquals(List.of(), listing());
    }

    @Test
    void unwritableLocations() throws IOException {
        // A parent that is a regular file cannot hold a temporary file (works even as root).
        Path file = Files.writeString(dir.resolve("plain"), "x");
        Path target = file.resolve("out.safetensors");
        StorageException e = assertThrows(StorageException.class,
                () -> new SafetensorsWriter().addFloats("w", new long[] {1}, new float[] {1}, DType.F32).write(target));
        assertTrue(e.getMessage().startsWith("cannot write " + target + ": directory"), e.getMessage());
        e = assertThrows(StorageException.class, () -> AtomicFiles.write(dir, new byte[1]));
        assertTrue(e.getMessage().endsWith("it is a directory"));
        assertEquals(List.of(file), listing());
    }

    @Test
    void writesAndReplaces() throws IOException {
        Path target = dir.resolve("t.txt");
        AtomicFiles.write(target, "one".getBytes());
        AtomicFiles.write(target, "two".getBytes());
        assertEquals("two", Files.readString(target));
        assertEquals(List.of(target), listing());
    }
}
