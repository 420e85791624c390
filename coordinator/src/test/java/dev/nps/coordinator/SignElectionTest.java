package dev.nps.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.nps.protocol.TaskMask;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.subspace.SubspacePartition;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SignElectionTest {

    private static ParameterSet vector(float... v) {
        Map<String, FloatTensor> m = new TreeMap<>();
        m.put("w", new FloatTensor(new long[] {v.length}, v));
        return new ParameterSet(m);
    }

    /** The mask of the full vector: every entry kept (one subspace over everything, keep all). */
    private static TaskMask keepAll(int task, SubspacePartition p) {
        TaskMask.Builder b = TaskMask.newBuilder().setTask(task).setLambda(1);
        for (long k : p.maskFor(new double[] {1.0}).keptPerSubspace()) {
            b.addKept(k);
        }
        return b.build();
    }

    @Test
    void entriesAgainstTheElectedSignAreZeroedAndOthersKept() {
        ParameterSet a = vector(1f, -2f, 3f, 0.5f, -1f);
        ParameterSet b = vector(-3f, 1f, 1f, -0.5f, 2f);
        ParameterSet untouched = vector(9f, 9f, 9f, 9f, 9f);
        Map<Integer, SubspacePartition> parts = Map.of(
                0, SubspacePartition.build(a.flatView(), 1, 5, SubspacePartition.Kind.ALL, 1),
                1, SubspacePartition.build(b.flatView(), 1, 5, SubspacePartition.Kind.ALL, 1));
        List<ParameterSet> out = SignElection.filter(List.of(a, b, untouched),
                List.of(keepAll(0, parts.get(0)), keepAll(1, parts.get(1))), parts);
        // sums: -2, -1, 4, 0, 1 -> elected signs -, -, +, none, +
        assertArrayEquals(new float[] {0f, -2f, 3f, 0f, 0f}, out.get(0).flatView()[0]);
        assertArrayEquals(new float[] {-3f, 0f, 1f, 0f, 2f}, out.get(1).flatView()[0]);
        assertSame(untouched, out.get(2));
    }

    @Test
    void onlyMaskedEntriesVote() {
        ParameterSet a = vector(5f, 0.1f);
        ParameterSet b = vector(-1f, -4f);
        // Each task keeps its single largest entry: a keeps entry 0 (+5), b keeps entry 1 (-4).
        Map<Integer, SubspacePartition> parts = Map.of(
                0, SubspacePartition.build(a.flatView(), 1, 1, SubspacePartition.Kind.ALL, 1),
                1, SubspacePartition.build(b.flatView(), 1, 1, SubspacePartition.Kind.ALL, 1));
        List<ParameterSet> out = SignElection.filter(List.of(a, b),
                List.of(keepAll(0, parts.get(0)), keepAll(1, parts.get(1))), parts);
        // Elected: entry 0 from a alone (+), entry 1 from b alone (-); b's -1 at entry 0 disagrees.
        assertArrayEquals(new float[] {5f, 0f}, out.get(0).flatView()[0]);
        assertArrayEquals(new float[] {0f, -4f}, out.get(1).flatView()[0]);
    }
}
