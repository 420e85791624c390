package dev.nps.workflow;

import dev.nps.experiment.Experiment;
import dev.nps.experiment.Progress;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nps.coordinator.CandidateModels;
import dev.nps.coordinator.GenerationStats;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchResult;
import dev.nps.coordinator.SearchRunner;
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
import dev.nps.experiment.Experiment.Split;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
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
    public static RunResult prune(WorkflowContext context, String taskName, SearchConfig config) {
        Experiment ex = context.experiment();
        OutputDirectory out = context.out();
        Progress progress = context.progress();
        SearchRunner runner = context.searches();
        SearchListener listener = context.listener();
        long t0 = System.nanoTime();
        int t = ex.spec().taskIndex(taskName);
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(t));
        SearchResult search = runner.run(setup, config, listener);
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
        Evaluations.recordScoring(ex, result);
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    /** The keep rates {@code --keep auto} chooses from, as the paper tuned k for its fusion results. */
    public static final List<Double> AUTO_KEEPS = List.of(0.05, 0.1, 0.2);

    /** One fusion at one keep: each task's mask (searched or plain top-k), then one lambda per task. */
    private record Fused(double keep, List<SearchResult> pruneSearches, SearchResult lambdas, ParameterSet theta) {
        double calibration() {
            return lambdas.bestAccuracy();
        }
    }

    /** What {@code merge --method nps} compares its merge with, in result.json. */
    public enum Comparison {
        /** The same lambda search over plain magnitude top-k masks (every subspace weight 1). */
        CONTROL,
        /** TA, TIES, DARE-TA, Consensus and Average on the same spec, each tuned on calibration data as {@code merge --method M} does. */
        BASELINES
    }

    /**
     * {@code nps merge --method nps}: each task vector is NPS-pruned on its own calibration data,
     * then one lambda per task is searched on the mean calibration accuracy over all tasks. The
     * control runs the same lambda search over plain magnitude top-k masks. With several keeps
     * (auto) the whole pipeline runs at each and the best mean calibration accuracy wins (ties: the
     * smaller keep); result.json then holds the test accuracy against keep of NPS, its control,
     * TIES and DARE ({@code keepCurve}). Searches go through the context's runner.
     */
    public static RunResult merge(WorkflowContext context, SearchConfig config, List<Double> keeps, java.util.Set<Comparison> comparisons) {
        Experiment ex = context.experiment();
        OutputDirectory out = context.out();
        Progress progress = context.progress();
        SearchRunner runner = context.searches();
        SearchListener listener = context.listener();
        boolean control = comparisons.contains(Comparison.CONTROL);
        boolean baselines = comparisons.contains(Comparison.BASELINES);
        long t0 = System.nanoTime();
        if (keeps.isEmpty()) {
            throw new IllegalArgumentException("at least one keep rate is needed");
        }
        List<Fused> runs = new ArrayList<>();
        List<Fused> controls = new ArrayList<>();
        for (double k : keeps) {
            SearchConfig at = config.withKeep(k);
            runs.add(npsFusion(ex, at, listener, runner));
            if (control) {
                controls.add(plainFusion(ex, at, listener, runner));
            }
        }
        int chosen = bestOf(runs);
        Fused best = runs.get(chosen);
        List<Score> reference = Evaluations.finetunedScores(ex, Split.TEST, progress);
        // Each fused model is scored on test at most once: the written model and its control are also keep-curve points.
        Map<Fused, List<Score>> tested = new IdentityHashMap<>();
        Function<Fused, List<Score>> test = f -> tested.computeIfAbsent(f, g -> Evaluations.scoreModel(ex, g.theta(),
                Split.TEST, (g.pruneSearches().isEmpty() ? "control" : "nps") + " keep " + g.keep() + " (test)", progress));
        List<Score> scores = test.apply(best);
        RunResult result = new RunResult("merge", ex.spec().file().toString(), "nps", best.keep(), null)
                .tasks(Evaluations.taskResults(ex, scores, reference));
        ArrayNode perTask = result.root().putArray("lambdas");
        best.lambdas().bestSpec().getTasksList().forEach(tm -> perTask.add(tm.getLambda()));
        ObjectNode params = result.section("parameters");
        params.put("signElection", config.signElection());
        ObjectNode prune = result.section("prune");
        for (int t = 0; t < ex.taskCount(); t++) {
            SearchResult r = best.pruneSearches().get(t);
            ObjectNode n = prune.putObject(ex.spec().tasks().get(t).name());
            n.put("calibrationAccuracy", r.bestAccuracy());
            n.set("bestWeights", doubles(r.bestWeights()));
            n.put("trajectorySha256", r.trajectorySha256());
            writeHistory(n, r);
        }
        writeSearch(result, best.lambdas(), config.withKeep(best.keep()));
        if (control) {
            Fused c = controls.get(chosen);
            ObjectNode ctrl = result.section("control");
            ctrl.put("description", "every subspace weight fixed at 1 (magnitude top-k), same per-task lambda search");
            ctrl.put("meanAccuracy", Evaluations.mean(test.apply(c)));
            ctrl.put("calibrationMeanAccuracy", c.calibration());
            ArrayNode pl = ctrl.putArray("lambdas");
            c.lambdas().bestSpec().getTasksList().forEach(tm -> pl.add(tm.getLambda()));
            ctrl.put("trajectorySha256", c.lambdas().trajectorySha256());
            writeHistory(ctrl, c.lambdas());
        }
        if (keeps.size() > 1) {
            writeKeepSelection(result, runs, "mean calibration accuracy of the lambda-searched NPS merge");
            writeKeepCurve(ex, keeps, runs, controls, test, result, progress);
        }
        if (baselines) {
            writeBaselines(ex, result, progress);
        }
        writeModel(ex, best.theta(), out, result, "merge");
        Evaluations.recordScoring(ex, result);
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    /** The classic merges on the same spec, hyper-parameters chosen on calibration data, scored on test. */
    private static void writeBaselines(Experiment ex, RunResult result, Progress progress) {
        ObjectNode section = result.section("baselines");
        for (MergeWorkflow.Method m : MergeWorkflow.Method.values()) {
            MergeWorkflow.Tuned tuned = MergeWorkflow.tune(ex, MergeWorkflow.Request.auto(m), progress);
            ObjectNode n = section.putObject(m == MergeWorkflow.Method.DARE ? "dare-ta" : m.name().toLowerCase());
            n.put("meanAccuracy", Evaluations.mean(Evaluations.scoreModel(ex, tuned.theta(), Split.TEST,
                    m.name().toLowerCase() + " (test)", progress)));
            if (Double.isNaN(tuned.calibrationMean())) {
                n.putNull("calibrationMeanAccuracy");
            } else {
                n.put("calibrationMeanAccuracy", tuned.calibrationMean());
            }
            if (m != MergeWorkflow.Method.AVERAGE) {
                n.put("lambda", tuned.lambda());
            }
            tuned.params().forEach(n::put);
        }
    }

    /** The run with the best calibration score; ties go to the earlier (smaller) keep. */
    private static int bestOf(List<Fused> runs) {
        int best = 0;
        for (int i = 1; i < runs.size(); i++) {
            if (runs.get(i).calibration() > runs.get(best).calibration()) {
                best = i;
            }
        }
        return best;
    }

    private static void writeKeepSelection(RunResult result, List<Fused> runs, String criterion) {
        ObjectNode sel = result.section("selection");
        sel.put("split", "calibration");
        sel.put("criterion", criterion + "; ties go to the smaller keep");
        ArrayNode grid = sel.putArray("grid");
        for (Fused f : runs) {
            grid.addObject().put("keep", f.keep()).put("calibrationMeanAccuracy", f.calibration());
        }
    }

    /** Prunes every task by its own search, then searches one lambda per task over those masks. */
    private static Fused npsFusion(Experiment ex, SearchConfig config, SearchListener listener, SearchRunner runner) {
        int tasks = ex.taskCount();
        List<Integer> all = IntStream.range(0, tasks).boxed().toList();
        Map<Integer, SearchSetup.FixedMask> masks = new HashMap<>();
        List<SearchResult> pruneSearches = new ArrayList<>();
        SearchConfig pruning = config.withSignElection(false);
        for (int t = 0; t < tasks; t++) {
            SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(t));
            SearchResult r = runner.run(setup, pruning.withSeed(config.seed() + t), listener);
            pruneSearches.add(r);
            TaskMask best = r.bestSpec().getTasks(0);
            double[] scales = best.getScalesCount() == 0 ? null
                    : best.getScalesList().stream().mapToDouble(Double::doubleValue).toArray();
            masks.put(t, new SearchSetup.FixedMask(best.getKeptList().stream().mapToLong(Long::longValue).toArray(), scales));
        }
        SearchSetup fusion = SearchSetup.of(ex, SearchKind.FUSION, all, all, masks);
        SearchResult lambdas = runner.run(fusion, config, listener);
        return new Fused(config.keep(), pruneSearches, lambdas, CandidateModels.of(fusion, config).materialize(lambdas.bestSpec()));
    }

    /** The same lambda search over plain magnitude top-k masks (every subspace weight 1). */
    private static Fused plainFusion(Experiment ex, SearchConfig config, SearchListener listener, SearchRunner runner) {
        List<Integer> all = IntStream.range(0, ex.taskCount()).boxed().toList();
        SearchSetup plain = SearchSetup.of(ex, SearchKind.FUSION, all, all, Map.of());
        SearchResult lambdas = runner.run(plain, config, listener);
        return new Fused(config.keep(), List.of(), lambdas, CandidateModels.of(plain, config).materialize(lambdas.bestSpec()));
    }

    /** keepCurve: mean test accuracy against keep for NPS, its control, TIES and DARE (each tuned on calibration). */
    private static void writeKeepCurve(Experiment ex, List<Double> keeps, List<Fused> runs, List<Fused> controls,
                                       Function<Fused, List<Score>> test, RunResult result, Progress progress) {
        ObjectNode curve = result.section("keepCurve");
        curve.put("split", "test");
        curve.put("description", "mean test accuracy at each keep; every method's lambda (and NPS's weights) chosen on "
                + "calibration data; dare = DARE-TA with drop = 1 - keep");
        ArrayNode ks = curve.putArray("keeps");
        keeps.forEach(ks::add);
        ObjectNode methods = curve.putObject("methods");
        ArrayNode nps = methods.putArray("nps");
        runs.forEach(f -> nps.add(Evaluations.mean(test.apply(f))));
        if (!controls.isEmpty()) {
            ArrayNode c = methods.putArray("control");
            controls.forEach(f -> c.add(Evaluations.mean(test.apply(f))));
        }
        ArrayNode ties = methods.putArray("ties");
        ArrayNode dare = methods.putArray("dare");
        for (double k : keeps) {
            MergeWorkflow.Request t = MergeWorkflow.Request.auto(MergeWorkflow.Method.TIES).withKeep(k);
            ties.add(Evaluations.mean(Evaluations.scoreModel(ex, MergeWorkflow.tune(ex, t, progress).theta(), Split.TEST,
                    "ties keep " + k + " (test)", progress)));
            MergeWorkflow.Request d = MergeWorkflow.Request.auto(MergeWorkflow.Method.DARE).withDrop(1 - k);
            dare.add(Evaluations.mean(Evaluations.scoreModel(ex, MergeWorkflow.tune(ex, d, progress).theta(), Split.TEST,
                    "dare keep " + k + " (test)", progress)));
        }
    }

    /**
     * TA or TIES given the per-task lambda search NPS gets: TA over whole task vectors (keep 1);
     * TIES over magnitude top-k masks with sign election, the lambdas replacing its disjoint mean.
     * Several keeps (TIES auto): the best mean calibration accuracy wins, ties to the smaller keep.
     */
    public static RunResult perTaskLambda(WorkflowContext context, MergeWorkflow.Method method, SearchConfig config, List<Double> keeps) {
        Experiment ex = context.experiment();
        OutputDirectory out = context.out();
        Progress progress = context.progress();
        SearchRunner runner = context.searches();
        SearchListener listener = context.listener();
        long t0 = System.nanoTime();
        List<Fused> runs = new ArrayList<>();
        switch (method) {
            case TA -> runs.add(plainFusion(ex, config.withKeep(1.0).withSignElection(false), listener, runner));
            case TIES -> {
                for (double k : keeps) {
                    runs.add(plainFusion(ex, config.withKeep(k).withSignElection(true), listener, runner));
                }
            }
            default -> throw new IllegalArgumentException("--per-task-lambda applies to ta and ties, not "
                    + method.name().toLowerCase());
        }
        Fused best = runs.get(bestOf(runs));
        String name = method.name().toLowerCase() + "-per-task";
        List<Score> reference = Evaluations.finetunedScores(ex, Split.TEST, progress);
        List<Score> scores = Evaluations.scoreModel(ex, best.theta(), Split.TEST, "merged model (test)", progress);
        RunResult result = new RunResult("merge", ex.spec().file().toString(), name,
                method == MergeWorkflow.Method.TA ? null : best.keep(), null)
                .tasks(Evaluations.taskResults(ex, scores, reference));
        ArrayNode perTask = result.root().putArray("lambdas");
        best.lambdas().bestSpec().getTasksList().forEach(tm -> perTask.add(tm.getLambda()));
        if (runs.size() > 1) {
            writeKeepSelection(result, runs, "mean calibration accuracy after the per-task lambda search");
        }
        writeSearch(result, best.lambdas(), config.withKeep(best.keep()));
        writeModel(ex, best.theta(), out, result, "merge");
        Evaluations.recordScoring(ex, result);
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    /**
     * {@code nps transfer}: theta_pre + lambda * m * tau for one task, with the subspace weights and
     * lambda searched on calibration data for the average of the target task's accuracy and the
     * mean accuracy on the other tasks (what the base model must not forget). Reports target,
     * others, their average and the H-score (harmonic mean) on the test splits, beside the
     * control (magnitude top-k, lambda searched the same way), the fine-tuned model and the base.
     */
    public static RunResult transfer(WorkflowContext context, String taskName, SearchConfig config) {
        Experiment ex = context.experiment();
        OutputDirectory out = context.out();
        Progress progress = context.progress();
        SearchRunner runner = context.searches();
        SearchListener listener = context.listener();
        long t0 = System.nanoTime();
        int target = ex.spec().taskIndex(taskName);
        int tasks = ex.taskCount();
        List<Integer> all = IntStream.range(0, tasks).boxed().toList();
        Map<Integer, Double> weights = new HashMap<>();
        for (int t : all) {
            weights.put(t, tasks == 1 ? 1.0 : t == target ? 0.5 : 0.5 / (tasks - 1));
        }
        SearchSetup setup = SearchSetup.of(ex, SearchKind.TRANSFER, List.of(target), all, Map.of()).withScoreWeights(weights);
        SearchResult search = runner.run(setup, config, listener);
        ParameterSet theta = CandidateModels.of(setup, config).materialize(search.bestSpec());
        SearchSetup plain = SearchSetup.of(ex, SearchKind.FUSION, List.of(target), all, Map.of()).withScoreWeights(weights);
        SearchResult plainSearch = runner.run(plain, config, listener);
        ParameterSet control = CandidateModels.of(plain, config).materialize(plainSearch.bestSpec());

        List<Score> reference = Evaluations.finetunedScores(ex, Split.TEST, progress);
        List<Score> scores = Evaluations.scoreModel(ex, theta, Split.TEST, "transferred model (test)", progress);
        double lambda = search.bestSpec().getTasks(0).getLambda();
        RunResult result = new RunResult("transfer", ex.spec().file().toString(), "nps", config.keep(), lambda)
                .tasks(Evaluations.taskResults(ex, scores, reference));
        ObjectNode tr = result.section("transfer");
        tr.put("target", taskName);
        tr.put("objective", "calibration: 0.5 * target accuracy + 0.5 * mean accuracy over the other tasks");
        transferScores(tr.putObject("nps"), scores, target);
        ObjectNode ctrl = transferScores(tr.putObject("control"),
                Evaluations.scoreModel(ex, control, Split.TEST, "control (test)", progress), target);
        ctrl.put("description", "magnitude top-k at the same keep, lambda searched on the same objective");
        ctrl.put("lambda", plainSearch.bestSpec().getTasks(0).getLambda());
        transferScores(tr.putObject("finetuned"),
                Evaluations.scoreModel(ex, ex.finetuned(target), Split.TEST, "fine-tuned (test)", progress), target);
        transferScores(tr.putObject("base"),
                Evaluations.scoreModel(ex, ex.base(), Split.TEST, "base (test)", progress), target);
        writeSearch(result, search, config);
        writeModel(ex, theta, out, result, "transfer");
        Evaluations.recordScoring(ex, result);
        result.wallSeconds((System.nanoTime() - t0) / 1e9).writeTo(out);
        return result;
    }

    /** Target accuracy, mean over the other tasks, their average and harmonic mean (H-score). */
    private static ObjectNode transferScores(ObjectNode n, List<Score> scores, int target) {
        double a = scores.get(target).value();
        double others = IntStream.range(0, scores.size()).filter(t -> t != target)
                .mapToDouble(t -> scores.get(t).value()).average().orElse(a);
        n.put("targetAccuracy", a);
        n.put("othersMeanAccuracy", others);
        n.put("average", (a + others) / 2);
        n.put("hScore", a + others == 0 ? 0 : 2 * a * others / (a + others));
        return n;
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
        s.put("evaluatorsUsed", r.batchesByEvaluator().size());
        s.put("redispatchedBatches", r.redispatchedBatches());
        s.put("duplicateBatches", r.duplicateBatches());
        s.put("coordinatorMicrosPerCandidate", r.coordinatorMicrosPerCandidate());
        s.put("wallSeconds", r.wallMillis() / 1e3);
        var cost = r.evaluatorCost();
        ObjectNode c = s.putObject("evaluatorCost");
        c.put("candidatesLoaded", cost.loads());
        c.put("batchesScored", cost.batches());
        c.put("materializeMillisPerCandidate", cost.materializeMillis());
        c.put("loadMillisPerCandidate", cost.loadMillis());
        c.put("scoreMillisPerBatch", cost.scoreMillisPerBatch());
        writeHistory(s, r);
    }

    /**
     * Puts {@code space} (what x holds: prune = w_1..w_M, transfer = w_1..w_M then lambda, fusion =
     * one lambda per task) and {@code history}, one entry per generation, into {@code into}.
     */
    static void writeHistory(ObjectNode into, SearchResult r) {
        if (!r.history().isEmpty()) {
            GenerationStats first = r.history().getFirst();
            int weights = first.subspaceWeights().length;
            into.put("space", weights == 0 ? "fusion" : weights == first.mean().length ? "prune" : "transfer");
        }
        ArrayNode history = into.putArray("history");
        for (GenerationStats g : r.history()) {
            ObjectNode h = history.addObject();
            h.put("generation", g.generation());
            h.put("bestAccuracy", g.bestAccuracy());
            h.put("meanAccuracy", g.meanAccuracy());
            h.put("sigma", g.sigma());
            h.put("skippedShare", g.skippedShare());
            h.set("mean", doubles(g.mean()));
            h.set("best", doubles(g.best()));
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
