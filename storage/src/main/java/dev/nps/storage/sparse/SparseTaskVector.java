package dev.nps.storage.sparse;

import dev.nps.storage.FloatCodec;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.StorageException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A pruned task vector kept as (flat index, value) pairs over a {@link FlatLayout}: what NPS
 * compression stores per task next to the shared base checkpoint.
 *
 * <p>Indices are global flat positions ({@link ParameterSet} order), strictly increasing; values
 * are finite float32. A stored value may be zero (e.g. a tiny value rounded to F16), so {@link #k()}
 * counts stored positions, not non-zeros. {@link #fromDense} keeps exactly the non-zero entries;
 * {@code -0.0f} counts as zero, so the one thing {@link #toDense()} does not reproduce is the sign of
 * a negative zero.
 */
public final class SparseTaskVector {
    private final FlatLayout layout;
    private final long n;
    private final long[] indices;
    private final float[] values;

    /** Sizes of one encoded file, in bytes. */
    public record Sizes(long headerBytes, long indexBytes, long valueBytes, long checksumBytes) {
        public long total() {
            return headerBytes + indexBytes + valueBytes + checksumBytes;
        }
    }

    /** A file as read: the vector, how its values were stored, its metadata and its section sizes. */
    public record Stored(SparseTaskVector vector, ValueEncoding encoding, Map<String, String> metadata, Sizes sizes) {
        public Stored {
            metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    /** Copies the arrays; indices must increase strictly within [0, n) and values be finite. */
    public SparseTaskVector(FlatLayout layout, long[] indices, float[] values) {
        this(layout, indices.clone(), values.clone(), 0);
    }

    private SparseTaskVector(FlatLayout layout, long[] indices, float[] values, int unused) {
        this.layout = Objects.requireNonNull(layout);
        this.n = layout.size();
        this.indices = indices;
        this.values = values;
        if (indices.length != values.length) {
            throw new IllegalArgumentException(indices.length + " indices but " + values.length + " values");
        }
        long prev = -1;
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] <= prev || indices[i] >= n) {
                throw new StorageException("sparse index #" + i + " = " + indices[i] + " is not increasing within [0, " + n + ")");
            }
            prev = indices[i];
            if (!Float.isFinite(values[i])) {
                throw new StorageException("sparse value at flat index " + indices[i] + " is " + values[i]);
            }
        }
    }

    /** Takes ownership of the arrays (no copy); still validates. */
    static SparseTaskVector trusted(FlatLayout layout, long[] indices, float[] values) {
        return new SparseTaskVector(layout, indices, values, 0);
    }

    /** The non-zero entries of {@code tau} ({@code -0.0f} is zero); refuses NaN and infinities. */
    public static SparseTaskVector fromDense(ParameterSet tau) {
        FlatLayout layout = FlatLayout.of(tau);
        float[][] flat = tau.flatView();
        List<String> names = List.copyOf(tau.names());
        long k = 0;
        for (int t = 0; t < flat.length; t++) {
            float[] d = flat[t];
            for (int j = 0; j < d.length; j++) {
                float x = d[j];
                if (!Float.isFinite(x)) {
                    throw new StorageException("task vector has " + x + " at tensor '" + names.get(t) + "' entry " + j);
                }
                if (x != 0) {
                    k++;
                }
            }
        }
        int kk = FloatCodec.arrayLength("the sparse task vector", k);
        long[] idx = new long[kk];
        float[] val = new float[kk];
        int i = 0;
        long base = 0;
        for (float[] d : flat) {
            for (int j = 0; j < d.length; j++) {
                if (d[j] != 0) {
                    idx[i] = base + j;
                    val[i++] = d[j];
                }
            }
            base += d.length;
        }
        return new SparseTaskVector(layout, idx, val, 0);
    }

    /** The dense task vector: stored values at their positions, +0.0 elsewhere. */
    public ParameterSet toDense() {
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        int i = 0;
        long base = 0;
        for (FlatLayout.Tensor t : layout.tensors()) {
            float[] d = new float[FloatCodec.arrayLength("tensor '" + t.name() + "'", t.size())];
            long end = base + d.length;
            for (; i < indices.length && indices[i] < end; i++) {
                d[(int) (indices[i] - base)] = values[i];
            }
            out.put(t.name(), new FloatTensor(t.shape(), d));
            base = end;
        }
        return new ParameterSet(out);
    }

    /** This vector as a file written with {@code encoding} reads back (F16: every value rounded to half). */
    public SparseTaskVector rounded(ValueEncoding encoding) {
        if (encoding == ValueEncoding.F32) {
            return this;
        }
        float[] r = new float[values.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = encoding.round(values[i]);
        }
        return new SparseTaskVector(layout, indices, r, 0);
    }

    public FlatLayout layout() {
        return layout;
    }

    /** Entries of the dense vector. */
    public long n() {
        return n;
    }

    /** Stored entries. */
    public int k() {
        return indices.length;
    }

    public long index(int i) {
        return indices[i];
    }

    public float value(int i) {
        return values[i];
    }

    public long[] indices() {
        return indices.clone();
    }

    public float[] values() {
        return values.clone();
    }

    long[] indicesUnsafe() {
        return indices;
    }

    float[] valuesUnsafe() {
        return values;
    }

    /** Writes the NPSSPARS file atomically; F16 refuses values that overflow half precision. */
    public void write(Path path, ValueEncoding encoding, Map<String, String> metadata) {
        metadata.forEach((key, value) -> {
            if (key == null || value == null) {
                throw new IllegalArgumentException("metadata keys and values must not be null");
            }
        });
        SparseFormat.write(this, path, encoding, metadata);
    }

    public static SparseTaskVector read(Path path) {
        return SparseFormat.read(path).vector();
    }

    /** Reads and checks that the file's layout is {@code base}'s (names, order and shapes). */
    public static SparseTaskVector read(Path path, ParameterSet base) {
        SparseTaskVector v = read(path);
        try {
            v.layout().requireMatches(base);
        } catch (StorageException e) {
            throw new StorageException(path + ": " + e.getMessage(), e);
        }
        return v;
    }

    /** Reads the vector together with its value encoding, metadata and section sizes. */
    public static Stored readStored(Path path) {
        return SparseFormat.read(path);
    }

    /** The section sizes {@link #write} would produce. */
    public Sizes sizes(ValueEncoding encoding, Map<String, String> metadata) {
        return SparseFormat.sizes(layout, k(), encoding, metadata);
    }

    /** The file size {@link #write} would produce, in bytes. */
    public long encodedBytes(ValueEncoding encoding, Map<String, String> metadata) {
        return sizes(encoding, metadata).total();
    }

    /** Elias-Fano bits for k increasing indices below n, before byte padding: k*floor(log2(n/k)) + k + ceil(n/2^l). */
    public static long indexBits(long n, long k) {
        int l = EliasFano.lowBits(n, k);
        return k * l + EliasFano.upperBitCount(n, k, l);
    }

    /**
     * The paper's storage cost of one pruned task vector: k*n values at 32 bits plus an n-bit
     * mask, i.e. ceil(32 * keep * n + n) bits.
     */
    public static long paperBits(long n, double keep) {
        if (n < 0 || !(keep > 0 && keep <= 1)) {
            throw new IllegalArgumentException("paperBits needs n >= 0 and keep in (0, 1], got n=" + n + ", keep=" + keep);
        }
        return (long) Math.ceil(32.0 * keep * n + n);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SparseTaskVector v && layout.equals(v.layout) && Arrays.equals(indices, v.indices) && Arrays.equals(values, v.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(layout, Arrays.hashCode(indices), Arrays.hashCode(values));
    }

    @Override
    public String toString() {
        return "SparseTaskVector[n=" + n + ", k=" + k() + ", tensors=" + layout.tensors().size() + "]";
    }
}
