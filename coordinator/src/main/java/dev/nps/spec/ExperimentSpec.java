package dev.nps.spec;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/**
 * An experiment: one base checkpoint, one ONNX graph, and per task a fine-tuned checkpoint,
 * calibration data, test data and the graph output that scores it. Read from HOCON; relative
 * paths resolve against the spec file's directory.
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

    /** Reads and validates a spec; every problem is a one-line {@link SpecException}. */
    public static ExperimentSpec load(Path file) {
        if (Files.isDirectory(file)) {
            throw new SpecException("spec " + file + " is a directory, expected a HOCON file");
        }
        if (!Files.isRegularFile(file)) {
            throw new SpecException("spec file not found: " + file);
        }
        Config c;
        try {
            c = ConfigFactory.parseFile(file.toFile(),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false)).resolve();
        } catch (ConfigException e) {
            throw new SpecException("spec " + file + ": " + oneLine(e.getMessage()));
        }
        Path dir = file.toAbsolutePath().getParent();
        String name = optionalString(c, "name", file).orElse(file.getFileName().toString());
        Path base = existingFile(dir, requireString(c, "base", file), "base", file);
        Path graph = existingFile(dir, requireString(c, "graph", file), "graph", file);
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
            String taskName = requireString(t, "name", file, where);
            if (!taskName.matches("[A-Za-z0-9_.-]+")) {
                throw new SpecException("spec " + file + ": task name '" + taskName + "' must match [A-Za-z0-9_.-]+");
            }
            if (!seen.add(taskName)) {
                throw new SpecException("spec " + file + ": duplicate task name '" + taskName + "'");
            }
            where = "task '" + taskName + "'";
            tasks.add(new TaskSpec(taskName,
                    existingPath(dir, requireString(t, "checkpoint", file, where), where + " checkpoint", file),
                    existingFile(dir, requireString(t, "calibration", file, where), where + " calibration", file),
                    existingFile(dir, requireString(t, "test", file, where), where + " test", file),
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

    private static Path existingPath(Path dir, String value, String what, Path file) {
        Path p = dir.resolve(value).normalize();
        if (!Files.exists(p)) {
            throw new SpecException("spec " + file + ": " + what + " not found: " + p);
        }
        return p;
    }

    private static Path existingFile(Path dir, String value, String what, Path file) {
        Path p = existingPath(dir, value, what, file);
        if (Files.isDirectory(p)) {
            throw new SpecException("spec " + file + ": " + what + " " + p + " is a directory, expected a file");
        }
        return p;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ');
    }
}
