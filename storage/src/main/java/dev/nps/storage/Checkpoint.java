package dev.nps.storage;

import dev.nps.storage.safetensors.SafetensorsFile;
import dev.nps.storage.safetensors.ShardedCheckpoint;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A read-only set of named tensors: one safetensors file, or a Hugging Face style directory
 * of shards with model.safetensors.index.json. Reads are zero-copy views of a memory-mapped
 * file until {@link #readFloats} converts one tensor to heap floats.
 */
public interface Checkpoint extends AutoCloseable {

    /** Tensor names in sorted order. */
    List<String> names();

    boolean contains(String name);

    /** Header entry; throws {@link StorageException} naming the tensor if absent. */
    TensorInfo info(String name);

    /** The tensor's raw little-endian bytes, a view of the mapped file (valid until close). */
    MemorySegment bytes(String name);

    /** The tensor as float32 (F32, F16, BF16 and F64 are converted); other dtypes are refused. */
    float[] readFloats(String name);

    /** Every floating tensor as a {@link ParameterSet}; integer and bool tensors are left out. */
    default ParameterSet readAllFloats() {
        TreeMap<String, FloatTensor> out = new TreeMap<>();
        for (String name : names()) {
            TensorInfo t = info(name);
            if (t.dtype().isFloating()) {
                out.put(name, new FloatTensor(t.shape(), readFloats(name)));
            }
        }
        return new ParameterSet(out);
    }

    /** Free-form string metadata from the header ("__metadata__"), possibly empty. */
    Map<String, String> metadata();

    @Override
    void close();

    /**
     * Opens a .safetensors file, or a directory holding model.safetensors.index.json (sharded),
     * model.safetensors, or exactly one other *.safetensors file.
     */
    static Checkpoint open(Path path) {
        if (!Files.exists(path)) {
            throw new StorageException(path + ": no such file or directory");
        }
        if (!Files.isDirectory(path)) {
            return SafetensorsFile.open(path);
        }
        if (Files.isRegularFile(path.resolve(ShardedCheckpoint.INDEX))) {
            return ShardedCheckpoint.open(path);
        }
        Path single = path.resolve("model.safetensors");
        if (Files.isRegularFile(single)) {
            return SafetensorsFile.open(single);
        }
        List<Path> candidates;
        try (Stream<Path> s = Files.list(path)) {
            candidates = s.filter(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p)).toList();
        } catch (IOException e) {
            throw StorageException.io("cannot list " + path, e);
        }
        if (candidates.size() == 1) {
            return SafetensorsFile.open(candidates.getFirst());
        }
        throw new StorageException(path + " is a directory with " + (candidates.isEmpty() ? "no" : candidates.size())
                + " .safetensors files and no " + ShardedCheckpoint.INDEX + "; name a file or add the index");
    }
}
