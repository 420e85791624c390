package dev.nps.storage.sparse;

import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.Shapes;
import dev.nps.storage.StorageException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The tensors, in {@link ParameterSet} order (names sorted), that a sparse task vector's flat
 * indices run over: tensor 0's entries row-major, then tensor 1's, and so on.
 */
public record FlatLayout(List<Tensor> tensors) {

    /** One tensor of the layout. */
    public record Tensor(String name, long[] shape) {
        public Tensor {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long size() {
            return Shapes.elementCount(shape);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tensor t && name.equals(t.name) && Arrays.equals(shape, t.shape);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + Shapes.format(shape);
        }
    }

    public FlatLayout {
        tensors = List.copyOf(tensors);
        for (int i = 1; i < tensors.size(); i++) {
            // The flattened order is defined by sorted names; anything else would silently permute entries.
            if (tensors.get(i - 1).name().compareTo(tensors.get(i).name()) >= 0) {
                throw new StorageException("layout tensor names are not strictly sorted: '" + tensors.get(i - 1).name()
                        + "' before '" + tensors.get(i).name() + "'");
            }
        }
        long n = 0;
        for (Tensor t : tensors) {
            n = Math.addExact(n, t.size());
        }
    }

    public static FlatLayout of(ParameterSet params) {
        List<Tensor> out = new ArrayList<>();
        for (Map.Entry<String, FloatTensor> e : params.asMap().entrySet()) {
            out.add(new Tensor(e.getKey(), e.getValue().shape()));
        }
        return new FlatLayout(out);
    }

    /** n: the number of entries of the flattened vector. */
    public long size() {
        long n = 0;
        for (Tensor t : tensors) {
            n += t.size();
        }
        return n;
    }

    /** Throws a one-line message naming the first difference between this layout and {@code base}'s. */
    public void requireMatches(ParameterSet base) {
        requireSame(of(base), "the base");
    }

    /** Throws a one-line message naming the first difference; {@code what} names the other side. */
    public void requireSame(FlatLayout other, String what) {
        int common = Math.min(tensors.size(), other.tensors.size());
        for (int i = 0; i < common; i++) {
            Tensor a = tensors.get(i);
            Tensor b = other.tensors.get(i);
            if (!a.name().equals(b.name())) {
                throw new StorageException("layout mismatch with " + what + ": tensor #" + i + " is '" + a.name()
                        + "' here but '" + b.name() + "' in " + what);
            }
            if (!a.equals(b)) {
                throw new StorageException("layout mismatch with " + what + ": tensor '" + a.name() + "' has shape "
                        + Shapes.format(a.shape) + " here but " + Shapes.format(b.shape) + " in " + what);
            }
        }
        if (tensors.size() != other.tensors.size()) {
            throw new StorageException("layout mismatch with " + what + ": " + tensors.size() + " tensors here but "
                    + other.tensors.size() + " in " + what + " (first extra: '"
                    + (tensors.size() > common ? tensors.get(common) : other.tensors.get(common)).name() + "')");
        }
    }
}
