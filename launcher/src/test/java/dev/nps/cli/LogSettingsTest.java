package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nps.protocol.RunControl;
import dev.nps.protocol.RunRequest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JSON lines by configuration, plain text by default; the run id in the MDC of a serving node's lines. */
class LogSettingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Path config(String log) throws Exception {
        Path f = tmp.resolve("node.conf");
        Files.writeString(f, "nps.node { " + log + " }\n");
        return f;
    }

    private static String logged(Runnable r) {
        PrintStream err = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(err);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void jsonLinesCarryLevelLoggerMessageAndMdcAndTextStaysTheDefault() throws Exception {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("dev.nps.test");
        try {
            LogSettings.load(config("log { format = json, level = info }")).apply();
            String out = logged(() -> {
                org.slf4j.MDC.put("run", "r7");
                org.slf4j.MDC.put("tenant", "alice");
                try {
                    log.info("scored {} batches", 12);
                    log.debug("not at info");
                } finally {
                    org.slf4j.MDC.clear();
                }
            });
            List<String> lines = out.lines().toList();
            assertEquals(1, lines.size(), out);
            JsonNode e = JSON.readTree(lines.get(0));
            assertEquals("INFO", e.path("level").asText(), out);
            assertEquals("dev.nps.test", e.path("loggerName").asText(), out);
            assertEquals("scored 12 batches", e.path("formattedMessage").asText(), out);
            assertEquals("r7", e.path("mdc").path("run").asText(), out);
            assertEquals("alice", e.path("mdc").path("tenant").asText(), out);
            assertTrue(e.path("timestamp").asLong() > 0, out);
        } finally {
            LogSettings.load(config("")).apply();
        }
        String text = logged(() -> {
            log.info("hidden at the default level");
            log.warn("shown");
        });
        assertEquals(List.of("[" + Thread.currentThread().getName() + "] WARN dev.nps.test - shown"), text.lines().toList());
    }

    @Test
    void aBadFormatLevelOrKeyIsOneLineNamingIt() throws Exception {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LogSettings.load(config("log { format = xml }")))
                .getMessage().contains("nps.node.log.format must be text or json, got xml"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LogSettings.load(config("log { level = loud }")))
                .getMessage().contains("nps.node.log.level must be one of"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LogSettings.load(config("log { fromat = json }")))
                .getMessage().contains("fromat"));
    }

    @Test
    void aServingNodeInJsonModeWritesOnlyJsonLinesAndItsRunLinesNameTheRun() throws Exception {
        Path root = tmp.resolve("root");
        CliFixture.copyDigits(root.resolve("digits"));
        int port = ServeChild.freePort();
        try (ServeChild node = ServeChild.start(tmp, "node", port, root, "journal { folder = " + tmp.resolve("journal") + " }\n"
                + "log { format = json, level = info }")) {
            node.awaitUp();
            List<String> args = new ArrayList<>(List.of("merge", "--method", "nps", "--keep", "0.1", "--spec", "digits/spec.conf",
                    "--generations", "3", "--subspaces", "4", "--no-baselines", "--no-control", "--seed", "5", "--out", "out/j1"));
            RunControlCommands.call("127.0.0.1:" + port, "j1", RunControl.newBuilder().setSubmit(RunRequest.newBuilder().addAllArgs(args)));
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (!node.logContains("run j1: succeeded") && System.nanoTime() < deadline) {
                assertTrue(!node.logContains("run j1: failed"), node.logTail());
                Thread.sleep(200);
            }
            assertTrue(node.logContains("run j1: succeeded"), node.logTail());
            List<JsonNode> events = new ArrayList<>();
            for (String line : Files.readAllLines(tmp.resolve("node.log"))) {
                if (!line.isBlank()) {
                    try {
                        events.add(JSON.readTree(line));
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new AssertionError("not a JSON line: " + line, e);
                    }
                }
            }
            JsonNode up = events.stream().filter(e -> e.path("formattedMessage").asText().contains(" up, roles")).findFirst().orElseThrow();
            assertEquals("INFO", up.path("level").asText());
            for (String said : List.of("run j1: started", "run j1: succeeded")) {
                JsonNode e = events.stream().filter(x -> x.path("formattedMessage").asText().startsWith("nps serve: " + said))
                        .findFirst().orElseThrow(() -> new AssertionError("no line '" + said + "': " + node.logTail()));
                assertEquals("j1", e.path("mdc").path("run").asText(), e.toString());
            }
            // The command's own summary, from the run's thread: run and tenant (none: not submitted through the service).
            JsonNode summary = events.stream().filter(x -> x.path("formattedMessage").asText().startsWith("nps serve: run j1: mean test accuracy"))
                    .findFirst().orElseThrow(() -> new AssertionError("no summary line: " + node.logTail()));
            assertEquals("j1", summary.path("mdc").path("run").asText(), summary.toString());
            assertEquals("none", summary.path("mdc").path("tenant").asText(), summary.toString());
        }
    }
}
