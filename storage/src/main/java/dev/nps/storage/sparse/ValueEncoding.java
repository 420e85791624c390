package dev.nps.storage.sparse;

/** How a sparse file stores its kept values; the code is the byte written in the header. */
public enum ValueEncoding {
    /** IEEE float32, raw bits: lossless. */
    F32(0, 4),
    /** IEEE half ({@link Float#floatToFloat16}, round to nearest even): the reader returns the rounded values. */
    F16(1, 2);

    private final int code;
    private final int byteSize;

    ValueEncoding(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    int code() {
        return code;
    }

    public int byteSize() {
        return byteSize;
    }

    /** {@code v} as a reader of a file in this encoding will see it. */
    public float round(float v) {
        return switch (this) {
            case F32 -> v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
        };
    }

    static ValueEncoding ofCode(int code) {
        for (ValueEncoding e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return null;
    }
}
