package dev.nps.storage;

import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Builds task vectors (tau = fine-tuned - base, in float32). Only floating tensors take part:
 * integer and bool tensors (position ids, BatchNorm's num_batches_tracked, ...) are buffers,
 * not learned weights, so they are neither differenced nor carried; a name that is floating on
 * one side and not on the other is refused. Non-finite weights are refused: one NaN would
 * poison every merge and every top-k threshold.
 */
public final class TaskVectors {
    private TaskVectors() {
    }

    /** Reads the floating tensors of both checkpoints and computes the task vector. */
    public static TaskVector compute(Checkpoint base, Checkpoint finetuned, UnsharedPolicy policy) {
        requireSameKinds(dtypes(base), finetuned);
        return compute(base.readAllFloats(), finetuned.readAllFloats(), policy);
    }

    /** Every tensor's dtype, by name: what {@link #requireSameKinds} compares a fine-tuned checkpoint against. */
    public static TreeMap<String, DType> dtypes(Checkpoint c) {
        TreeMap<String, DType> out = new TreeMap<>();
        for (String name : c.names()) {
            out.put(name, c.info(name).dtype());
        }
        return out;
    }

    /**
     * Refuses a name that is floating on one side and integer or bool on the other. Integer tensors
     * are left out of the float parameters, so without this check such a tensor would silently
     * vanish from the fine-tuned side and the model would be scored with the base's weight (or a
     * fine-tuned float would be carried over a base buffer). Float widths may differ: F16, BF16 and
     * F64 are converted to F32 on read, so BF16 against F32 is a conversion, not a mismatch.
     */
    public static void requireSameKinds(java.util.Map<String, DType> baseDtypes, Checkpoint finetuned) {
        for (String name : finetuned.names()) {
            DType b = baseDtypes.get(name);
            if (b == null) {
                continue;
            }
            DType f = finetuned.info(name).dtype();
            if (b.isFloating() != f.isFloating()) {
                throw new StorageException("dtype mismatch for '" + name + "': base " + b + " vs fine-tuned " + f
                        + " (a floating weight cannot be paired with an integer or bool tensor)");
            }
        }
    }

    public static TaskVector compute(ParameterSet base, ParameterSet finetuned, UnsharedPolicy policy) {
        TreeMap<String, FloatTensor> tau = new TreeMap<>();
        TreeMap<String, FloatTensor> carried = new TreeMap<>();
        TreeSet<String> baseOnly = new TreeSet<>();
        for (var e : finetuned.asMap().entrySet()) {
            String name = e.getKey();
            FloatTensor ft = e.getValue();
            requireFinite("fine-tuned tensor '" + name + "'", ft.data());
            if (!base.contains(name)) {
                if (policy == UnsharedPolicy.ERROR) {
                    throw new StorageException("'" + name + "' is only in the fine-tuned checkpoint (unshared-parameter policy is ERROR)");
                }
                carried.put(name, ft);
                continue;
            }
            FloatTensor b = base.get(name);
            if (!b.sameShape(ft)) {
                throw new StorageException("shape mismatch for '" + name + "': base " + Shapes.format(b.shape()) + " vs fine-tuned "
                        + Shapes.format(ft.shape()));
            }
            requireFinite("base tensor '" + name + "'", b.data());
            float[] f = ft.data();
            float[] bd = b.data();
            float[] d = new float[f.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = f[i] - bd[i];
            }
            requireFinite("task vector of '" + name + "' (fine-tuned - base overflows float32)", d);
            tau.put(name, new FloatTensor(ft.shape(), d));
        }
        for (String name : base.names()) {
            if (!finetuned.contains(name)) {
                if (policy == UnsharedPolicy.ERROR) {
                    throw new StorageException("'" + name + "' is only in the base checkpoint (unshared-parameter policy is ERROR)");
                }
                baseOnly.add(name);
                // Carry keeps the base's value: a zero entry, so every task vector covers the base's names
                // and merges, searches and eval all treat the missing tensor the same way.
                FloatTensor b = base.get(name);
                tau.put(name, new FloatTensor(b.shape(), new float[b.data().length]));
            }
        }
        return new TaskVector(new ParameterSet(tau), new ParameterSet(carried), baseOnly);
    }

    /** Refuses NaN and infinities, naming {@code what} and the first bad flat index. */
    public static void requireFinite(String what, float[] data) {
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new StorageException(what + " has non-finite value " + data[i] + " at flat index " + i);
            }
        }
    }
}
