package dev.nps.storage.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening is header-only: heap allocation, not time, is asserted (see OpenAllocationBenchmark for 1 GB). */
class OpenAllocationTest {
    @TempDir
    Path dir;

    @Test
    void opening50MegabytesAllocatesUnderOnePercent() throws IOException {
        OpenAllocationBenchmark.warmUp(dir);
        Path file = OpenAllocationBenchmark.writeFile(dir, 50, 1L << 20);
        long size = Files.size(file);
        assertTrue(size > 50_000_000L, "size " + size);
        long allocated = 0;
        for (int i = 0; i < 3; i++) {
            allocated = Math.max(allocated, OpenAllocationBenchmark.allocatedToOpen(file));
        }
        assertTrue(allocated < size / 100, "allocated " + allocated + " bytes to open a " + size + "-byte file");
    }
}
