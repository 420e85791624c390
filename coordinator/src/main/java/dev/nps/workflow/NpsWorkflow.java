package dev.nps.workflow;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nps.coordinator.CandidateModels;
import dev.nps.coordinator.GenerationStats;
import dev.nps.coordinator.NpsSearch;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.Score;
import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.TaskMask;
import dev.nps.result.OutputDirectory;
import dev.nps.result.RunResult;
import dev.nps.result.RunResult.TaskResult;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.onnx.OnnxModel;
import dev.nps.storage.safetensors.SafetensorsWriter;
import dev.nps.workflow.Experiment.Split;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The NPS commands: prune one task vector by a CMA-ES search over subspace weights, and merge
 * all tasks by pruning each one and then searching one lambda per task. Searches see only
 * calibration data; the written model is then scored on the test splits.
 */
public final class NpsWorkflow {
    private NpsWorkflow() {
    }

    /** {@code nps prune}: searches subspace weights for one task; compares with plain magnitude top-k. */
    public static RunResult prune(Experiment ex, String taskName, SearchConfig config, OutputDirectory out,
                                  Progress progress, SearchListener listener) {
        long t0 = System.nanoTime();
        int t = ex.spec().taskIndex(taskName);
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(t));
        SearchResult search = NpsSearch.run(setup, config, listener);
        CandidateModels models = CandidateModels.of(setup, config);
        ParameterSet theta = models.materialize(search.bestSpec());
        ParameterSet control = models.materialize(models.magnitudeControl());

        progress.start("scoring on test", 3);
        Score reference = ex.score(ex.finetuned(t), t, Split.TEST);
        progress.step();
        Score pruned = ex.score(theta, t, Split.TEST);
        progress.step();
        Score magnitude = ex.score(control, t, Split.TEST);
        progress.step();
        progress.done();

