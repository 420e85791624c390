package dev.nps.evaluator.actor;

import dev.nps.evaluator.Dataset;
import dev.nps.evaluator.ModelScorer;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.storage.Checkpoint;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.TaskVectors;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.kernels.subspace.SubspacePartition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** examples/digits loaded for the actor tests: base, all eight task vectors, scorer, calibration sets. */
final class DigitsFixture implements AutoCloseable {
    static final String[] TASKS = {"identity", "rot90", "rot180", "rot270", "flip_lr", "flip_ud", "invert", "transpose"};
    static final Path ROOT = Path.of(System.getProperty("nps.repo.root", "..")).resolve("examples/digits");

    final ParameterSet base;
    final List<ParameterSet> taus = new ArrayList<>();
    final ModelScorer scorer;
    final List<Dataset> calibration = new ArrayList<>();

    DigitsFixture() {
        base = read("base.safetensors");
        for (String t : TASKS) {
            taus.add(TaskVectors.compute(base, read("tasks/" + t + ".safetensors"), UnsharedPolicy.CARRY).tau());
            calibration.add(Dataset.open(ROOT.resolve("data/" + t + "-calib.safetensors"), 50));
        }
        scorer = ModelScorer.open(ROOT.resolve("model.onnx"), base.names(), ScorerOptions.defaults());
    }

    private static ParameterSet read(String file) {
        try (Checkpoint cp = Checkpoint.open(ROOT.resolve(file))) {
            return cp.readAllFloats();
        }
    }

    SubspacePartition partition(int task, int subspaces, double keep, SubspacePartition.Kind kind) {
        long n = taus.get(task).elementCount();
        return SubspacePartition.build(taus.get(task).flatView(), subspaces, (long) Math.ceil(keep * n), kind, 2.0);
    }

    /** Search data whose candidates may use {@code partitions} and are scored on every task. */
    SearchData data(Map<Integer, SubspacePartition> partitions) {
        Map<Integer, SearchData.EvalTask> eval = new HashMap<>();
        for (int t = 0; t < TASKS.length; t++) {
            eval.put(t, new SearchData.EvalTask(calibration.get(t), "logits"));
        }
        return new SearchData(base, taus, new ParameterSet(Map.of()), scorer, partitions, eval);
    }

    @Override
    public void close() {
        calibration.forEach(Dataset::close);
        scorer.close();
    }
}
