package dev.nps.workflow;

import dev.nps.experiment.Experiment;
import dev.nps.experiment.Progress;
import dev.nps.evaluator.Score;
import dev.nps.result.RunResult;
import dev.nps.result.RunResult.TaskResult;
import dev.nps.storage.ParameterSet;
import dev.nps.experiment.Experiment.Split;
import java.util.ArrayList;
import java.util.List;

/** Scores shared by the commands: the fine-tuned reference accuracies and per-task results. */
public final class Evaluations {
    private Evaluations() {
    }

    /** Each fine-tuned model scored on its own task's split: the denominator of normalized accuracy. */
    public static List<Score> finetunedScores(Experiment ex, Split split, Progress progress) {
        progress.start("fine-tuned models (" + split.name().toLowerCase() + ")", ex.taskCount());
        List<Score> out = new ArrayList<>();
        for (int t = 0; t < ex.taskCount(); t++) {
            out.add(ex.score(ex.finetuned(t), t, split));
            progress.step();
        }
        progress.done();
        return out;
    }

    /** Per-task results of {@code scores} normalized by {@code reference}. */
    public static List<TaskResult> taskResults(Experiment ex, List<Score> scores, List<Score> reference) {
        List<TaskResult> out = new ArrayList<>();
        for (int t = 0; t < ex.taskCount(); t++) {
            Score s = scores.get(t);
            double ref = reference.get(t).value();
            out.add(new TaskResult(ex.spec().tasks().get(t).name(), s.correct(), s.count(), s.value(),
                    ref == 0 ? 0 : s.value() / ref));
        }
        return out;
    }

    /**
     * Writes result.json's {@code scoring} object: the feed mode in use (AUTO resolved, guard applied), the
     * batch size, the evaluator x thread plan and its rule, and what the feed-mode guard measured.
     */
    public static void recordScoring(Experiment ex, RunResult result) {
        var s = result.section("scoring");
        s.put("feedMode", ex.feedMode().name().toLowerCase(java.util.Locale.ROOT));
        s.put("batchSize", ex.spec().batchSize());
        s.put("evaluators", ex.plan().evaluators());
        s.put("threadsPerEvaluator", ex.plan().threadsPerEvaluator());
        s.put("cores", ex.plan().cores());
        s.put("rule", ex.plan().rule());
        var a = ex.guard();
        if (a != null) {
            var g = s.putObject("guard");
            g.put("maxAbsLogitDiff", a.maxAbsDiff());
            g.put("bound", a.bound());
        }
    }

    public static double mean(List<Score> scores) {
        return scores.stream().mapToDouble(Score::value).average().orElse(0);
    }

    /** A model scored on every task's split with a progress bar. */
    public static List<Score> scoreModel(Experiment ex, ParameterSet theta, Split split, String label, Progress progress) {
        progress.start(label, ex.taskCount());
        List<Score> s = ex.score(theta, split, progress);
        progress.done();
        return s;
    }
}
