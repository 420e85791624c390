package dev.nps.storage;

import java.util.Arrays;

/** A parameter held on the heap as float32, whatever its dtype on disk. */
public record FloatTensor(long[] shape, float[] data) {

    public FloatTensor {
        shape = shape.clone();
        if (Shapes.elementCount(shape) != data.length) {
            throw new StorageException("shape " + Arrays.toString(shape) + " does not hold " + data.length + " elements");
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int size() {
        return data.length;
    }

    public boolean sameShape(FloatTensor other) {
        return Arrays.equals(shape, other.shape);
    }

    public FloatTensor copy() {
        return new FloatTensor(shape, data.clone());
    }
}
