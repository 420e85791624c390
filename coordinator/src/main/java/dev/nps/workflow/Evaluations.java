package dev.nps.workflow;

import dev.nps.evaluator.Score;
import dev.nps.result.RunResult.TaskResult;
import dev.nps.storage.ParameterSet;
import dev.nps.workflow.Experiment.Split;
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
