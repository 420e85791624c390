package dev.nps.experiment;

import dev.nps.evaluator.Dataset;
import dev.nps.evaluator.ModelScorer;
import dev.nps.evaluator.Score;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.evaluator.ScoringPlan;
import dev.nps.evaluator.ScoringSession;
import dev.nps.spec.ExperimentSpec;
import dev.nps.spec.ExperimentSpec.TaskSpec;
import dev.nps.storage.Checkpoint;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.StorageException;
import dev.nps.storage.TaskVector;
import dev.nps.storage.TaskVectors;
import dev.nps.storage.UnsharedPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A spec loaded into memory: the base parameters, one task vector per task, the ONNX graph
 * ready to score any candidate parameters, and each task's calibration and test data.
 */
public final class Experiment implements AutoCloseable {

    /** Which data a score is taken on. Searches and lambda selection only ever see CALIBRATION. */
    public enum Split { CALIBRATION, TEST }

    private final ExperimentSpec spec;
    private final ParameterSet base;
    private final List<TaskVector> taskVectors;
    private final ParameterSet carried;
    private final ModelScorer scorer;
    private final ScoringPlan plan;
    private final Map<String, Dataset> datasets = new HashMap<>();

    private Experiment(ExperimentSpec spec, ParameterSet base, List<TaskVector> taskVectors, ParameterSet carried,
                       ModelScorer scorer, ScoringPlan plan) {
        this.spec = spec;
        this.plan = plan;
        this.base = base;
        this.taskVectors = taskVectors;
        this.carried = carried;
        this.scorer = scorer;
    }

    public static Experiment load(ExperimentSpec spec, ScorerOptions options, UnsharedPolicy policy) {
        return load(spec, options, policy, new ScoringPlan(1, options.intraOpThreads(), ScoringPlan.machineCores(), "given"));
    }

    /** As above; {@code plan} is how this run spreads scoring over the cores ({@code options} carry its threads). */
    public static Experiment load(ExperimentSpec spec, ScorerOptions options, UnsharedPolicy policy, ScoringPlan plan) {
        ParameterSet base;
        Map<String, dev.nps.storage.DType> baseDtypes;
        try (Checkpoint c = Checkpoint.open(spec.base())) {
            base = c.readAllFloats();
            baseDtypes = TaskVectors.dtypes(c);
        }
        List<TaskVector> taus = new ArrayList<>();
        Map<String, FloatTensor> carried = new TreeMap<>();
        Map<String, String> carriedFrom = new HashMap<>();
        for (TaskSpec task : spec.tasks()) {
            TaskVector tv;
            try (Checkpoint c = Checkpoint.open(task.checkpoint())) {
                TaskVectors.requireSameKinds(baseDtypes, c);
                tv = TaskVectors.compute(base, c.readAllFloats(), policy);
            } catch (StorageException e) {
                throw new StorageException("task '" + task.name() + "': " + e.getMessage(), e);
            }
            taus.add(tv);
            // A parameter only fine-tuned checkpoints have (a task head) is carried unchanged into
            // every model built from the spec; two tasks may not carry different values for one name.
            for (String name : tv.carried().names()) {
                FloatTensor t = tv.carried().get(name);
                FloatTensor prev = carried.putIfAbsent(name, t);
                if (prev != null && !java.util.Arrays.equals(prev.data(), t.data())) {
                    throw new StorageException("parameter '" + name + "' exists only in fine-tuned checkpoints and differs"
                            + " between tasks '" + carriedFrom.get(name) + "' and '" + task.name() + "'; cannot merge it");
                }
                carriedFrom.putIfAbsent(name, task.name());
            }
        }
        TreeSet<String> parameterNames = new TreeSet<>(base.names());
        parameterNames.addAll(carried.keySet());
        // The feed-mode guard: the first task's fine-tuned model on one calibration batch, through the feed
        // mode and through the graph as written (an explicit mode that disagrees is refused, AUTO falls back).
        ParameterSet carriedSet = new ParameterSet(carried);
        TaskSpec first = spec.tasks().get(0);
        ModelScorer scorer;
        try (Dataset probeData = Dataset.open(first.calibration(), spec.batchSize())) {
            ParameterSet probe = complete(base.plusScaled(taus.get(0).tau(), 1.0), carriedSet);
            scorer = ModelScorer.openChecked(spec.graph(), parameterNames, options,
                    new ModelScorer.Probe(first.checkpoint().toString(), probe, probeData, first.output()));
        }
        Experiment ex = new Experiment(spec, base, List.copyOf(taus), carriedSet, scorer, plan);
        try {
            // Bad data fails now, not after a search has run for an hour.
            for (int t = 0; t < ex.taskCount(); t++) {
                for (Split split : Split.values()) {
                    scorer.validate(ex.dataset(t, split), spec.tasks().get(t).output());
                }
            }
        } catch (RuntimeException e) {
            ex.close();
            throw e;
        }
        return ex;
    }