        RunResult result = new RunResult("prune", ex.spec().file().toString(), "nps", config.keep(), 1.0)
                .tasks(List.of(new TaskResult(taskName, pruned.correct(), pruned.count(), pruned.value(),
                        pruned.value() / reference.value())));
        ObjectNode ctrl = result.section("control");
        ctrl.put("description", "every subspace weight fixed at 1: plain magnitude top-k at the same keep");
        ctrl.put("accuracy", magnitude.value());
        ctrl.put("normalizedAccuracy", magnitude.value() / reference.value());
        result.root().put("finetunedAccuracy", reference.value());
        writeSearch(result, search, config);
        writeModel(ex, theta, out, result, "prune");
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    /**
     * {@code nps merge --method nps}: each task vector is NPS-pruned on its own calibration data,
     * then one lambda per task is searched on the mean calibration accuracy over all tasks. The
     * control runs the same lambda search over plain magnitude top-k masks.
     */
    public static RunResult merge(Experiment ex, SearchConfig config, boolean control, OutputDirectory out,
                                  Progress progress, SearchListener listener) {
        long t0 = System.nanoTime();
        int tasks = ex.taskCount();
        List<Integer> all = IntStream.range(0, tasks).boxed().toList();
        Map<Integer, SearchSetup.FixedMask> masks = new HashMap<>();
        List<SearchResult> pruneSearches = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
            SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(t));
            SearchResult r = NpsSearch.run(setup, config.withSeed(config.seed() + t), listener);
            pruneSearches.add(r);
            TaskMask best = r.bestSpec().getTasks(0);
            double[] scales = best.getScalesCount() == 0 ? null
                    : best.getScalesList().stream().mapToDouble(Double::doubleValue).toArray();
            masks.put(t, new SearchSetup.FixedMask(best.getKeptList().stream().mapToLong(Long::longValue).toArray(), scales));
        }
        SearchSetup fusion = SearchSetup.of(ex, SearchKind.FUSION, all, all, masks);
        SearchResult lambdas = NpsSearch.run(fusion, config, listener);
        ParameterSet theta = CandidateModels.of(fusion, config).materialize(lambdas.bestSpec());

        List<Score> reference = Evaluations.finetunedScores(ex, Split.TEST, progress);
        List<Score> scores = Evaluations.scoreModel(ex, theta, Split.TEST, "merged model (test)", progress);
        RunResult result = new RunResult("merge", ex.spec().file().toString(), "nps", config.keep(), null)
                .tasks(Evaluations.taskResults(ex, scores, reference));
        ArrayNode perTask = result.root().putArray("lambdas");
        lambdas.bestSpec().getTasksList().forEach(tm -> perTask.add(tm.getLambda()));
        ObjectNode prune = result.section("prune");
        for (int t = 0; t < tasks; t++) {
            SearchResult r = pruneSearches.get(t);
            ObjectNode n = prune.putObject(ex.spec().tasks().get(t).name());
            n.put("calibrationAccuracy", r.bestAccuracy());
            n.set("bestWeights", doubles(r.bestWeights()));
            n.put("trajectorySha256", r.trajectorySha256());
        }
        writeSearch(result, lambdas, config);
        if (control) {
            SearchSetup plain = SearchSetup.of(ex, SearchKind.FUSION, all, all, Map.of());
            SearchResult plainLambdas = NpsSearch.run(plain, config, listener);
            ParameterSet plainTheta = CandidateModels.of(plain, config).materialize(plainLambdas.bestSpec());
            List<Score> plainScores = Evaluations.scoreModel(ex, plainTheta, Split.TEST, "control (test)", progress);
            ObjectNode ctrl = result.section("control");
            ctrl.put("description", "every subspace weight fixed at 1 (magnitude top-k), same per-task lambda search");
            ctrl.put("meanAccuracy", Evaluations.mean(plainScores));
            ctrl.put("calibrationMeanAccuracy", plainLambdas.bestAccuracy());
            ArrayNode pl = ctrl.putArray("lambdas");
            plainLambdas.bestSpec().getTasksList().forEach(tm -> pl.add(tm.getLambda()));
        }
        writeModel(ex, theta, out, result, "merge");
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    private static void writeSearch(RunResult result, SearchResult r, SearchConfig config) {
        ObjectNode s = result.section("search");
        s.put("seed", r.seed());
        s.put("generations", r.generations());
        s.put("population", r.population());
        s.put("candidates", r.candidates());
        s.put("batchesPerCandidate", r.batchesPerCandidate());
        s.put("batchesEvaluated", r.batchesEvaluated());
        s.put("batchesSkipped", r.batchesSkipped());
        s.put("batchesSkippedByCache", r.batchesSkippedByCache());
        s.put("batchesSkippedByAbort", r.batchesSkippedByAbort());
        s.put("cacheHits", r.cacheHits());
        s.put("abortedCandidates", r.abortedCandidates());
        s.set("bestWeights", doubles(r.bestWeights()));
        s.put("bestCalibrationAccuracy", r.bestAccuracy());
        s.put("trajectorySha256", r.trajectorySha256());
        s.put("abort", config.abort().name().toLowerCase());
        s.put("subspaces", config.subspaces());
        s.put("partition", config.partition().name().toLowerCase());
        s.put("values", config.values().name().toLowerCase());
        s.put("evaluators", config.evaluators());
        s.put("coordinatorMicrosPerCandidate", r.coordinatorMicrosPerCandidate());
        s.put("wallSeconds", r.wallMillis() / 1e3);
        var cost = r.evaluatorCost();
        ObjectNode c = s.putObject("evaluatorCost");
        c.put("candidatesLoaded", cost.loads());
        c.put("batchesScored", cost.batches());
        c.put("materializeMillisPerCandidate", cost.materializeMillis());
        c.put("loadMillisPerCandidate", cost.loadMillis());
        c.put("scoreMillisPerBatch", cost.scoreMillisPerBatch());
        ArrayNode history = s.putArray("history");
        for (GenerationStats g : r.history()) {
            ObjectNode h = history.addObject();
            h.put("generation", g.generation());
            h.put("bestAccuracy", g.bestAccuracy());
            h.put("meanAccuracy", g.meanAccuracy());
            h.put("sigma", g.sigma());
            h.put("skippedShare", g.skippedShare());
            h.set("mean", doubles(g.mean()));
        }
    }

    private static ArrayNode doubles(double[] v) {
        ArrayNode a = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
        for (double d : v) {
            a.add(d);
        }
        return a;
    }

    private static void writeModel(Experiment ex, ParameterSet theta, OutputDirectory out, RunResult result, String command) {
        ParameterSet model = ex.complete(theta);
        SafetensorsWriter.write(out.resolve("model.safetensors"), model, Map.of("nps.command", command, "nps.method", "nps"));
        OnnxModel.load(ex.spec().graph()).withInitializers(model).write(out.resolve("model.onnx"));
        ObjectNode files = result.section("outputs");
        files.put("safetensors", "model.safetensors");
        files.put("onnx", "model.onnx");
    }

    /** A one-line summary of a generation for the terminal. */
    public static String describe(GenerationStats g, int generations) {
        return String.format(java.util.Locale.ROOT, "generation %d/%d: best %.4f, mean %.4f, sigma %.3g, skipped %.0f%%",
                g.generation(), generations, g.bestAccuracy(), g.meanAccuracy(), g.sigma(), 100 * g.skippedShare());
    }
}
