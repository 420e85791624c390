package dev.nps.kernels.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nps.kernels.merge.MergeMethod.Average;
import dev.nps.kernels.merge.MergeMethod.Consensus;
import dev.nps.kernels.merge.MergeMethod.Dare;
import dev.nps.kernels.merge.MergeMethod.TaskArithmetic;
import dev.nps.kernels.merge.MergeMethod.Ties;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Hand-computed merges of two task vectors over four entries. Tensors "b" and "a" are given in
 * that order but flatten as a0 a1 b0 b1 (sorted names); every value is a multiple of 1/4, so the
 * expected numbers below are exact.
 */
class MergeMethodTest {

    static ParameterSet set(float a0, float a1, float b0, float b1) {
        return new ParameterSet(Map.of(
                "b", new FloatTensor(new long[] {2}, new float[] {b0, b1}),
                "a", new FloatTensor(new long[] {2, 1}, new float[] {a0, a1})));
    }

    static float[] flat(ParameterSet p) {
        float[] a = p.get("a").data();
        float[] b = p.get("b").data();
        return new float[] {a[0], a[1], b[0], b[1]};
    }

    static final ParameterSet BASE = set(1, 2, 3, 4);
    static final ParameterSet TAU0 = set(0.5f, -1, 0.25f, 2);
    static final ParameterSet TAU1 = set(1, 1, -0.75f, -1);
    static final List<ParameterSet> TAUS = List.of(TAU0, TAU1);

    static float[] merge(MergeMethod m) {
        return flat(m.merge(BASE, TAUS));
    }

    @Test
    void taskArithmetic() {
        // sum = [1.5, 0, -0.5, 1]; theta = base + 0.5 * sum
        assertArrayEquals(new float[] {1.75f, 2, 2.75f, 4.5f}, merge(new TaskArithmetic(0.5)));
        assertArrayEquals(new float[] {1.5f, 0, -0.5f, 1}, flat(new TaskArithmetic(0.5).mergedTaskVector(TAUS)));
    }

    @Test
    void average() {
        // mean = [0.75, 0, -0.25, 0.5]
        assertArrayEquals(new float[] {1.75f, 2, 2.75f, 4.5f}, merge(new Average()));
        assertArrayEquals(new float[] {0.75f, 0, -0.25f, 0.5f}, flat(new Average().mergedTaskVector(TAUS)));
    }

    @Test
    void tiesSplitsTiesInFlattenedOrder() {
        // k = ceil(0.5 * 4) = 2. tau0: |.| = [.5, 1, .25, 2] -> keeps a1, b1: [0, -1, 0, 2].
        // tau1: |.| = [1, 1, .75, 1], three ties at 1 -> the first two, a0 and a1: [1, 1, 0, 0].
        // sums [1, 0, 0, 2] elect [+, none, none, +]; merged [1, 0, 0, 2].
        assertArrayEquals(new float[] {2, 2, 3, 6}, merge(new Ties(0.5, 1.0)));
    }

    @Test
    void tiesAveragesAgreeingValuesOnly() {
        // k = 3. tau0 keeps [.5, -1, 0, 2]; tau1 keeps its three 1s: [1, 1, 0, -1].
        // sums [1.5, 0, 0, 1] elect [+, none, none, +]; a0 = mean(.5, 1) = .75; b1 = 2 (the -1 disagrees).
        // theta = base + 2 * [.75, 0, 0, 2]
        assertArrayEquals(new float[] {2.5f, 2, 3, 8}, merge(new Ties(0.75, 2.0)));
        assertArrayEquals(new float[] {0.75f, 0, 0, 2}, flat(new Ties(0.75, 2.0).mergedTaskVector(TAUS)));
    }

    @Test
    void dareTaskArithmetic() {
        // uniform(42, 0, 0..3) = .7048 .1852 .7400 .7708 -> p = .5 drops tau0's a1;
        // uniform(42, 1, 0..3) = .1546 .7519 .8420 .8599 -> drops tau1's a0. Survivors double.
        // [1, 0, .5, 4] + [0, 2, -1.5, -2] = [1, 2, -1, 2]
        assertEquals(0.7048, Dare.uniform(42, 0, 0), 1e-4);
        assertEquals(0.1546, Dare.uniform(42, 1, 0), 1e-4);
        assertArrayEquals(new float[] {2, 4, 2, 6}, merge(new Dare(0.5, 42, new TaskArithmetic(1.0))));
    }

    @Test
    void dareTies() {
        // Same drops. Dropped tau0 [.5, 0, .25, 2] keeps b1 and a0; dropped tau1 [0, 1, -.75, -1] keeps a1 and b1.
        // Trimmed and doubled: [1, 0, 0, 4] and [0, 2, 0, -2]; sums [1, 2, 0, 2]; merged [1, 2, 0, 4].
        assertArrayEquals(new float[] {2, 4, 3, 8}, merge(new Dare(0.5, 42, new Ties(0.5, 1.0))));
    }

    @Test
    void dareWithoutDropsIsTheInnerMethod() {
        assertArrayEquals(merge(new TaskArithmetic(0.7)), merge(new Dare(0, 9, new TaskArithmetic(0.7))));
        assertArrayEquals(merge(new Ties(0.5, 1.3)), merge(new Dare(0, 9, new Ties(0.5, 1.3))));
    }