    /** The feed mode in use (AUTO resolved, the guard applied). */
    public ScorerOptions.FeedMode feedMode() {
        return scorer.feedMode();
    }

    /** What the feed-mode guard measured, or null where it did not run. */
    public ModelScorer.Agreement guard() {
        return scorer.guard();
    }

    public ScoringPlan plan() {
        return plan;
    }

    public ExperimentSpec spec() {
        return spec;
    }

    public ParameterSet base() {
        return base;
    }

    public List<TaskVector> taskVectors() {
        return taskVectors;
    }

    /** The task vectors alone, in spec order: what merge methods take. */
    public List<ParameterSet> taus() {
        return taskVectors.stream().map(TaskVector::tau).toList();
    }

    public int taskCount() {
        return spec.tasks().size();
    }

    /** Parameters only fine-tuned checkpoints have (task heads), carried unchanged into every model. */
    public ParameterSet carried() {
        return carried;
    }

    public ModelScorer scorer() {
        return scorer;
    }

    /** The fine-tuned model of task i as the graph sees it: base + tau_i, plus carried parameters. */
    public ParameterSet finetuned(int taskIndex) {
        // (float) (b + 1.0 * t) in double equals float b + t: a double sum of two floats rounds once more only
        // when t is far below b's float ulp, where both give b.
        return complete(base.plusScaled(taskVectors.get(taskIndex).tau(), 1.0));
    }

    /** Adds the carried (fine-tuned-only) parameters to a model built over the base's names. */
    public ParameterSet complete(ParameterSet theta) {
        return complete(theta, carried);
    }

    private static ParameterSet complete(ParameterSet theta, ParameterSet carried) {
        if (carried.names().isEmpty()) {
            return theta;
        }
        Map<String, FloatTensor> out = new TreeMap<>(theta.asMap());
        carried.asMap().forEach(out::putIfAbsent);
        return new ParameterSet(out);
    }

    public Dataset dataset(int taskIndex, Split split) {
        TaskSpec task = spec.tasks().get(taskIndex);
        Path file = split == Split.CALIBRATION ? task.calibration() : task.test();
        return datasets.computeIfAbsent(task.name() + "/" + split, k -> Dataset.open(file, spec.batchSize()));
    }

    /** Accuracy of one model on every task's split, in spec order. */
    public List<Score> score(ParameterSet theta, Split split, Progress progress) {
        List<Score> scores = new ArrayList<>();
        try (ScoringSession session = scorer.load(complete(theta))) {
            for (int t = 0; t < taskCount(); t++) {
                Dataset d = dataset(t, split);
                scores.add(session.scoreAll(d, spec.tasks().get(t).output(), dev.nps.evaluator.Accuracy.INSTANCE, null));
                progress.step();
            }
        }
        return scores;
    }

    /** Accuracy of one model on one task's split. */
    public Score score(ParameterSet theta, int taskIndex, Split split) {
        try (ScoringSession session = scorer.load(complete(theta))) {
            return session.scoreAll(dataset(taskIndex, split), spec.tasks().get(taskIndex).output());
        }
    }

    @Override
    public void close() {
        datasets.values().forEach(Dataset::close);
        scorer.close();
    }
}
