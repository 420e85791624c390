package dev.nps.cli;

import dev.nps.protocol.RunOpened;
import dev.nps.spec.ExperimentSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import picocli.CommandLine;

/**
 * What makes a command the same run when it is started again with the same {@code --out}: the
 * command, every option given that can change a result, the spec's bytes, and each input file's
 * path, size and modification time (hashing gigabytes of checkpoints on every start would cost
 * more than it guards). Options that only change who scores what, or how it is shown, are left
 * out, so a resume may use more evaluators or run on a cluster.
 */
final class RunIdentity {
    /** Options that cannot change a result: parallelism, where evaluators live, presentation, the output folder. */
    static final Set<String> NEUTRAL = Set.of("--evaluators", "--cluster", "--node-config", "--quiet", "--out", "--no-cache",
            "--help", "--version");

    private RunIdentity() {
    }

    static RunOpened of(CommandLine.Model.CommandSpec command, ExperimentSpec spec, Path specFile) {
        CommandLine.ParseResult parse = command.commandLine().getParseResult();
        TreeMap<String, List<String>> options = new TreeMap<>();
        for (CommandLine.Model.OptionSpec o : parse.matchedOptions()) {
            if (!NEUTRAL.contains(o.longestName())) {
                options.put(o.longestName(), o.originalStringValues());
            }
        }
        StringBuilder s = new StringBuilder("nps ").append(command.name()).append('\n');
        options.forEach((k, v) -> s.append(k).append('=').append(v).append('\n'));
        s.append("spec sha256 ").append(dev.nps.storage.Sha256.hex(read(specFile))).append('\n');
        for (Path p : spec.inputs()) {
            try {
                s.append(p.toAbsolutePath().normalize()).append(' ').append(Files.size(p)).append(' ')
                        .append(Files.getLastModifiedTime(p).toMillis()).append('\n');
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
            }
        }
        List<String> described = new ArrayList<>(List.of("nps", command.name()));
        options.forEach((k, v) -> described.add(v.isEmpty() ? k : k + " " + String.join(",", v)));
        return RunOpened.newBuilder().setFingerprint(dev.nps.storage.Sha256.hex(s.toString()))
                .setDescription(String.join(" ", described)).setOpenedEpochMillis(System.currentTimeMillis()).build();
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }

}
