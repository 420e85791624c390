package dev.nps.storage.bench;

import dev.nps.storage.Checkpoint;
import dev.nps.storage.DType;
import dev.nps.storage.TensorInfo;
import dev.nps.storage.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Claim: opening and indexing a 1 GB safetensors file allocates less than 1% of its size on the
 * Java heap (the data is memory-mapped; only the header is parsed). Not a timed test: run
 * <pre>
 * ./mvnw -q -o -pl storage dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * $JAVA_HOME/bin/java -cp storage/target/classes:storage/target/test-classes:$(cat /tmp/cp.txt) \
 *     dev.nps.storage.bench.OpenAllocationBenchmark [tensors] [MiB per tensor]
 * </pre>
 * It writes the file into a temporary directory, measures the bytes this thread allocates
 * (com.sun.management.ThreadMXBean) while opening it, reading every header entry and taking every
 * tensor's byte view, prints them, and deletes the file.
 */
public final class OpenAllocationBenchmark {
    private OpenAllocationBenchmark() {
    }

    /** Writes {@code tensors} F32 tensors of about {@code bytesPerTensor} bytes each (random values). */
    public static Path writeFile(Path dir, int tensors, long bytesPerTensor) {
        long elements = bytesPerTensor / 4;
        try (Arena arena = Arena.ofConfined()) {
            // One native block reused as the source of every tensor: the writer streams it out.
            MemorySegment block = arena.allocate(elements * 4, 8);
            SplittableRandom r = new SplittableRandom(42);
            for (long i = 0; i < elements; i++) {
                block.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) r.nextGaussian());
            }
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            for (int t = 0; t < tensors; t++) {
                w.add(String.format("model.layers.%d.mlp.weight", t), DType.F32, new long[] {elements / 256, 256}, block.asSlice(0, elements / 256 * 256 * 4));
            }
            Path p = dir.resolve("bench.safetensors");
            w.write(p);
            return p;
        }
    }

    /** Bytes allocated on this thread's heap by open + every info + every bytes() view + close. */
    public static long allocatedToOpen(Path file) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        long total = 0;
        try (Checkpoint c = Checkpoint.open(file)) {
            for (String name : c.names()) {
                TensorInfo info = c.info(name);
                total += info.byteLength() + c.bytes(name).byteSize();
            }
        }
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        if (total <= 0) {
            throw new IllegalStateException("empty file");
        }
        return allocated;
    }

    /** Warms up class loading and static initialisers (Jackson, FFM) so they are not counted. */
    public static void warmUp(Path dir) throws IOException {
        Path small = Files.createDirectories(dir.resolve("warmup"));
        for (int i = 0; i < 3; i++) {
            allocatedToOpen(writeFile(small, 4, 1024));
        }
    }

    public static void main(String[] args) throws IOException {
        int tensors = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        long bytesPerTensor = args.length > 1 ? Long.parseLong(args[1]) << 20 : (1L << 30) / tensors;
        Path dir = Files.createTempDirectory("nps-open-bench");
        try {
            warmUp(dir);
            long t0 = System.nanoTime();
            Path file = writeFile(dir, tensors, bytesPerTensor);
            long writeMs = (System.nanoTime() - t0) / 1_000_000;
            long size = Files.size(file);
            long[] runs = new long[5];
            long openNs = Long.MAX_VALUE;
            for (int i = 0; i < runs.length; i++) {
                long s = System.nanoTime();
                runs[i] = allocatedToOpen(file);
                openNs = Math.min(openNs, System.nanoTime() - s);
            }
            long worst = java.util.Arrays.stream(runs).max().orElseThrow();
            System.out.printf("file: %d bytes (%d tensors), written in %d ms%n", size, tensors, writeMs);
            System.out.printf("heap allocated by open+index+views+close, 5 runs: %s bytes%n", java.util.Arrays.toString(runs));
            System.out.printf("worst: %d bytes = %.5f%% of the file (claim: < 1%%); fastest open+index: %.2f ms%n",
                    worst, 100.0 * worst / size, openNs / 1e6);
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
