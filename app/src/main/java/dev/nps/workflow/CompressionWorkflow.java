package dev.nps.workflow;

import dev.nps.experiment.Experiment;
import dev.nps.experiment.Progress;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nps.coordinator.CandidateModels;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.Score;
import dev.nps.result.OutputDirectory;
import dev.nps.result.RunResult;
import dev.nps.result.RunResult.TaskResult;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.StorageException;
import dev.nps.storage.onnx.OnnxModel;
import dev.nps.storage.safetensors.SafetensorsWriter;
import dev.nps.storage.sparse.SparseTaskVector;
import dev.nps.storage.sparse.ValueEncoding;
import dev.nps.experiment.Experiment.Split;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code nps compress}: the base plus each task's NPS-pruned task vector stored sparse
 * (docs/compression-format.md); {@code nps decompress}: one task's model rebuilt from them.
 */
public final class CompressionWorkflow {
    static final String MANIFEST = "compressed.json";
    /** .npsv metadata binding a file to its task, and to the SHA-256 (hex) of the base.safetensors beside it. */
    public static final String TASK_KEY = "nps.task";
    public static final String BASE_SHA256_KEY = "nps.base.sha256";

    private CompressionWorkflow() {
    }

    /** {@code nps compress}: the base plus each task's NPS-pruned task vector in the sparse format, each rebuilt model scored. */
    public static RunResult compress(WorkflowContext context, SearchConfig config, ValueEncoding encoding) {
        Experiment ex = context.experiment();
        OutputDirectory out = context.out();
        Progress progress = context.progress();
        SearchListener listener = context.listener();
        dev.nps.coordinator.SearchRunner runner = context.searches();
        long t0 = System.nanoTime();
        SafetensorsWriter.write(out.resolve("base.safetensors"), ex.base(), Map.of("nps.role", "base"));
        String baseSha256 = dev.nps.storage.Sha256.ofFile(out.resolve("base.safetensors"), "file");
        List<Score> reference = Evaluations.finetunedScores(ex, Split.TEST, progress);
        List<TaskResult> results = new ArrayList<>();
        RunResult result = new RunResult("compress", ex.spec().file().toString(), "nps", config.keep(), 1.0);
        ObjectNode bytes = result.section("compression");
        bytes.put("encoding", encoding.name());
        bytes.put("formula", "paperBytes = ceil(32*k*n + n) / 8 per task (k = keep, n = task-vector entries)");
        ObjectNode manifestTasks = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        for (int t = 0; t < ex.taskCount(); t++) {
            String name = ex.spec().tasks().get(t).name();
            SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(t));
            SearchResult search = runner.run(setup, config.withSeed(config.seed() + t), listener);
            ParameterSet sparseTau = CandidateModels.of(setup, config).prunedTaskVector(search.bestSpec().getTasks(0));
            String file = "tasks/" + name + ".npsv";
            createDirectories(out.resolve("tasks"));
            Map<String, String> meta = Map.of(TASK_KEY, name, "nps.keep", Double.toString(config.keep()), BASE_SHA256_KEY, baseSha256);
            SparseTaskVector.fromDense(sparseTau).write(out.resolve(file), encoding, meta);
            // Score what a user gets back: the file as stored, read and rebuilt.
            ParameterSet rebuilt = rebuild(ex.base(), SparseTaskVector.read(out.resolve(file), ex.base()));
            Score s = ex.score(rebuilt, t, Split.TEST);
            results.add(new TaskResult(name, s.correct(), s.count(), s.value(), s.value() / reference.get(t).value()));
            long n = ex.taus().get(t).elementCount();
            long size = fileSize(out.resolve(file));
            ObjectNode b = bytes.putObject(name);
            b.put("file", file);
            b.put("bytes", size);
            b.put("entries", n);
            b.put("denseBytes", 4 * n);
            b.put("paperBytes", (SparseTaskVector.paperBits(n, config.keep()) + 7) / 8);
            b.put("searchTrajectorySha256", search.trajectorySha256());
            NpsWorkflow.writeHistory(b.putObject("search"), search);
            manifestTasks.putObject(name).put("file", file);
        }
        result.tasks(results);
        ObjectNode manifest = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        manifest.put("spec", ex.spec().file().toString());
        manifest.put("base", "base.safetensors");
        manifest.put("baseSha256", baseSha256);
        manifest.set("tasks", manifestTasks);
        out.write(MANIFEST, manifest.toPrettyString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Evaluations.recordScoring(ex, result);
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    /** Rebuilds one task's model from a compressed directory and scores it on the task's test split. */
    public static RunResult decompress(Path compressed, String task, Experiment ex, OutputDirectory out) {
        return decompress(compressed, task, ex, out, System.err::println);
    }

    /**
     * As above; {@code warnings} gets one line for a file written before files were bound to their base
     * (it is read, its layout checked against the base, but that it belongs to this base cannot be proven).
     */
    public static RunResult decompress(Path compressed, String task, Experiment ex, OutputDirectory out,
                                       java.util.function.Consumer<String> warnings) {
        long t0 = System.nanoTime();
        Manifest manifest = Manifest.read(compressed);
        Path file = manifest.tasks().get(task);
        if (file == null) {
            throw new StorageException(compressed + " holds no task '" + task + "' (tasks: " + String.join(", ", manifest.tasks().keySet()) + ")");
        }
        ParameterSet base;
        try (var c = dev.nps.storage.Checkpoint.open(manifest.base())) {
            base = c.readAllFloats();
        }
        SparseTaskVector.Stored stored = SparseTaskVector.readStored(file);
        requireBound(file, stored.metadata(), task, dev.nps.storage.Sha256.ofFile(manifest.base(), "file"), manifest.base(), warnings);
        SparseTaskVector sparse = SparseTaskVector.read(file, base);
        ParameterSet theta = ex.complete(rebuild(base, sparse));
        int t = ex.spec().taskIndex(task);
        Score s = ex.score(theta, t, Split.TEST);
        Score ref = ex.score(ex.finetuned(t), t, Split.TEST);
        SafetensorsWriter.write(out.resolve("model.safetensors"), theta, Map.of("nps.command", "decompress", "nps.task", task));
        OnnxModel.load(ex.spec().graph()).withInitializers(theta).write(out.resolve("model.onnx"));
        RunResult result = new RunResult("decompress", ex.spec().file().toString(), "nps", null, 1.0)
                .tasks(List.of(new TaskResult(task, s.correct(), s.count(), s.value(), s.value() / ref.value())));
        result.section("outputs").put("safetensors", "model.safetensors").put("onnx", "model.onnx");
        Evaluations.recordScoring(ex, result);
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    /**
     * A .npsv file must name the task asked for and the base beside it: a swapped file or base would
     * otherwise rebuild a wrong model without a word. A file without the base digest (written before
     * the binding existed) is accepted with a warning; one without a task name is refused.
     */
    static void requireBound(Path file, Map<String, String> metadata, String task, String baseSha256, Path base,
                             java.util.function.Consumer<String> warnings) {
        String storedTask = metadata.get(TASK_KEY);
        if (storedTask == null) {
            throw new StorageException(file + ": names no task (metadata '" + TASK_KEY + "' missing); cannot check it belongs to task '"
                    + task + "'");
        }
        if (!storedTask.equals(task)) {
            throw new StorageException(file + ": holds task '" + storedTask + "', not '" + task + "' (swapped or renamed file?)");
        }
        String storedBase = metadata.get(BASE_SHA256_KEY);
        if (storedBase == null) {
            warnings.accept("nps: warning: " + file + " was written without a base digest (an older nps): its layout matches "
                    + base + ", but that it was made from this base cannot be checked");
        } else if (!storedBase.equalsIgnoreCase(baseSha256)) {
            throw new StorageException(file + ": was made from a base with SHA-256 " + storedBase.substring(0, Math.min(12, storedBase.length()))
                    + "..., but " + base + " has " + baseSha256.substring(0, 12) + "... (swapped base or file?)");
        }
    }

    /** The spec a compressed directory was made from. */
    public static Path specOf(Path compressed) {
        return Manifest.read(compressed).spec();
    }

    /**
     * compressed.json, validated: every key present with the right type, every file path relative and
     * inside the directory (also after symbolic links), so a manifest can neither crash the reader nor
     * make it open a file elsewhere.
     */
    record Manifest(Path spec, Path base, java.util.SortedMap<String, Path> tasks) {

        static Manifest read(Path compressed) {
            Path m = compressed.resolve(MANIFEST);
            if (!Files.exists(m)) {
                throw new StorageException(compressed + " is not a compressed NPS directory (no " + MANIFEST + ")");
            }
            dev.nps.storage.InputFiles.requireRegularFile(m, "manifest");
            JsonNode root;
            try {
                root = new ObjectMapper().readTree(m.toFile());
            } catch (IOException e) {
                throw new StorageException(m + ": not valid JSON");
            }
            if (root == null || !root.isObject()) {
                throw new StorageException(m + ": not a JSON object");
            }
            Path dir = compressed.toAbsolutePath().normalize();
            Path spec = Path.of(text(m, root, "spec", "spec"));
            Path base = inside(m, dir, text(m, root, "base", "base"), "base");
            JsonNode tasks = root.get("tasks");
            if (tasks == null || !tasks.isObject()) {
                throw new StorageException(m + ": missing key 'tasks' (an object of task name to {\"file\": ...})");
            }
            java.util.TreeMap<String, Path> files = new java.util.TreeMap<>();
            for (Map.Entry<String, JsonNode> e : tasks.properties()) {
                if (!e.getValue().isObject()) {
                    throw new StorageException(m + ": tasks." + e.getKey() + " is not an object");
                }
                files.put(e.getKey(), inside(m, dir, text(m, e.getValue(), "file", "tasks." + e.getKey() + ".file"), "tasks." + e.getKey() + ".file"));
            }
            return new Manifest(spec, base, java.util.Collections.unmodifiableSortedMap(files));
        }

        private static String text(Path m, JsonNode node, String key, String where) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                throw new StorageException(m + ": missing key '" + where + "'");
            }
            if (!v.isTextual() || v.textValue().isBlank()) {
                throw new StorageException(m + ": '" + where + "' must be a non-empty string");
            }
            return v.textValue();
        }

        private static Path inside(Path m, Path dir, String value, String where) {
            Path p;
            try {
                p = Path.of(value);
            } catch (java.nio.file.InvalidPathException e) {
                throw new StorageException(m + ": '" + where + "' is not a path: " + value);
            }
            Path resolved = dir.resolve(p).normalize();
            if (p.isAbsolute() || !resolved.startsWith(dir) || resolved.equals(dir)) {
                throw new StorageException(m + ": '" + where + "' = '" + value + "' leaves the directory " + dir
                        + " (manifest paths must be relative and stay inside it)");
            }
            if (Files.exists(resolved)) {
                try {
                    Path real = resolved.toRealPath();
                    if (!real.startsWith(dir.toRealPath())) {
                        throw new StorageException(m + ": '" + where + "' = '" + value + "' resolves to " + real + ", outside " + dir);
                    }
                } catch (IOException e) {
                    throw StorageException.io("cannot resolve " + resolved, e);
                }
            } else {
                throw new StorageException(m + ": '" + where + "' names " + resolved + ", which does not exist");
            }
            return resolved;
        }
    }

    /** base + the stored sparse tau, entry by entry as the search materialized it. */
    static ParameterSet rebuild(ParameterSet base, SparseTaskVector sparse) {
        return base.plusScaled(sparse.toDense(), 1.0);
    }

    private static long fileSize(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new StorageException("cannot read the size of " + p);
        }
    }

    private static void createDirectories(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new StorageException("cannot create " + p);
        }
    }
}
