package dev.nps.storage.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.storage.Checkpoint;
import dev.nps.storage.DType;
import dev.nps.storage.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedCheckpointTest {
    @TempDir
    Path dir;

    private void shards() {
        new SafetensorsWriter().addFloats("layer.0.w", new long[] {2}, new float[] {1, 2}, DType.F32)
                .addFloats("layer.0.b", new long[] {1}, new float[] {3}, DType.BF16)
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().addFloats("layer.1.w", new long[] {2, 1}, new float[] {4, 5}, DType.F16)
                .addLongs("position_ids", new long[] {2}, new long[] {0, 1})
                .write(dir.resolve("model-00002-of-00002.safetensors"));
    }

    private void index(String weightMap) throws IOException {
        Files.writeString(dir.resolve(ShardedCheckpoint.INDEX),
                "{\"metadata\":{\"total_size\":30,\"format\":\"pt\"},\"weight_map\":{" + weightMap + "}}");
    }

    private static final String GOOD_MAP = "\"layer.0.w\":\"model-00001-of-00002.safetensors\","
            + "\"layer.0.b\":\"model-00001-of-00002.safetensors\","
            + "\"layer.1.w\":\"model-00002-of-00002.safetensors\","
            + "\"position_ids\":\"model-00002-of-00002.safetensors\"";

    @Test
    void opensAShardedDirectory() throws IOException {
        shards();
        index(GOOD_MAP);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertInstanceOf(ShardedCheckpoint.class, c);
            assertEquals(List.of("layer.0.b", "layer.0.w", "layer.1.w", "position_ids"), c.names());
            assertEquals(Map.of("total_size", "30", "format", "pt"), c.metadata());
            assertArrayEquals(new float[] {4, 5}, c.readFloats("layer.1.w"));
            assertArrayEquals(new float[] {3}, c.readFloats("layer.0.b"));
            assertEquals(DType.I64, c.info("position_ids").dtype());
            assertEquals(16, c.bytes("position_ids").byteSize());
            assertEquals(List.of("layer.0.b", "layer.0.w", "layer.1.w"), List.copyOf(c.readAllFloats().names()));
            StorageException e = assertThrows(StorageException.class, () -> c.info("nope"));
            assertEquals(dir + ": no tensor 'nope'", e.getMessage());
        }
    }

    @Test
    void missingShardFile() throws IOException {
        shards();
        index(GOOD_MAP + ",\"layer.2.w\":\"model-00003-of-00003.safetensors\"");
        StorageException e = assertThrows(StorageException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().endsWith("shard file 'model-00003-of-00003.safetensors' does not exist"), e.getMessage());
    }

    @Test
    void mappedTensorAbsentFromItsShard() throws IOException {
        shards();
        index(GOOD_MAP.replace("\"layer.1.w\":\"model-00002", "\"layer.1.w\":\"model-00001"));
        StorageException e = assertThrows(StorageException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().endsWith("tensor 'layer.1.w' is mapped to 'model-00001-of-00002.safetensors' but that shard does not hold it"),
                e.getMessage());
    }

    @Test
    void tensorInTwoShards() throws IOException {
        shards();
        new SafetensorsWriter().addFloats("layer.0.w", new long[] {2}, new float[] {1, 2}, DType.F32).write(dir.resolve("extra.safetensors"));
        index(GOOD_MAP + ",\"x\":\"extra.safetensors\"");
        StorageException e = assertThrows(StorageException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("tensor 'layer.0.w' is in two shards"), e.getMessage());
    }

    @Test
    void shardOutsideTheDirectoryOrBadIndex() throws IOException {
        shards();
        index("\"a\":\"../evil.safetensors\"");
        assertTrue(assertThrows(StorageException.class, () -> Checkpoint.open(dir)).getMessage().contains("is outside"));
        Files.writeString(dir.resolve(ShardedCheckpoint.INDEX), "{\"weight_map\": [");
        assertTrue(assertThrows(StorageException.class, () -> Checkpoint.open(dir)).getMessage().contains("not valid JSON"));
        Files.writeString(dir.resolve(ShardedCheckpoint.INDEX), "{\"metadata\":{}}");
        assertTrue(assertThrows(StorageException.class, () -> Checkpoint.open(dir)).getMessage().contains("\"weight_map\" object"));
    }

    @Test
    void openOnDirectoriesWithoutAnIndex() throws IOException {
        StorageException e = assertThrows(StorageException.class, () -> Checkpoint.open(dir));
        assertEquals(dir + " is a directory with no .safetensors files and no model.safetensors.index.json; name a file or add the index",
                e.getMessage());
        shards();
        e = assertThrows(StorageException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("is a directory with 2 .safetensors files"), e.getMessage());
        new SafetensorsWriter().addFloats("w", new long[] {1}, new float[] {9}, DType.F32).write(dir.resolve("model.safetensors"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(List.of("w"), c.names());
        }
        Path single = Files.createDirectory(dir.resolve("single"));
        new SafetensorsWriter().addFloats("v", new long[] {1}, new float[] {9}, DType.F32).write(single.resolve("weights.safetensors"));
        try (Checkpoint c = Checkpoint.open(single)) {
            assertEquals(List.of("v"), c.names());
        }
        Path missing = dir.resolve("missing");
        assertEquals(missing + ": no such file or directory", assertThrows(StorageException.class, () -> Checkpoint.open(missing)).getMessage());
    }
}
