package dev.nps.cluster;

import dev.nps.evaluator.ScorerOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * One evaluator slot of a node: a GPU (its CUDA device id) or, on a node without one, a CPU slot.
 * Each slot gets its own ONNX Runtime session per run.
 *
 * @param index    0..S-1 on this node
 * @param deviceId CUDA device ordinal; -1 for a CPU slot
 */
public record Slot(int index, int deviceId) {

    public boolean gpu() {
        return deviceId >= 0;
    }

    /** The run's scorer options on this slot's device. */
    public ScorerOptions options(ScorerOptions run) {
        return gpu() ? run.withDevice(ScorerOptions.Device.CUDA, deviceId) : run.withDevice(ScorerOptions.Device.CPU, 0);
    }

    @Override
    public String toString() {
        return gpu() ? "gpu" + deviceId : "cpu" + index;
    }

    /** The node's slots: the configured GPUs, else those detected, else {@code cpuSlots} CPU slots. */
    static List<Slot> of(NodeSettings s) {
        List<Integer> gpus = !s.gpus().isEmpty() ? s.gpus() : s.noGpu() ? List.of() : detectGpus();
        List<Slot> slots = new ArrayList<>();
        if (!gpus.isEmpty()) {
            for (int i = 0; i < gpus.size(); i++) {
                slots.add(new Slot(i, gpus.get(i)));
            }
        } else {
            for (int i = 0; i < s.cpuSlots(); i++) {
                slots.add(new Slot(i, -1));
            }
        }
        return slots;
    }

    /**
     * CUDA devices visible to this process, when ONNX Runtime can use CUDA at all: the NVIDIA driver
 * lists one directory per GPU under
     * /proc/driver/nvidia/gpus; CUDA_VISIBLE_DEVICES, when set to ordinals, narrows them (CUDA
     * renumbers the visible ones from 0).
     */
    static List<Integer> detectGpus() {
        if (!cudaProviderAvailable()) {
            return List.of(); // a CPU-only ONNX Runtime build (the default) cannot use them
        }
        Path dir = Path.of("/proc/driver/nvidia/gpus");
        int listed;
        try (Stream<Path> s = Files.list(dir)) {
            listed = (int) s.count();
        } catch (java.io.IOException | SecurityException e) {
            return List.of();
        }
        int count = listed;
        String visible = System.getenv("CUDA_VISIBLE_DEVICES");
        if (visible != null && !visible.isBlank()) {
            long n = Stream.of(visible.split(",")).map(String::strip).filter(v -> v.matches("\\d+"))
                    .filter(v -> Integer.parseInt(v) < listed).count();
            count = (int) n;
        }
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) { // CUDA numbers the visible devices 0..count-1
            ids.add(i);
        }
        return ids;
    }

    /** Whether this JVM's ONNX Runtime has the CUDA execution provider (the -Pcuda build on a CUDA host). */
    static boolean cudaProviderAvailable() {
        try {
            return ai.onnxruntime.OrtEnvironment.getAvailableProviders().contains(ai.onnxruntime.OrtProvider.CUDA);
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }
}
