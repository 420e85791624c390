package dev.nps.workflow;

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
import dev.nps.workflow.Experiment.Split;
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

    private CompressionWorkflow() {
    }

    public static RunResult compress(Experiment ex, SearchConfig config, ValueEncoding encoding, OutputDirectory out,
                                     Progress progress, SearchListener listener) {
        return compress(ex, config, encoding, out, progress, listener, dev.nps.coordinator.SearchRunner.EMBEDDED);
    }

    /** As above, with searches run by {@code runner} (e.g. on a cluster). */
    public static RunResult compress(Experiment ex, SearchConfig config, ValueEncoding encoding, OutputDirectory out,
                                     Progress progress, SearchListener listener, dev.nps.coordinator.SearchRunner runner) {
        long t0 = System.nanoTime();
        SafetensorsWriter.write(out.resolve("base.safetensors"), ex.base(), Map.of("nps.role", "base"));
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
            Map<String, String> meta = Map.of("nps.task", name, "nps.keep", Double.toString(config.keep()));
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
        manifest.set("tasks", manifestTasks);
        out.write(MANIFEST, manifest.toPrettyString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ex.recordScoring(result);
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    /** Rebuilds one task's model from a compressed directory and scores it on the task's test split. */
    public static RunResult decompress(Path compressed, String task, Experiment ex, OutputDirectory out) {
        long t0 = System.nanoTime();
        JsonNode manifest = readManifest(compressed);
        JsonNode entry = manifest.get("tasks").get(task);
        if (entry == null) {
            throw new StorageException(compressed + " holds no task '" + task + "'");
        }
        ParameterSet base;
        try (var c = dev.nps.storage.Checkpoint.open(compressed.resolve(manifest.get("base").asText()))) {
            base = c.readAllFloats();
        }
        ParameterSet theta = ex.complete(rebuild(base, SparseTaskVector.read(compressed.resolve(entry.get("file").asText()), base)));
        int t = ex.spec().taskIndex(task);
        Score s = ex.score(theta, t, Split.TEST);
        Score ref = ex.score(ex.finetuned(t), t, Split.TEST);
        SafetensorsWriter.write(out.resolve("model.safetensors"), theta, Map.of("nps.command", "decompress", "nps.task", task));
        OnnxModel.load(ex.spec().graph()).withInitializers(theta).write(out.resolve("model.onnx"));
        RunResult result = new RunResult("decompress", ex.spec().file().toString(), "nps", null, 1.0)
                .tasks(List.of(new TaskResult(task, s.correct(), s.count(), s.value(), s.value() / ref.value())));
        result.section("outputs").put("safetensors", "model.safetensors").put("onnx", "model.onnx");
        ex.recordScoring(result);
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    /** The spec a compressed directory was made from. */
    public static Path specOf(Path compressed) {
        return Path.of(readManifest(compressed).get("spec").asText());
    }

    private static JsonNode readManifest(Path compressed) {
        Path m = compressed.resolve(MANIFEST);
        if (!Files.isRegularFile(m)) {
            throw new StorageException(compressed + " is not a compressed NPS directory (no " + MANIFEST + ")");
        }
        try {
            return new ObjectMapper().readTree(m.toFile());
        } catch (IOException e) {
            throw new StorageException(m + ": not valid JSON");
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
