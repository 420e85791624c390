package dev.nps.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ParameterSetTest {
    private static final ParameterSet BASE = new ParameterSet(Map.of(
            "a", new FloatTensor(new long[] {2}, new float[] {1f, 2f}),
            "b", new FloatTensor(new long[] {1}, new float[] {5f})));

    @Test
    void plusScaledAddsInDoubleAndKeepsTensorsTheDeltaLacks() {
        ParameterSet delta = new ParameterSet(Map.of("a", new FloatTensor(new long[] {2}, new float[] {0.5f, -4f})));
        ParameterSet out = BASE.plusScaled(delta, 0.5);
        assertArrayEquals(new float[] {1.25f, 0f}, out.get("a").data());
        assertSame(BASE.get("b"), out.get("b"));
        assertArrayEquals(new float[] {1f, 2f}, BASE.get("a").data(), "the base is not modified");
    }

    @Test
    void plusScaledRefusesForeignNamesAndShapes() {
        assertThrows(StorageException.class, () -> BASE.plusScaled(
                new ParameterSet(Map.of("c", new FloatTensor(new long[] {1}, new float[] {1f}))), 1));
        assertThrows(StorageException.class, () -> BASE.plusScaled(
                new ParameterSet(Map.of("a", new FloatTensor(new long[] {1}, new float[] {1f}))), 1));
    }
}
