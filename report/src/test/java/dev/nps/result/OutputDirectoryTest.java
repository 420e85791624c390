package dev.nps.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one place every command's --out goes through. */
class OutputDirectoryTest {
    @TempDir
    Path tmp;

    @Test
    void anOutputMayNeverHoldOrLieInsideAnInput() throws IOException {
        Path specDir = Files.createDirectories(tmp.resolve("exp"));
        Path spec = Files.writeString(specDir.resolve("spec.conf"), "x");
        Path graph = Files.writeString(specDir.resolve("model.onnx"), "x");
        List<Path> inputs = List.of(spec, graph);
        String m = assertThrows(OutputException.class, () -> OutputDirectory.prepare(specDir, inputs)).getMessage();
        assertTrue(m.contains("holds the input " + spec) && m.contains("must never replace an input"), m);
        // The same folder reached through "..", and through a symbolic link.
        assertThrows(OutputException.class, () -> OutputDirectory.prepare(specDir.resolve("sub/.."), inputs));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), specDir);
        assertThrows(OutputException.class, () -> OutputDirectory.prepare(link, inputs));
        // Inside an input directory (a sharded checkpoint) is refused too; beside the inputs is fine.
        Path sharded = Files.createDirectories(tmp.resolve("sharded"));
        m = assertThrows(OutputException.class, () -> OutputDirectory.prepare(sharded.resolve("out"), List.of(sharded))).getMessage();
        assertTrue(m.contains("lies inside the input"), m);
        assertFalse(Files.exists(sharded.resolve("out")));
        assertEquals(tmp.resolve("out"), OutputDirectory.prepare(tmp.resolve("out"), inputs).path());
    }

    @Test
    void staleTemporariesOfOurPatternAreRemovedButNotTheJournalOrOtherFiles() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path stale = Files.writeString(out.resolve(".model.onnx.0123456789abcdef.tmp"), "half");
        Path staleDeeper = Files.writeString(Files.createDirectories(out.resolve("tasks")).resolve(".a.npsv.fedcba9876543210.tmp"), "half");
        Path probe = Files.writeString(out.resolve(".nps-probe-123.tmp"), "");
        Path journal = Files.createDirectories(out.resolve(OutputDirectory.JOURNAL));
        Path journalTemp = Files.writeString(journal.resolve(".events.0123456789abcdef.tmp"), "keep");
        Path userHidden = Files.writeString(out.resolve(".notes.tmp"), "keep");
        Path result = Files.writeString(out.resolve("result.json"), "{}");
        OutputDirectory.prepare(out, List.of());
        assertFalse(Files.exists(stale));
        assertFalse(Files.exists(staleDeeper));
        assertFalse(Files.exists(probe));
        assertTrue(Files.exists(journalTemp), "the journal is never cleaned here");
        assertTrue(Files.exists(userHidden));
        assertTrue(Files.exists(result));
    }

    @Test
    void aFailedRunRemovesTheEmptyFoldersItCreatedOnly() throws IOException {
        Path created = tmp.resolve("new/out");
        Path existing = Files.createDirectories(tmp.resolve("existing"));
        int code = OutputDirectory.removingCreatedIfEmpty(() -> {
            OutputDirectory.prepare(created, List.of());
            OutputDirectory.prepare(existing, List.of());
            return 2;
        });
        assertEquals(2, code);
        assertFalse(Files.exists(tmp.resolve("new")), "the topmost folder the run created goes too");
        assertTrue(Files.isDirectory(existing));
        // An exception counts as a failure; a folder that got a file stays; a success keeps its empty folder.
        assertThrows(IllegalStateException.class, () -> OutputDirectory.removingCreatedIfEmpty(() -> {
            OutputDirectory.prepare(created, List.of());
            throw new IllegalStateException("boom");
        }));
        assertFalse(Files.exists(created));
        OutputDirectory.removingCreatedIfEmpty(() -> {
            try {
                Files.writeString(OutputDirectory.prepare(created, List.of()).path().resolve("partial.log"), "x");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return 1;
        });
        assertTrue(Files.exists(created.resolve("partial.log")));
        Path ok = tmp.resolve("ok");
        assertEquals(0, OutputDirectory.removingCreatedIfEmpty(() -> {
            OutputDirectory.prepare(ok, List.of());
            return 0;
        }));
        assertTrue(Files.isDirectory(ok));
    }
}
