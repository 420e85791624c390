package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI killed outright: {@code merge --method nps --keep auto} in a child JVM is SIGKILLed in
 * the middle of a search, then the same command is run again with the same {@code --out}. It
 * resumes from the output folder's journal and writes what an uninterrupted run writes: the same
 * trajectory digests and the same model bytes.
 */
@Tag("slow")
class CliKillTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private String[] merge(Path out, boolean quiet) {
        List<String> a = new ArrayList<>(List.of("merge", "--method", "nps", "--keep", "auto", "--spec",
                CliFixture.DIGITS.resolve("spec.conf").toString(), "--generations", "12", "--subspaces", "4",
                "--no-baselines", "--seed", "11", "--out", out.toString()));
        if (quiet) {
            a.add("--quiet");
        }
        return a.toArray(String[]::new);
    }

    @Test
    void aKilledMergeRerunWithTheSameOutResumesAndWritesTheUninterruptedResult() throws Exception {
        Path whole = tmp.resolve("whole");
        String[] uninterrupted = new String[1];
        CliFixture.Run ref = withStderr(() -> CliFixture.run(merge(whole, false)), uninterrupted);
        assertEquals(0, ref.exitCode(), ref.err());
        long total = searchLines(uninterrupted[0]);

        Path out = tmp.resolve("killed");
        Process child = child(merge(out, false));
        int searches = 0;
        try (BufferedReader err = new BufferedReader(new InputStreamReader(child.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            // one line per finished search (stderr is not a terminal): kill shortly into the fourth search
            while ((line = err.readLine()) != null && searches < 3) {
                if (line.startsWith("search ")) {
                    searches++;
                }
            }
            Thread.sleep(60);
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no journal close
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(3, searches, "the child ended before it could be killed mid-run");
        assertTrue(!Files.exists(out.resolve("result.json")), "killed before its end, it wrote no result");

        String[] said = new String[1];
        CliFixture.Run rerun = withStderr(() -> CliFixture.run(merge(out, false)), said);
        assertEquals(0, rerun.exitCode(), rerun.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("nps: resuming from " + java.util.regex.Pattern.quote(
                out.resolve(".nps-journal").toString()) + ": (\\d+) searches finished, (\\d+) generations kept").matcher(said[0]);
        assertTrue(m.find(), said[0]);
        int finished = Integer.parseInt(m.group(1));
        assertTrue(finished >= 3 && Integer.parseInt(m.group(2)) >= 12 * finished, said[0]);
        // the rerun ran only what the journal did not hold: no finished search runs again
        long again = searchLines(said[0]);
        assertEquals(total - finished, again, "the rerun ran " + again + " of " + total + " searches");
        assertEquals(CliFixture.trajectoryDigests(whole), CliFixture.trajectoryDigests(out));
        assertArrayEquals(Files.readAllBytes(whole.resolve("model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")));
        JsonNode a = JSON.readTree(whole.resolve("result.json").toFile());
        JsonNode b = JSON.readTree(out.resolve("result.json").toFile());
        assertEquals(a.get("meanAccuracy"), b.get("meanAccuracy"));
        assertEquals(a.get("keep"), b.get("keep"));

        // Changed options are refused in one line, not mixed in.
        List<String> changed = new ArrayList<>(List.of(merge(out, true)));
        changed.set(changed.indexOf("11"), "12");
        CliFixture.Run refused = CliFixture.run(changed.toArray(String[]::new));
        assertEquals(2, refused.exitCode(), refused.err());
        assertTrue(refused.err().contains("with other inputs or options"), refused.err());
    }

    private static CliFixture.Run withStderr(java.util.function.Supplier<CliFixture.Run> command, String[] said) {
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try {
            System.setErr(new java.io.PrintStream(bytes, true, StandardCharsets.UTF_8));
            return command.get();
        } finally {
            System.setErr(stderr);
            said[0] = bytes.toString(StandardCharsets.UTF_8);
        }
    }

    private static long searchLines(String text) {
        return text.lines().filter(l -> l.startsWith("search ")).count();
    }

    /** Every trajectorySha256 in result.json, in document order. */

    private Process child(String[] args) throws IOException {
        Path argfile = tmp.resolve("cp.args");
        Files.writeString(argfile, "-cp\n\"" + System.getProperty("java.class.path").replace("\\", "\\\\") + "\"\n");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-Xmx1g",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
        String ort = System.getProperty("onnxruntime.native.path");
        if (ort != null) {
            cmd.add("-Donnxruntime.native.path=" + ort);
        }
        cmd.add("@" + argfile);
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }
}
