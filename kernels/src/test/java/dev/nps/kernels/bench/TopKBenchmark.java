package dev.nps.kernels.bench;

import dev.nps.kernels.TopK;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Global top-k over 100M float32 (a task-vector-like Gaussian split into 100 tensors) against
 * the obvious alternative, a full sort of |x|. Run with tools/bench-topk.sh.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
@State(Scope.Benchmark)
public class TopKBenchmark {

    @Param("100000000")
    public long size;

    @Param("100")
    public int tensors;

    @Param("0.1")
    public double keep;

    private float[][] values;
    private float[][] out;
    private float[] abs;
    private long k;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rnd = new SplittableRandom(42);
        values = new float[tensors][];
        out = new float[tensors][];
        for (int j = 0; j < tensors; j++) {
            int len = (int) (size / tensors + (j < size % tensors ? 1 : 0));
            values[j] = new float[len];
            out[j] = new float[len];
            for (int i = 0; i < len; i++) {
                values[j][i] = (float) (rnd.nextGaussian() * 1e-3);
            }
        }
        abs = new float[Math.toIntExact(size)];
        k = TopK.keepCount(keep, size);
    }

    /** The threshold alone: what NPS needs to build a mask. */
    @Benchmark
    public TopK.Threshold topKSelect() {
        return TopK.select(values, k);
    }

    /** Threshold plus writing the trimmed vector (copy, then zero the rest): a full TIES trim. */
    @Benchmark
    public float[][] topKTrim() {
        TopK.Threshold t = TopK.select(values, k);
        for (int j = 0; j < values.length; j++) {
            System.arraycopy(values[j], 0, out[j], 0, values[j].length);
        }
        t.apply(out);
        return out;
    }

    /** Baseline: copy |x| into one array, sort it, read the k-th largest. */
    @Benchmark
    public float fullSort() {
        int p = 0;
        for (float[] a : values) {
            for (float x : a) {
                abs[p++] = Math.abs(x);
            }
        }
        Arrays.sort(abs);
        return abs[abs.length - (int) k];
    }
}
