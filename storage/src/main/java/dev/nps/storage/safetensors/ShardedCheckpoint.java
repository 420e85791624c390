package dev.nps.storage.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nps.storage.Checkpoint;
import dev.nps.storage.InputFiles;
import dev.nps.storage.StorageException;
import dev.nps.storage.TensorInfo;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A Hugging Face style sharded checkpoint: a directory with {@value #INDEX} of the form
 * {"metadata": {...}, "weight_map": {tensor: shard file}} next to the shard files. Every tensor
 * of every referenced shard is part of the checkpoint (as transformers loads them); each must be
 * in exactly one shard, and the weight map must point at the shard that holds it.
 */
public final class ShardedCheckpoint implements Checkpoint {
    public static final String INDEX = "model.safetensors.index.json";

    private final Path directory;
    private final List<SafetensorsFile> shards;
    private final TreeMap<String, SafetensorsFile> byTensor;
    private final List<String> names;
    private final Map<String, String> metadata;

    private ShardedCheckpoint(Path directory, List<SafetensorsFile> shards, TreeMap<String, SafetensorsFile> byTensor,
            Map<String, String> metadata) {
        this.directory = directory;
        this.shards = shards;
        this.byTensor = byTensor;
        this.names = List.copyOf(byTensor.keySet());
        this.metadata = metadata;
    }

    /** Opens the directory's {@value #INDEX} and every shard it names. */
    public static ShardedCheckpoint open(Path directory) {
        Path indexPath = directory.resolve(INDEX);
        JsonNode root;
        InputFiles.requireRegularFile(indexPath, "checkpoint index");
        try {
            root = SafetensorsFile.JSON.readTree(Files.readAllBytes(indexPath));
        } catch (JacksonException e) {
            throw new StorageException(indexPath + ": not valid JSON: " + SafetensorsFile.oneLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw StorageException.io("cannot read " + indexPath, e);
        }
        if (root == null || !root.isObject() || !root.path("weight_map").isObject()) {
            throw new StorageException(indexPath + ": expected a JSON object with a \"weight_map\" object");
        }
        TreeMap<String, String> metadata = new TreeMap<>();
        JsonNode meta = root.path("metadata");
        if (meta.isObject()) {
            // HF writes e.g. {"total_size": 123}: keep scalars as their text.
            meta.properties().forEach(e -> metadata.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString()));
        }
        TreeMap<String, String> weightMap = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : root.get("weight_map").properties()) {
            if (!e.getValue().isTextual()) {
                throw new StorageException(indexPath + ": weight_map entry for '" + e.getKey() + "' is not a file name");
            }
            weightMap.put(e.getKey(), e.getValue().textValue());
        }
        Path dir = directory.toAbsolutePath().normalize();
        TreeMap<String, SafetensorsFile> shardFiles = new TreeMap<>();
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (String shard : new TreeSet<>(weightMap.values())) {
                Path p = dir.resolve(shard).normalize();
                if (!p.startsWith(dir) || p.equals(dir)) {
                    throw new StorageException(indexPath + ": shard '" + shard + "' is outside " + directory);
                }
                if (!Files.isRegularFile(p)) {
                    throw new StorageException(indexPath + ": shard file '" + shard + "' does not exist");
                }
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                shardFiles.put(shard, f);
            }
            TreeMap<String, SafetensorsFile> byTensor = new TreeMap<>();
            TreeMap<String, String> shardOf = new TreeMap<>();
            shardFiles.forEach((shard, f) -> {
                for (String name : f.names()) {
                    String other = shardOf.putIfAbsent(name, shard);
                    if (other != null) {
                        throw new StorageException(directory + ": tensor '" + name + "' is in two shards, '" + other + "' and '" + shard + "'");
                    }
                    byTensor.put(name, f);
                }
            });
            weightMap.forEach((name, shard) -> {
                if (!shard.equals(shardOf.get(name))) {
                    throw new StorageException(indexPath + ": tensor '" + name + "' is mapped to '" + shard + "' but that shard does not hold it");
                }
            });
            ShardedCheckpoint c = new ShardedCheckpoint(directory, List.copyOf(opened), byTensor, Collections.unmodifiableMap(metadata));
            opened = List.of();
            return c;
        } finally {
            opened.forEach(SafetensorsFile::close);
        }
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new StorageException(directory + ": no tensor '" + name + "'");
        }
        return f;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return shard(name).info(name);
    }

    @Override
    public MemorySegment bytes(String name) {
        return shard(name).bytes(name);
    }

    @Override
    public float[] readFloats(String name) {
        return shard(name).readFloats(name);
    }

    /** The index's "metadata" object, values as text. */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "ShardedCheckpoint[" + directory + ", " + shards.size() + " shards, " + byTensor.size() + " tensors]";
    }
}
