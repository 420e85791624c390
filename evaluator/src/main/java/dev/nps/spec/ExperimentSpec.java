package dev.nps.spec;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.nps.storage.InputFiles;
import dev.nps.storage.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An experiment: one base checkpoint, one ONNX graph, and per task a fine-tuned checkpoint,
 * calibration data, test data and the graph output that scores it. Read from HOCON; relative
 * paths resolve against the spec file's directory ({@link PathPolicy#CONFINED}: and must stay inside it).
 * Unknown keys are errors with the closest known key named.
 *
 * <pre>
 * name = digits
 * base = base.safetensors
 * graph = model.onnx
 * batch-size = 50            # optional, default 64
 * tasks = [ { name = identity, checkpoint = tasks/identity.safetensors,
 *             calibration = data/identity-calib.safetensors,
 *             test = data/identity-test.safetensors, output = logits } ]
 * </pre>
 */
public record ExperimentSpec(Path file, String name, Path base, Path graph, int batchSize, List<TaskSpec> tasks) {

    public static final int DEFAULT_BATCH_SIZE = 64;

    public record TaskSpec(String name, Path checkpoint, Path calibration, Path test, String output) {
    }

    public ExperimentSpec {
        tasks = List.copyOf(tasks);
    }

    public TaskSpec task(String taskName) {
        return tasks.stream().filter(t -> t.name().equals(taskName)).findFirst()
                .orElseThrow(() -> new SpecException("unknown task '" + taskName + "' in " + file
                        + " (tasks: " + String.join(", ", taskNames()) + ")"));
    }

    public List<String> taskNames() {
        return tasks.stream().map(TaskSpec::name).toList();
    }

    public int taskIndex(String taskName) {
        return taskNames().indexOf(task(taskName).name());
    }

    /** Keys a spec may hold at the top level, and in each task block: any other key is an error, not ignored. */
    static final Set<String> KEYS = ConfigKeys.of("name", "base", "graph", "batch-size", "tasks");
    static final Set<String> TASK_KEYS = ConfigKeys.of("name", "checkpoint", "calibration", "test", "output");

    /** Every file the spec names (the spec itself first): what no command may write over. */
    public List<Path> inputs() {
        List<Path> out = new ArrayList<>(List.of(file, base, graph));
        for (TaskSpec t : tasks) {
            out.addAll(List.of(t.checkpoint(), t.calibration(), t.test()));
        }
        return List.copyOf(out);
    }

    /** Reads and validates a spec whose paths may point anywhere (the local CLI). */
    public static ExperimentSpec load(Path file) {
        return load(file, PathPolicy.ANYWHERE);
    }

