package dev.nps.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nps.storage.onnx.OnnxModel;
import dev.nps.storage.safetensors.SafetensorsFile;
import dev.nps.storage.sparse.SparseTaskVector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Inputs that are not regular files are refused before they are opened: none may block or never end. */
class InputFilesTest {
    @TempDir
    Path dir;

    static Path fifo(Path dir) throws IOException, InterruptedException {
        Path f = dir.resolve("pipe.safetensors");
        Process p = new ProcessBuilder("mkfifo", f.toString()).inheritIO().start();
        assumeTrue(p.waitFor() == 0, "mkfifo not available");
        return f;
    }

    @Test
    void aFifoWithNoWriterIsRefusedByEveryReaderWithoutBlocking() throws Exception {
        Path fifo = fifo(dir);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertEquals("safetensors file " + fifo + " is a FIFO (named pipe), not a regular file",
                    assertThrows(StorageException.class, () -> SafetensorsFile.open(fifo)).getMessage());
            assertTrue(assertThrows(StorageException.class, () -> Checkpoint.open(fifo)).getMessage().contains("FIFO"));
            assertTrue(assertThrows(StorageException.class, () -> OnnxModel.load(fifo)).getMessage().contains("FIFO"));
            assertTrue(assertThrows(StorageException.class, () -> SparseTaskVector.read(fifo)).getMessage().contains("FIFO"));
        });
    }

    @Test
    void aDeviceThatNeverEndsIsRefused() {
        Path zero = Path.of("/dev/zero");
        assumeTrue(Files.exists(zero));
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertEquals("safetensors file /dev/zero is a character device, not a regular file",
                    assertThrows(StorageException.class, () -> SafetensorsFile.open(zero)).getMessage());
            assertTrue(assertThrows(StorageException.class, () -> OnnxModel.load(zero)).getMessage().contains("character device"));
        });
    }

    @Test
    void directoriesAndMissingFilesAreNamed() throws IOException {
        Path d = Files.createDirectories(dir.resolve("model.onnx"));
        assertEquals("ONNX model " + d + " is a directory, not a regular file",
                assertThrows(StorageException.class, () -> OnnxModel.load(d)).getMessage());
        Path link = Files.createSymbolicLink(dir.resolve("link.onnx"), dir.resolve("nowhere"));
        assertEquals("ONNX model " + link + ": no such file", assertThrows(StorageException.class, () -> OnnxModel.load(link)).getMessage());
        Path ok = Files.writeString(dir.resolve("ok"), "x");
        assertEquals(ok, InputFiles.requireRegularFile(Files.createSymbolicLink(dir.resolve("ok-link"), ok), "file").resolveSibling("ok"));
    }
}
