package dev.nps.coordinator;

import dev.nps.evaluator.ScorerOptions;
import dev.nps.spec.ExperimentSpec;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment;
import java.nio.file.Path;

/** The bundled examples/digits experiment, as the coordinator tests load it. */
public final class DigitsExperiment {
    private DigitsExperiment() {
    }

    public static Experiment load() {
        Path spec = Path.of(System.getProperty("nps.repo.root", "..")).resolve("examples/digits/spec.conf");
        return Experiment.load(ExperimentSpec.load(spec), ScorerOptions.defaults(), UnsharedPolicy.CARRY);
    }
}
