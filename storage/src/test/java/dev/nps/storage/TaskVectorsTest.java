package dev.nps.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.storage.safetensors.SafetensorsWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskVectorsTest {
    @TempDir
    Path dir;

    private static FloatTensor t(long[] shape, float... v) {
        return new FloatTensor(shape, v);
    }

    private static final ParameterSet BASE = new ParameterSet(Map.of(
            "enc.w", t(new long[] {2, 2}, 1, 2, 3, 4),
            "enc.b", t(new long[] {2}, 0.5f, -0.5f),
            "old_head", t(new long[] {1}, 7)));

    private static final ParameterSet FT = new ParameterSet(Map.of(
            "enc.w", t(new long[] {2, 2}, 1.5f, 2, 2, 4.25f),
            "enc.b", t(new long[] {2}, 0.5f, 0.5f),
            "task_head", t(new long[] {3}, 9, 8, 7)));

    @Test
    void sharedCarriedAndBaseOnly() {
        TaskVector tv = TaskVectors.compute(BASE, FT, UnsharedPolicy.CARRY);
        // A base-only name keeps the base's value: a zero entry, so every task vector covers the base's names.
        assertEquals(Set.of("enc.b", "enc.w", "old_head"), tv.tau().names());
        assertArrayEquals(new float[] {0}, tv.tau().get("old_head").data());
        assertArrayEquals(new float[] {0.5f, 0, -1, 0.25f}, tv.tau().get("enc.w").data());
        assertArrayEquals(new long[] {2, 2}, tv.tau().get("enc.w").shape());
        assertArrayEquals(new float[] {0, 1}, tv.tau().get("enc.b").data());
        assertEquals(Set.of("task_head"), tv.carried().names());
        assertSame(FT.get("task_head"), tv.carried().get("task_head"));
        assertEquals(List.of("old_head"), List.copyOf(tv.baseOnly()));
    }

    @Test
    void tauIsComputedInFloat32() {
        // 1e8 + 1 is not a float32; the difference is taken between the stored float32 values.
        ParameterSet b = new ParameterSet(Map.of("w", t(new long[] {2}, 1e8f, 0.1f)));
        ParameterSet f = new ParameterSet(Map.of("w", t(new long[] {2}, 1e8f + 8, 0.3f)));
        float[] tau = TaskVectors.compute(b, f, UnsharedPolicy.ERROR).tau().get("w").data();
        assertArrayEquals(new float[] {8f, 0.3f - 0.1f}, tau);
    }

    @Test
    void errorPolicyRefusesUnsharedNames() {
        StorageException e = assertThrows(StorageException.class, () -> TaskVectors.compute(BASE, FT, UnsharedPolicy.ERROR));
        assertEquals("'task_head' is only in the fine-tuned checkpoint (unshared-parameter policy is ERROR)", e.getMessage());
        ParameterSet ftWithOld = new ParameterSet(Map.of("enc.w", FT.get("enc.w"), "enc.b", FT.get("enc.b")));
        e = assertThrows(StorageException.class, () -> TaskVectors.compute(BASE, ftWithOld, UnsharedPolicy.ERROR));
        assertEquals("'old_head' is only in the base checkpoint (unshared-parameter policy is ERROR)", e.getMessage());
    }

    @Test
    void shapeMismatch() {
        ParameterSet f = new ParameterSet(Map.of("enc.w", t(new long[] {4}, 1, 2, 3, 4)));
        StorageException e = assertThrows(StorageException.class, () -> TaskVectors.compute(BASE, f, UnsharedPolicy.CARRY));
        assertEquals("shape mismatch for 'enc.w': base [2, 2] vs fine-tuned [4]", e.getMessage());
    }

    @Test
    void nonFiniteValuesAreRefused() {
        ParameterSet nan = new ParameterSet(Map.of("enc.b", t(new long[] {2}, 0, Float.NaN)));
        assertEquals("fine-tuned tensor 'enc.b' has non-finite value NaN at flat index 1",
                assertThrows(StorageException.class, () -> TaskVectors.compute(BASE, nan, UnsharedPolicy.CARRY)).getMessage());
        ParameterSet inf = new ParameterSet(Map.of("enc.b", t(new long[] {2}, Float.NEGATIVE_INFINITY, 0)));
        assertEquals("base tensor 'enc.b' has non-finite value -Infinity at flat index 0",
                assertThrows(StorageException.class, () -> TaskVectors.compute(inf, FT, UnsharedPolicy.CARRY)).getMessage());
        ParameterSet carriedNan = new ParameterSet(Map.of("head", t(new long[] {1}, Float.POSITIVE_INFINITY)));
        assertThrows(StorageException.class, () -> TaskVectors.compute(BASE, carriedNan, UnsharedPolicy.CARRY));
        ParameterSet huge = new ParameterSet(Map.of("w", t(new long[] {1}, Float.MAX_VALUE)));
        ParameterSet negHuge = new ParameterSet(Map.of("w", t(new long[] {1}, -Float.MAX_VALUE)));
        assertEquals("task vector of 'w' (fine-tuned - base overflows float32) has non-finite value Infinity at flat index 0",
                assertThrows(StorageException.class, () -> TaskVectors.compute(negHuge, huge, UnsharedPolicy.CARRY)).getMessage());
    }

    @Test
    void fromCheckpointsUsesOnlyFloatingTensorsAndRefusesDtypeMismatch() {
        Path base = dir.resolve("base.safetensors");
        Path ft = dir.resolve("ft.safetensors");
        new SafetensorsWriter().addFloats("w", new long[] {2}, new float[] {1, 2}, DType.F32)
                .addLongs("steps", new long[] {1}, new long[] {0}).write(base);
        new SafetensorsWriter().addFloats("w", new long[] {2}, new float[] {1.5f, 2}, DType.BF16)
                .addLongs("steps", new long[] {1}, new long[] {100}).write(ft);
        try (Checkpoint b = Checkpoint.open(base); Checkpoint f = Checkpoint.open(ft)) {
            TaskVector tv = TaskVectors.compute(b, f, UnsharedPolicy.ERROR);
            assertEquals(Set.of("w"), tv.tau().names());
            assertArrayEquals(new float[] {0.5f, 0}, tv.tau().get("w").data());
        }
        new SafetensorsWriter().addLongs("w", new long[] {2}, new long[] {1, 2}).write(ft);
        try (Checkpoint b = Checkpoint.open(base); Checkpoint f = Checkpoint.open(ft)) {
            assertEquals("dtype mismatch for 'w': base F32 vs fine-tuned I64 (a floating weight cannot be paired with an integer or bool tensor)",
                    assertThrows(StorageException.class, () -> TaskVectors.compute(b, f, UnsharedPolicy.CARRY)).getMessage());
        }
        // The other way round: an integer buffer in the base may not get a fine-tuned float (it would be carried over it).
        new SafetensorsWriter().addFloats("w", new long[] {2}, new float[] {1, 2}, DType.F32)
                .addFloats("steps", new long[] {1}, new float[] {3}, DType.F16).write(ft);
        try (Checkpoint b = Checkpoint.open(base); Checkpoint f = Checkpoint.open(ft)) {
            assertTrue(assertThrows(StorageException.class, () -> TaskVectors.compute(b, f, UnsharedPolicy.CARRY)).getMessage()
                    .startsWith("dtype mismatch for 'steps': base I64 vs fine-tuned F16"));
        }
    }
}
