package dev.nps.workflow;

import dev.nps.experiment.Experiment;
import dev.nps.experiment.Progress;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nps.evaluator.Score;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.spec.ExperimentSpec;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment.Split;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * On the MiniLM-L6 zoo (tools/make_minilm_zoo.sh; runs only where it has been generated, so not
 * in CI): Java's correct counts for the base and every fine-tune on every task's test split equal
 * the Python ONNX Runtime counts in expected.json. The graph, 22.6M parameters, goes through the
 * REBUILD feed mode.
 */
@Tag("slow")
@EnabledIf("zooPresent")
class MinilmZooTest {

    static Path zoo() {
        String cache = System.getenv("NPS_CACHE");
        return (cache != null ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "nps")).resolve("minilm");
    }

    static boolean zooPresent() {
        return Files.isRegularFile(zoo().resolve(".complete")) && Files.isRegularFile(zoo().resolve("expected.json"));
    }

    @Test
    void javaCountsEqualOnnxRuntimeInPython() throws IOException {
        JsonNode models = new ObjectMapper().readTree(zoo().resolve("expected.json").toFile()).get("models");
        try (Experiment ex = Experiment.load(ExperimentSpec.load(zoo().resolve("spec.conf")), ScorerOptions.defaults(),
                UnsharedPolicy.CARRY)) {
            assertEquals(ScorerOptions.FeedMode.REBUILD, ex.scorer().feedMode());
            for (int m = -1; m < ex.taskCount(); m++) {
                String model = m < 0 ? "base" : ex.spec().tasks().get(m).name();
                ParameterSet theta = m < 0 ? ex.base() : ex.finetuned(m);
                List<Score> scores = ex.score(theta, Split.TEST, Progress.NONE);
                for (int t = 0; t < ex.taskCount(); t++) {
                    String task = ex.spec().tasks().get(t).name();
                    JsonNode e = models.get(model).get(task).get("test");
                    assertEquals(new Score(e.get("correct").asLong(), e.get("n").asLong()), scores.get(t), model + " on " + task);
                }
            }
        }
    }
}
