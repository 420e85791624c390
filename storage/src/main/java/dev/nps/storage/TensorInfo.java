package dev.nps.storage;

import java.util.Arrays;

/**
 * One tensor's header entry: where its bytes lie within the data section of the file that
 * holds it.
 */
public record TensorInfo(String name, DType dtype, long[] shape, long dataOffset, long byteLength) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return Shapes.elementCount(shape);
    }

    public boolean sameShape(long[] other) {
        return Arrays.equals(shape, other);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
