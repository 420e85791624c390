package dev.nps.storage;

import java.util.Locale;

/** Element types NPS reads and writes; names follow safetensors' header spelling. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    /** True for the types a task vector can be built from (converted to float on read). */
    public boolean isFloating() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** The safetensors header name, e.g. "F32". */
    public String safetensorsName() {
        return name();
    }

    public static DType fromSafetensorsName(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new StorageException("unsupported dtype '" + name + "'");
        }
    }
}
