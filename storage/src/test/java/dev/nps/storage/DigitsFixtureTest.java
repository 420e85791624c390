package dev.nps.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nps.storage.onnx.OnnxModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed digits fixture (tools/make_digits_fixture.py): a torch-exported ONNX graph whose
 * initializers are exactly base.safetensors' tensors, and task checkpoints with the same names.
 * Skipped until the fixture exists; -Dnps.digits.dir points it elsewhere.
 */
class DigitsFixtureTest {
    static Path digits() {
        String override = System.getProperty("nps.digits.dir");
        if (override != null) {
            return Path.of(override);
        }
        return Path.of(System.getProperty("nps.repo.root", "..")).resolve("examples/digits");
    }

    @Test
    void onnxInitializersAreTheBaseCheckpoint() throws Exception {
        Path dir = digits();
        assumeTrue(Files.isRegularFile(dir.resolve("model.onnx")), "no digits fixture at " + dir);
        OnnxModel model = OnnxModel.load(dir.resolve("model.onnx"));
        try (Checkpoint base = Checkpoint.open(dir.resolve("base.safetensors"))) {
            List<String> initNames = model.initializers().stream().filter(OnnxModel.Initializer::isFloating)
                    .map(OnnxModel.Initializer::name).sorted().toList();
            assertEquals(base.names(), initNames);
            ParameterSet fromOnnx = model.readAllFloats();
            ParameterSet fromCheckpoint = base.readAllFloats();
            for (String name : base.names()) {
                assertArrayEquals(fromCheckpoint.get(name).shape(), fromOnnx.get(name).shape(), name);
                assertArrayEquals(fromCheckpoint.get(name).data(), fromOnnx.get(name).data(), name);
            }
            assertEquals(List.of("x"), model.inputs().stream().map(OnnxModel.TensorSpec::name).toList());
            assertEquals(List.of("logits"), model.outputs().stream().map(OnnxModel.TensorSpec::name).toList());
            assertEquals(-1, model.inputs().getFirst().shape()[0], "dynamic batch");

            // Substituting the same values changes nothing, Gemm attributes (unknown to our schema) included.
            byte[] original = Files.readAllBytes(dir.resolve("model.onnx"));
            assertArrayEquals(original, model.withInitializers(fromCheckpoint).toByteArray());

            // Every task checkpoint yields a task vector over exactly the graph's parameters.
            try (Stream<Path> tasks = Files.list(dir.resolve("tasks"))) {
                for (Path task : tasks.sorted().toList()) {
                    try (Checkpoint ft = Checkpoint.open(task)) {
                        TaskVector tv = TaskVectors.compute(base, ft, UnsharedPolicy.ERROR);
                        assertEquals(Set.copyOf(base.names()), tv.tau().names(), task.toString());
                    }
                }
            }
        }
    }
}
