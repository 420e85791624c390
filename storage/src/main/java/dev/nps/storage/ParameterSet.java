package dev.nps.storage;

import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * Named float parameters in a fixed order: sorted by name. Every "global" operation (the
 * flattened task vector of TIES and NPS, DARE's counter-based random stream, golden files)
 * uses this order, so results do not depend on the order tensors were stored in a file.
 */
public final class ParameterSet {
    private final NavigableMap<String, FloatTensor> tensors;

    public ParameterSet(Map<String, FloatTensor> tensors) {
        this.tensors = Collections.unmodifiableNavigableMap(new TreeMap<>(tensors));
    }

    public Set<String> names() {
        return tensors.keySet();
    }

    public Map<String, FloatTensor> asMap() {
        return tensors;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public FloatTensor get(String name) {
        FloatTensor t = tensors.get(name);
        if (t == null) {
            throw new StorageException("missing tensor '" + name + "'");
        }
        return t;
    }

    /** Total number of scalar entries over all tensors. */
    public long elementCount() {
        long n = 0;
        for (FloatTensor t : tensors.values()) {
            n += t.size();
        }
        return n;
    }

    /** The tensors' data arrays in the set's order: the "globally flattened vector". */
    public float[][] flatView() {
        return tensors.values().stream().map(FloatTensor::data).toArray(float[][]::new);
    }

    /**
     * {@code this + lambda * delta} per entry, computed in double and stored as float32. Tensors
     * {@code delta} lacks are taken over unchanged (shared, not copied); {@code delta} may not
     * hold a name this set lacks, nor a tensor of another shape.
     */
    public ParameterSet plusScaled(ParameterSet delta, double lambda) {
        for (String name : delta.names()) {
            if (!contains(name)) {
                throw new StorageException("delta has tensor '" + name + "' that the base lacks");
            }
            if (!get(name).sameShape(delta.get(name))) {
                throw new StorageException("tensor '" + name + "' has shape " + Shapes.format(delta.get(name).shape())
                        + " in the delta but " + Shapes.format(get(name).shape()) + " in the base");
            }
        }
        TreeMap<String, FloatTensor> out = new TreeMap<>();
        tensors.forEach((name, t) -> {
            if (!delta.contains(name)) {
                out.put(name, t);
                return;
            }
            float[] b = t.data();
            float[] d = delta.get(name).data();
            float[] v = new float[b.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (b[i] + lambda * d[i]);
            }
            out.put(name, new FloatTensor(t.shape(), v));
        });
        return new ParameterSet(out);
    }

    /** A new set with each tensor's data replaced by {@code f} applied to a copy. */
    public ParameterSet map(UnaryOperator<float[]> f) {
        TreeMap<String, FloatTensor> out = new TreeMap<>();
        tensors.forEach((name, t) -> out.put(name, new FloatTensor(t.shape(), f.apply(t.data().clone()))));
        return new ParameterSet(out);
    }
}
