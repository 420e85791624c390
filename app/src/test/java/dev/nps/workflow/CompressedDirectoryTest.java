package dev.nps.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.storage.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A compressed directory's manifest and the binding of each .npsv to its base and task. */
class CompressedDirectoryTest {
    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void files() throws IOException {
        dir = Files.createDirectories(tmp.resolve("packed"));
        Files.writeString(dir.resolve("base.safetensors"), "b");
        Files.writeString(Files.createDirectories(dir.resolve("tasks")).resolve("a.npsv"), "v");
        Files.writeString(tmp.resolve("secret"), "s");
    }

    private String refused(String manifest) throws IOException {
        Files.writeString(dir.resolve(CompressionWorkflow.MANIFEST), manifest);
        String m = assertThrows(StorageException.class, () -> CompressionWorkflow.Manifest.read(dir)).getMessage();
        assertTrue(!m.contains("\n"), m);
        return m;
    }

    @Test
    void aCompleteManifestReads() throws IOException {
        Files.writeString(dir.resolve(CompressionWorkflow.MANIFEST),
                "{\"spec\": \"/x/spec.conf\", \"base\": \"base.safetensors\", \"tasks\": {\"a\": {\"file\": \"tasks/a.npsv\"}}}");
        var m = CompressionWorkflow.Manifest.read(dir);
        assertEquals(dir.toAbsolutePath().resolve("tasks/a.npsv"), m.tasks().get("a"));
        assertEquals(Path.of("/x/spec.conf"), m.spec());
    }

    @Test
    void aMissingOrMistypedKeyIsOneLine() throws IOException {
        assertTrue(refused("{\"base\": \"base.safetensors\", \"tasks\": {}}").endsWith(": missing key 'spec'"));
        assertTrue(refused("{\"spec\": \"s\", \"tasks\": {}}").endsWith(": missing key 'base'"));
        assertTrue(refused("{\"spec\": \"s\", \"base\": \"base.safetensors\"}").contains("missing key 'tasks'"));
        assertTrue(refused("{\"spec\": \"s\", \"base\": \"base.safetensors\", \"tasks\": {\"a\": {}}}").endsWith("missing key 'tasks.a.file'"));
        assertTrue(refused("{\"spec\": 3, \"base\": \"base.safetensors\", \"tasks\": {}}").contains("'spec' must be a non-empty string"));
        assertTrue(refused("[1, 2]").contains("not a JSON object"));
        assertTrue(refused("{").contains("not valid JSON"));
    }

    @Test
    void manifestPathsStayInsideTheirFolder() throws IOException {
        String m = refused("{\"spec\": \"s\", \"base\": \"../secret\", \"tasks\": {}}");
        assertTrue(m.contains("'base' = '../secret' leaves the directory"), m);
        assertTrue(refused("{\"spec\": \"s\", \"base\": \"/etc/passwd\", \"tasks\": {}}").contains("leaves the directory"));
        assertTrue(refused("{\"spec\": \"s\", \"base\": \"base.safetensors\", \"tasks\": {\"a\": {\"file\": \"tasks/../../secret\"}}}")
                .contains("leaves the directory"));
        Files.createSymbolicLink(dir.resolve("link"), tmp.resolve("secret"));
        assertTrue(refused("{\"spec\": \"s\", \"base\": \"link\", \"tasks\": {}}").contains("resolves to"));
    }

    @Test
    void aFileMustNameTheTaskAskedForAndTheBaseBesideIt() {
        Path f = dir.resolve("tasks/a.npsv");
        String sha = "ab".repeat(32);
        Map<String, String> bound = Map.of(CompressionWorkflow.TASK_KEY, "a", CompressionWorkflow.BASE_SHA256_KEY, sha);
        List<String> warnings = new ArrayList<>();
        CompressionWorkflow.requireBound(f, bound, "a", sha, dir.resolve("base.safetensors"), warnings::add);
        assertEquals(List.of(), warnings);
        String m = assertThrows(StorageException.class,
                () -> CompressionWorkflow.requireBound(f, bound, "b", sha, dir.resolve("base.safetensors"), warnings::add)).getMessage();
        assertTrue(m.contains("holds task 'a', not 'b'"), m);
        m = assertThrows(StorageException.class, () -> CompressionWorkflow.requireBound(f, bound, "a", "cd".repeat(32),
                dir.resolve("base.safetensors"), warnings::add)).getMessage();
        assertTrue(m.contains("was made from a base with SHA-256 abababababab..."), m);
        assertThrows(StorageException.class, () -> CompressionWorkflow.requireBound(f, Map.of(), "a", sha, dir.resolve("base.safetensors"),
                warnings::add));
        // A file from before the binding: read, with one warning line.
        CompressionWorkflow.requireBound(f, Map.of(CompressionWorkflow.TASK_KEY, "a"), "a", sha, dir.resolve("base.safetensors"), warnings::add);
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().startsWith("nps: warning: ") && warnings.getFirst().contains("without a base digest"));
    }
}
