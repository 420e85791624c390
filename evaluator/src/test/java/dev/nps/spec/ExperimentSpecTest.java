package dev.nps.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec validation: unknown keys are errors with a did-you-mean, and CONFINED keeps every path inside the spec's folder. */
class ExperimentSpecTest {
    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void files() throws IOException {
        dir = Files.createDirectories(tmp.resolve("exp"));
        for (String f : new String[] {"base.safetensors", "model.onnx", "ft.safetensors", "c.safetensors", "t.safetensors"}) {
            Files.writeString(dir.resolve(f), "x");
        }
    }

    private Path spec(String top, String task) throws IOException {
        return Files.writeString(dir.resolve("spec.conf"), "base = base.safetensors\ngraph = model.onnx\n" + top
                + "\ntasks = [ { name = a, checkpoint = ft.safetensors, calibration = c.safetensors, test = t.safetensors, output = y"
                + task + " } ]\n");
    }

    private String refused(Path spec, PathPolicy policy) {
        String m = assertThrows(SpecException.class, () -> ExperimentSpec.load(spec, policy)).getMessage();
        assertTrue(!m.contains("\n"), m);
        return m;
    }

    @Test
    void aValidSpecLoads() throws IOException {
        ExperimentSpec s = ExperimentSpec.load(spec("batch-size = 7", ""), PathPolicy.CONFINED);
        assertEquals(7, s.batchSize());
        assertEquals(6, s.inputs().size());
    }

    @Test
    void aMistypedTopLevelKeyIsRefusedWithTheKeyItMeant() throws IOException {
        String m = refused(spec("batch_size = 0", ""), PathPolicy.ANYWHERE);
        assertTrue(m.contains("unknown key 'batch_size' in the spec (did you mean 'batch-size'?"), m);
        assertTrue(refused(spec("grpah = model.onnx", ""), PathPolicy.ANYWHERE).contains("did you mean 'graph'?"));
    }

    @Test
    void aMistypedKeyInATaskBlockIsRefusedToo() throws IOException {
        String m = refused(spec("", ", calibraton = c.safetensors"), PathPolicy.ANYWHERE);
        assertTrue(m.contains("unknown key 'calibraton' in tasks[0] (did you mean 'calibration'?"), m);
        // Nothing close: no guess, but the known keys are listed.
        m = refused(spec("", ", colour = red"), PathPolicy.ANYWHERE);
        assertTrue(m.contains("unknown key 'colour' in tasks[0] (known keys: calibration, checkpoint, name, output, test)"), m);
    }

    @Test
    void suggestionsIgnoreCaseAndSeparatorsAndStayClose() {
        Set<String> known = Set.of("batch-size", "base", "graph");
        assertEquals("batch-size", ConfigKeys.suggestion("BatchSize", known).orElseThrow());
        assertEquals("graph", ConfigKeys.suggestion("grap", known).orElseThrow());
        assertTrue(ConfigKeys.suggestion("zzzzzz", known).isEmpty());
    }

    @Test
    void confinedRefusesPathsThatLeaveTheSpecFolderAnywhereAllowsThem() throws IOException {
        Files.writeString(tmp.resolve("outside.safetensors"), "x");
        Path s = spec("", "").resolveSibling("spec.conf");
        Files.writeString(s, Files.readString(s).replace("checkpoint = ft.safetensors", "checkpoint = ../outside.safetensors"));
        String m = refused(s, PathPolicy.CONFINED);
        assertTrue(m.contains("task 'a' checkpoint '../outside.safetensors' leaves the spec's directory"), m);
        assertEquals(tmp.resolve("outside.safetensors"), ExperimentSpec.load(s, PathPolicy.ANYWHERE).tasks().getFirst().checkpoint());
        // An absolute path and a symbolic link out of the folder are refused the same way.
        Files.writeString(s, Files.readString(s).replace("../outside.safetensors", tmp.resolve("outside.safetensors").toString()));
        assertTrue(refused(s, PathPolicy.CONFINED).contains("leaves the spec's directory"));
        Files.createSymbolicLink(dir.resolve("link.onnx"), tmp.resolve("outside.safetensors"));
        Files.writeString(s, Files.readString(spec("", "")).replace("graph = model.onnx", "graph = link.onnx"));
        assertTrue(refused(s, PathPolicy.CONFINED).contains("resolves to " + tmp.toRealPath().resolve("outside.safetensors")));
    }
}
