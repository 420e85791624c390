package dev.nps.storage;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Little-endian float encodings shared by the safetensors and ONNX code: F32, F64, F16 (IEEE
 * half) and BF16 (the top 16 bits of a float32). Unaligned layouts, because neither format
 * promises that a tensor starts at a multiple of its element size.
 */
public final class FloatCodec {
    private FloatCodec() {
    }

    /** The most elements one Java array may safely hold (some VMs reserve a few header words). */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Element count as an int, or a message naming {@code what} if it cannot be a Java array. */
    public static int arrayLength(String what, long elements) {
        if (elements > MAX_ELEMENTS) {
            throw new StorageException(what + " has " + elements + " elements, more than a Java float[] holds (" + MAX_ELEMENTS + ")");
        }
        return (int) elements;
    }

    /** Decodes {@code count} elements of {@code dtype} (a floating type) from the start of {@code src}. */
    public static float[] decode(MemorySegment src, DType dtype, int count) {
        requireFloating(dtype);
        if (src.byteSize() < (long) count * dtype.byteSize()) {
            throw new IllegalArgumentException("segment of " + src.byteSize() + " bytes is short for " + count + " x " + dtype);
        }
        float[] out = new float[count];
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, F32, 0, out, 0, count);
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (float) src.getAtIndex(F64, i);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.float16ToFloat(src.getAtIndex(I16, i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((src.getAtIndex(I16, i) & 0xFFFF) << 16);
                }
            }
            default -> throw new AssertionError(dtype);
        }
        return out;
    }

    /** Encodes {@code src[from, from+count)} as {@code dtype} into {@code dst} at byte offset {@code dstOffset}. */
    public static void encode(float[] src, int from, int count, DType dtype, MemorySegment dst, long dstOffset) {
        requireFloating(dtype);
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, from, dst, F32, dstOffset, count);
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(F64, dstOffset + 8L * i, src[from + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(I16, dstOffset + 2L * i, Float.floatToFloat16(src[from + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(I16, dstOffset + 2L * i, toBfloat16(src[from + i]));
                }
            }
            default -> throw new AssertionError(dtype);
        }
    }

    /** The whole array encoded as {@code dtype}, little-endian. */
    public static byte[] encode(float[] src, DType dtype) {
        byte[] out = new byte[Math.multiplyExact(src.length, dtype.byteSize())];
        encode(src, 0, src.length, dtype, MemorySegment.ofArray(out), 0);
        return out;
    }

    /** Round to nearest even, as torch's {@code .to(torch.bfloat16)} does; NaN stays a (quiet) NaN. */
    static short toBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    private static void requireFloating(DType dtype) {
        if (!dtype.isFloating()) {
            throw new StorageException("dtype " + dtype + " is not a floating type");
        }
    }
}
