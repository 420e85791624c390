package dev.nps.kernels.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.kernels.merge.MergeMethod.Average;
import dev.nps.kernels.merge.MergeMethod.Consensus;
import dev.nps.kernels.merge.MergeMethod.Dare;
import dev.nps.kernels.merge.MergeMethod.TaskArithmetic;
import dev.nps.kernels.merge.MergeMethod.Ties;
import dev.nps.storage.Checkpoint;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.TopK;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Cross-checks against an independent NumPy implementation (tools/golden_merges.py, float64
 * throughout). Each case file carries its method and parameters in its metadata. The small case
 * is built to hit split ties at the top-k threshold and entries whose trimmed values cancel.
 */
class MergeGoldenTest {
    private static final double TOLERANCE = 1e-6;

    private static Path dir() {
        try {
            return Path.of(MergeGoldenTest.class.getResource("/golden/merge").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** base and tau_t from inputs.safetensors ("base/name", "tau<t>/name"). */
    private record Inputs(ParameterSet base, List<ParameterSet> taus) {
        static Inputs read(Path file) {
            try (Checkpoint c = Checkpoint.open(file)) {
                int tasks = Integer.parseInt(c.metadata().get("T"));
                ParameterSet base = prefixed(c, "base/");
                List<ParameterSet> taus = new ArrayList<>();
                for (int t = 0; t < tasks; t++) {
                    taus.add(prefixed(c, "tau" + t + "/"));
                }
                return new Inputs(base, taus);
            }
        }

        private static ParameterSet prefixed(Checkpoint c, String prefix) {
            Map<String, FloatTensor> m = new TreeMap<>();
            for (String name : c.names()) {
                if (name.startsWith(prefix)) {
                    m.put(name.substring(prefix.length()), new FloatTensor(c.info(name).shape(), c.readFloats(name)));
                }
            }
            assertTrue(!m.isEmpty(), "no tensors under " + prefix);
            return new ParameterSet(m);
        }
    }

    /** The method a case file's metadata describes. */
    private static MergeMethod method(Map<String, String> md) {
        double lambda = Double.parseDouble(md.getOrDefault("lambda", "1"));
        return switch (md.get("method")) {
            case "ta" -> new TaskArithmetic(lambda);
            case "ties" -> new Ties(Double.parseDouble(md.get("keep")), lambda);
            case "dare_ta" -> new Dare(Double.parseDouble(md.get("p")), Long.parseLong(md.get("seed")), new TaskArithmetic(lambda));
            case "dare_ties" -> new Dare(Double.parseDouble(md.get("p")), Long.parseLong(md.get("seed")),
                    new Ties(Double.parseDouble(md.get("keep")), lambda));
            case "consensus" -> new Consensus(Integer.parseInt(md.get("k")), Double.parseDouble(md.get("maskLambda")), lambda);
            case "average" -> new Average();
            default -> throw new IllegalArgumentException("unknown golden method " + md.get("method"));
        };
    }

    @ParameterizedTest
    @CsvSource({"ta", "ties", "ties_keep05", "dare_ta", "dare_ties", "consensus", "average",
            "large/ta", "large/ties", "large/dare_ta", "large/consensus", "large/average"})
    void mergeMatchesNumPy(String name) {
        Path file = dir().resolve(name + ".safetensors");
        Inputs in = Inputs.read(file.resolveSibling("inputs.safetensors"));
        try (Checkpoint expected = Checkpoint.open(file)) {
            MergeMethod m = method(expected.metadata());
            ParameterSet theta = m.merge(in.base(), in.taus());
            ParameterSet viaDelta = MergeMethod.plusScaled(in.base(), m.mergedTaskVector(in.taus()), m.lambda());
            assertEquals(theta.names(), new TreeSet<>(expected.names()));
            double worst = 0;
            double worstViaDelta = 0;
            for (String t : expected.names()) {
                float[] want = expected.readFloats(t);
                float[] got = theta.get(t).data();
                float[] got2 = viaDelta.get(t).data();
                assertEquals(want.length, got.length);
                for (int i = 0; i < want.length; i++) {
                    worst = Math.max(worst, Math.abs((double) want[i] - got[i]));
                    worstViaDelta = Math.max(worstViaDelta, Math.abs((double) want[i] - got2[i]));
                }
            }
            assertTrue(worst <= TOLERANCE, name + " (" + m + "): max abs diff " + worst);
            // The float32 merged task vector adds at most its own rounding.
            assertTrue(worstViaDelta <= TOLERANCE, name + " via the merged task vector: max abs diff " + worstViaDelta);
        }
    }

    @ParameterizedTest
    @CsvSource({"topk_keep01, 0.1", "topk_keep033, 0.33"})
    void topKMaskMatchesNumPy(String name, double keep) {
        Inputs in = Inputs.read(dir().resolve("inputs.safetensors"));
        ParameterSet tau0 = in.taus().getFirst();
        float[][] flat = tau0.flatView();
        long n = TopK.size(flat);
        boolean[][] mask = TopK.mask(flat, TopK.keepCount(keep, n));
        try (Checkpoint expected = Checkpoint.open(dir().resolve(name + ".safetensors"))) {
            assertEquals(Long.parseLong(expected.metadata().get("k")), TopK.keepCount(keep, n));
            List<String> names = List.copyOf(tau0.names());
            long kept = 0;
            for (int j = 0; j < names.size(); j++) {
                MemorySegment bytes = expected.bytes(names.get(j));
                boolean[] want = new boolean[mask[j].length];
                for (int i = 0; i < want.length; i++) {
                    want[i] = bytes.get(ValueLayout.JAVA_BYTE, i) != 0;
                    kept += want[i] ? 1 : 0;
                }
                assertArrayEquals(want, mask[j], names.get(j));
            }
            assertEquals(TopK.keepCount(keep, n), kept);
        }
    }

    @Test
    void dareUniformsMatchNumPy() {
        ValueLayout.OfLong i64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfDouble f64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        try (Checkpoint c = Checkpoint.open(dir().resolve("dare_uniform.safetensors"))) {
            long seed = Long.parseLong(c.metadata().get("seed"));
            MemorySegment sm = c.bytes("splitmix64_of_0to7");
            for (int i = 0; i < 8; i++) {
                assertEquals(sm.getAtIndex(i64, i), Dare.splitmix64(i), "splitmix64(" + i + ")");
            }
            MemorySegment keys = c.bytes("key_seed42_t0to1");
            for (int t = 0; t < 2; t++) {
                assertEquals(keys.getAtIndex(i64, t), Dare.key(seed, t), "key(" + seed + ", " + t + ")");
            }
            MemorySegment u = c.bytes("u");
            for (int t = 0; t < 2; t++) {
                for (int i = 0; i < 32; i++) {
                    // Exactly equal: both are (53-bit integer) * 2^-53.
                    assertEquals(u.getAtIndex(f64, t * 32L + i), Dare.uniform(seed, t, i), "u(" + t + ", " + i + ")");
                }
            }
        }
    }

    @Test
    void inputsAreTheFloat32Differences() {
        // tau_t = ft_t - base in float32, as the Java side computes task vectors.
        try (Checkpoint c = Checkpoint.open(dir().resolve("inputs.safetensors"))) {
            for (String name : c.names()) {
                if (name.startsWith("tau")) {
                    String p = name.substring(name.indexOf('/') + 1);
                    float[] ft = c.readFloats("ft" + name.substring(3, name.indexOf('/')) + "/" + p);
                    float[] base = c.readFloats("base/" + p);
                    float[] tau = c.readFloats(name);
                    for (int i = 0; i < tau.length; i++) {
                        assertEquals(ft[i] - base[i], tau[i], 0f, name);
                    }
                }
            }
        }
        assertTrue(Files.isRegularFile(dir().resolve("large/inputs.safetensors")));
    }
}
