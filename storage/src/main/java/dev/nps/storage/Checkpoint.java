package dev.nps.storage;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

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

    /** Every floating tensor as a {@link ParameterSet}. */
    ParameterSet readAllFloats();

    /** Free-form string metadata from the header ("__metadata__"), possibly empty. */
    java.util.Map<String, String> metadata();

    @Override
    void close();

    /** Opens a .safetensors file or a sharded model directory. */
    static Checkpoint open(Path path) {
        throw new UnsupportedOperationException("implemented by the storage work");
    }
}