    @Test
    void consensus() {
        // tau_MTL = [1.5, 0, -.5, 1]; |tau_MTL - tau_t| is the other task's |tau|.
        // task 0: .5 >= .4, 1 >= .4, .25 < .3, 2 >= .4; task 1 supports all four. Votes [2, 2, 1, 2].
        assertArrayEquals(new float[] {2.5f, 2, 3, 5}, merge(new Consensus(2, 0.4, 1.0)));
        assertArrayEquals(merge(new Consensus(2, 0.4, 1.0)), merge(new Consensus(1.0)));
        // k = 1: every entry has a vote, so this is Task Arithmetic.
        assertArrayEquals(new float[] {2.5f, 2, 2.5f, 5}, merge(new Consensus(1, 0.4, 1.0)));
        // Per-task lambdas [.4, 2]: task 1 supports a0 (1 >= 2 * .5, equality counts) and b0 only.
        assertArrayEquals(new float[] {2.5f, 2, 3, 4}, merge(new Consensus(2, List.of(0.4, 2.0), 1.0)));
    }

    @Test
    void plusScaledOfTheMergedTaskVectorIsTheMerge() {
        for (MergeMethod m : List.of(new TaskArithmetic(0.3), new Ties(0.5, 1.7), new Average(),
                new Consensus(0.9), new Dare(0.5, 42, new Ties(0.75, 0.6)))) {
            ParameterSet viaDelta = MergeMethod.plusScaled(BASE, m.mergedTaskVector(TAUS), m.lambda());
            assertArrayEquals(merge(m), flat(viaDelta), m.toString());
        }
    }

    @Test
    void singleTaskTiesWithKeepOneIsTaskArithmetic() {
        assertArrayEquals(flat(new TaskArithmetic(0.7).merge(BASE, List.of(TAU0))),
                flat(new Ties(1.0, 0.7).merge(BASE, List.of(TAU0))));
    }

    private static void refused(String message, Executable e) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, e).getMessage());
    }

    @Test
    void refusesBadParameters() {
        refused("lambda must be finite, got NaN", () -> new TaskArithmetic(Double.NaN));
        refused("lambda must be finite, got Infinity", () -> new Ties(0.5, Double.POSITIVE_INFINITY));
        refused("keep must be in (0, 1], got 0.0", () -> new Ties(0, 1));
        refused("keep must be in (0, 1], got 1.1", () -> new Ties(1.1, 1));
        refused("DARE drop rate p must be in [0, 1), got 1.0", () -> new Dare(1, 0, new TaskArithmetic(1)));
        refused("DARE drop rate p must be in [0, 1), got -0.1", () -> new Dare(-0.1, 0, new TaskArithmetic(1)));
        refused("DARE feeds Task Arithmetic or TIES, not Average[]", () -> new Dare(0.1, 0, new Average()));
        refused("consensus k must be >= 1, got 0", () -> new Consensus(0, 0.4, 1));
        refused("mask lambda must be finite and >= 0, got -1.0", () -> new Consensus(2, -1, 1));
        refused("consensus needs a mask lambda", () -> new Consensus(2, List.of(), 1));
    }

    @Test
    void refusesBadInputs() {
        refused("a merge needs at least one task vector", () -> new TaskArithmetic(1).merge(BASE, List.of()));
        ParameterSet missing = new ParameterSet(Map.of("a", new FloatTensor(new long[] {2, 1}, new float[2])));
        refused("task vector 1 lacks tensor 'b' of the base", () -> new TaskArithmetic(1).merge(BASE, List.of(TAU0, missing)));
        ParameterSet reshaped = new ParameterSet(Map.of(
                "a", new FloatTensor(new long[] {2}, new float[2]), "b", new FloatTensor(new long[] {2}, new float[2])));
        refused("tensor 'a' has shape [2] in task vector 0 but [2, 1] in the base",
                () -> new Average().merge(BASE, List.of(reshaped)));
        ParameterSet extra = new ParameterSet(Map.of(
                "a", new FloatTensor(new long[] {2, 1}, new float[2]), "b", new FloatTensor(new long[] {2}, new float[2]),
                "c", new FloatTensor(new long[] {1}, new float[1])));
        refused("task vector 0 has tensor 'c' that the base lacks", () -> new Average().merge(BASE, List.of(extra)));
        refused("task vector 1 lacks tensor 'b' of task vector 0",
                () -> new TaskArithmetic(1).mergedTaskVector(List.of(TAU0, missing)));
        refused("consensus k=3 exceeds the 2 task vectors: no entry could be kept",
                () -> new Consensus(3, 0.4, 1).merge(BASE, TAUS));
        refused("consensus has 3 mask lambdas for 2 task vectors; give one for all or one per task",
                () -> new Consensus(2, List.of(0.1, 0.2, 0.3), 1).merge(BASE, TAUS));
        refused("delta lacks tensor 'b' of the base", () -> MergeMethod.plusScaled(BASE, missing, 1));
    }
}
