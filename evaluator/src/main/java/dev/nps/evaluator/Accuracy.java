package dev.nps.evaluator;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Top-1 accuracy: a sample is correct when the argmax of its row of the output's last
 * dimension equals its label. Ties go to the lowest index (numpy's argmax); a row holding NaN
 * is counted wrong, so a diverged candidate never scores by accident.
 */
public enum Accuracy implements Metric {
    INSTANCE;

    @Override
    public BatchScore score(OnnxTensor output, Batch batch) {
        long[] shape = output.getInfo().getShape();
        int count = batch.count();
        if (shape.length < 2 || shape[0] != count) {
            throw new EvaluatorException("accuracy needs an output of shape [batch, ..., classes] with batch " + count
                    + ", got " + Arrays.toString(shape));
        }
        long classesLong = shape[shape.length - 1];
        long elements = output.getInfo().getNumElements();
        if (classesLong <= 0 || elements != count * classesLong) {
            throw new EvaluatorException("accuracy needs one row of class scores per sample, got output shape "
                    + Arrays.toString(shape));
        }
        int classes = Math.toIntExact(classesLong);
        batch.checkLabels(classes);
        int correct = 0;
        if (output.getInfo().type == OnnxJavaType.DOUBLE) {
            DoubleBuffer d = output.getDoubleBuffer();
            for (int s = 0; s < count; s++) {
                if (argmax(d, s * classes, classes) == batch.label(s)) {
                    correct++;
                }
            }
        } else {
            FloatBuffer f = output.getFloatBuffer(); // also converts FLOAT16 / BFLOAT16
            if (f == null) {
                throw new EvaluatorException("accuracy needs a floating output, got " + output.getInfo().type);
            }
            for (int s = 0; s < count; s++) {
                if (argmax(f, s * classes, classes) == batch.label(s)) {
                    correct++;
                }
            }
        }
        return new BatchScore(correct, count);
    }

    /** First index of the maximum, or -1 (never a label) if the row holds NaN. */
    static int argmax(FloatBuffer f, int from, int n) {
        int best = 0;
        float max = f.get(from);
        for (int i = 0; i < n; i++) {
            float v = f.get(from + i);
            if (Float.isNaN(v)) {
                return -1;
            }
            if (v > max) {
                max = v;
                best = i;
            }
        }
        return best;
    }

    static int argmax(DoubleBuffer d, int from, int n) {
        int best = 0;
        double max = d.get(from);
        for (int i = 0; i < n; i++) {
            double v = d.get(from + i);
            if (Double.isNaN(v)) {
                return -1;
            }
            if (v > max) {
                max = v;
                best = i;
            }
        }
        return best;
    }
}
