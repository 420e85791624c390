package dev.nps.evaluator;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import dev.nps.storage.DType;

/** The one ONNX Runtime environment of the JVM, and type mapping. */
final class Ort {
    private Ort() {
    }

    private static final class Holder {
        // Warnings only: ORT logs every shared initializer and graph rewrite at INFO.
        static final OrtEnvironment ENV = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "nps");
    }

    static OrtEnvironment env() {
        return Holder.ENV;
    }

    static OnnxJavaType javaType(DType dtype) {
        return switch (dtype) {
            case F64 -> OnnxJavaType.DOUBLE;
            case F32 -> OnnxJavaType.FLOAT;
            case F16 -> OnnxJavaType.FLOAT16;
            case BF16 -> OnnxJavaType.BFLOAT16;
            case I64 -> OnnxJavaType.INT64;
            case I32 -> OnnxJavaType.INT32;
            case I16 -> OnnxJavaType.INT16;
            case I8 -> OnnxJavaType.INT8;
            case U8 -> OnnxJavaType.UINT8;
            case BOOL -> OnnxJavaType.BOOL;
        };
    }
}
