package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code nps watch} on a terminal: the run's events drawn as the embedded commands' line per search. */
class WatchedProgressTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static com.fasterxml.jackson.databind.JsonNode event(int search, int generation, double best) throws Exception {
        return JSON.readTree("""
                {"id": "r1", "state": "running", "command": "merge --method nps --generations 3 --spec digits/spec.conf",
                 "progress": {"search": %d, "generation": %d, "bestAccuracy": %s, "meanAccuracy": 0.5, "skippedShare": 0.25}}
                """.formatted(search, generation, best));
    }

    @Test
    void eachSearchGetsItsOwnBarWithBestMeanAndSkippedShare() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (var progress = new RunControlCommands.WatchedProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
            progress.accept(event(0, 1, 0.61));
            progress.accept(event(0, 1, 0.61)); // the same generation again: no new search
            progress.accept(event(0, 3, 0.64));
            progress.accept(event(1, 2, 0.71)); // the poll missed generation 1 of the second search
            progress.accept(event(1, 3, 0.72));
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("search 1") && out.contains("search 2"), out);
        assertTrue(!out.contains("search 3"), "a repeated generation opened a search: " + out);
        assertTrue(out.contains("best 0.6400 mean 0.5000 skip 25%"), out);
        assertTrue(out.contains("best 0.7200 mean 0.5000 skip 25%"), out);
        assertEquals(3, RunControlCommands.WatchedProgress.generations("merge --generations=3 --spec s.conf"));
        assertEquals(20, RunControlCommands.WatchedProgress.generations("merge --spec s.conf"));
    }
}