    /** Reads and validates a spec; every problem is a one-line {@link SpecException}. */
    public static ExperimentSpec load(Path file, PathPolicy policy) {
        if (Files.isDirectory(file)) {
            throw new SpecException("spec " + file + " is a directory, expected a HOCON file");
        }
        if (!Files.exists(file)) {
            throw new SpecException("spec file not found: " + file);
        }
        try {
            InputFiles.requireRegularFile(file, "spec");
        } catch (StorageException e) {
            throw new SpecException(e.getMessage());
        }
        Config c;
        try {
            c = ConfigFactory.parseFile(file.toFile(),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false)).resolve();
        } catch (ConfigException e) {
            throw new SpecException("spec " + file + ": " + oneLine(e.getMessage()));
        }
        ConfigKeys.unknownKey(c.root(), KEYS, "the spec").ifPresent(m -> {
            throw new SpecException("spec " + file + ": " + m);
        });
        Paths paths = new Paths(file.toAbsolutePath().getParent(), file, policy);
        String name = optionalString(c, "name", file).orElse(file.getFileName().toString());
        Path base = paths.checkpoint(requireString(c, "base", file), "base");
        Path graph = paths.file(requireString(c, "graph", file), "graph");
        int batchSize = DEFAULT_BATCH_SIZE;
        if (c.hasPath("batch-size")) {
            try {
                batchSize = c.getInt("batch-size");
            } catch (ConfigException e) {
                throw new SpecException("spec " + file + ": batch-size must be an integer");
            }
            if (batchSize <= 0) {
                throw new SpecException("spec " + file + ": batch-size must be positive, got " + batchSize);
            }
        }
        if (!c.hasPath("tasks")) {
            throw new SpecException("spec " + file + ": missing key 'tasks'");
        }
        List<? extends Config> taskConfigs;
        try {
            taskConfigs = c.getConfigList("tasks");
        } catch (ConfigException e) {
            throw new SpecException("spec " + file + ": 'tasks' must be a list of objects");
        }
        if (taskConfigs.isEmpty()) {
            throw new SpecException("spec " + file + ": 'tasks' is empty");
        }
        List<TaskSpec> tasks = new ArrayList<>();
        var seen = new HashSet<String>();
        for (int i = 0; i < taskConfigs.size(); i++) {
            Config t = taskConfigs.get(i);
            String where = "tasks[" + i + "]";
            String w = where;
            ConfigKeys.unknownKey(t.root(), TASK_KEYS, w).ifPresent(m -> {
                throw new SpecException("spec " + file + ": " + m);
            });
            String taskName = requireString(t, "name", file, where);
            if (!taskName.matches("[A-Za-z0-9_.-]+")) {
                throw new SpecException("spec " + file + ": task name '" + taskName + "' must match [A-Za-z0-9_.-]+");
            }
            if (!seen.add(taskName)) {
                throw new SpecException("spec " + file + ": duplicate task name '" + taskName + "'");
            }
            where = "task '" + taskName + "'";
            tasks.add(new TaskSpec(taskName,
                    paths.checkpoint(requireString(t, "checkpoint", file, where), where + " checkpoint"),
                    paths.file(requireString(t, "calibration", file, where), where + " calibration"),
                    paths.file(requireString(t, "test", file, where), where + " test"),
                    requireString(t, "output", file, where)));
        }
        return new ExperimentSpec(file.toAbsolutePath(), name, base, graph, batchSize, tasks);
    }

    private static String requireString(Config c, String key, Path file) {
        return requireString(c, key, file, null);
    }

    private static String requireString(Config c, String key, Path file, String where) {
        String prefix = "spec " + file + ": " + (where == null ? "" : where + ": ");
        if (!c.hasPath(key)) {
            throw new SpecException(prefix + "missing key '" + key + "'");
        }
        try {
            String v = c.getString(key);
            if (v.isBlank()) {
                throw new SpecException(prefix + "key '" + key + "' is empty");
            }
            return v;
        } catch (ConfigException.WrongType e) {
            throw new SpecException(prefix + "key '" + key + "' must be a string");
        }
    }

    private static Optional<String> optionalString(Config c, String key, Path file) {
        return c.hasPath(key) ? Optional.of(requireString(c, key, file)) : Optional.empty();
    }

    /** Resolves a spec's paths against its directory, under its {@link PathPolicy}. */
    private record Paths(Path dir, Path file, PathPolicy policy) {

        Path existing(String value, String what) {
            Path p = dir.resolve(value).normalize();
            if (!Files.exists(p)) {
                throw new SpecException("spec " + file + ": " + what + " not found: " + p);
            }
            if (policy == PathPolicy.CONFINED) {
                try {
                    Path root = dir.toRealPath();
                    Path real = p.toRealPath();
                    if (!real.startsWith(root)) {
                        throw new SpecException("spec " + file + ": " + what + " '" + value + "' leaves the spec's directory "
                                + root + (real.equals(p) ? "" : " (it resolves to " + real + ")")
                                + "; paths must stay inside it here");
                    }
                } catch (IOException e) {
                    throw new SpecException("spec " + file + ": cannot resolve " + what + " " + p + ": " + e.getMessage());
                }
            }
            return p;
        }

        /** A regular file (a FIFO or device would block its reader). */
        Path file(String value, String what) {
            Path p = existing(value, what);
            if (Files.isDirectory(p)) {
                throw new SpecException("spec " + file + ": " + what + " " + p + " is a directory, expected a file");
            }
            regular(p, what);
            return p;
        }

        /** A safetensors file or a checkpoint directory (sharded, or holding one .safetensors file). */
        Path checkpoint(String value, String what) {
            Path p = existing(value, what);
            if (!Files.isDirectory(p)) {
                regular(p, what);
            }
            return p;
        }

        private void regular(Path p, String what) {
            try {
                InputFiles.requireRegularFile(p, what);
            } catch (StorageException e) {
                throw new SpecException("spec " + file + ": " + e.getMessage());
            }
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ');
    }
}
