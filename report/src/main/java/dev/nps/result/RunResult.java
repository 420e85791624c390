package dev.nps.result;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nps.report.Report;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * DIR/result.json, the record every command leaves. The common fields (see README, "result.json")
 * come first; command-specific sections follow.
 */
public final class RunResult {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One task's accuracy and its ratio to the fine-tuned model's own test accuracy. */
    public record TaskResult(String name, long correct, long samples, double accuracy, double normalizedAccuracy) {
    }

    private final ObjectNode root = JsonNodeFactory.instance.objectNode();

    public RunResult(String command, String spec, String method, Double keep, Double lambda) {
        root.put("command", command);
        root.put("spec", spec);
        root.put("method", method);
        putNullable("keep", keep);
        putNullable("lambda", lambda);
    }

    private void putNullable(String key, Double v) {
        if (v == null) {
            root.putNull(key);
        } else {
            root.put(key, v);
        }
    }

    /** Per-task results; also sets meanAccuracy and meanNormalizedAccuracy. */
    public RunResult tasks(List<TaskResult> tasks) {
        ObjectNode node = root.putObject("tasks");
        double acc = 0;
        double norm = 0;
        for (TaskResult t : tasks) {
            ObjectNode n = node.putObject(t.name());
            n.put("accuracy", t.accuracy());
            n.put("normalizedAccuracy", t.normalizedAccuracy());
            n.put("correct", t.correct());
            n.put("samples", t.samples());
            acc += t.accuracy();
            norm += t.normalizedAccuracy();
        }
        root.put("meanAccuracy", tasks.isEmpty() ? 0 : acc / tasks.size());
        root.put("meanNormalizedAccuracy", tasks.isEmpty() ? 0 : norm / tasks.size());
        return this;
    }

    /** A command-specific section, created on first use. */
    public ObjectNode section(String name) {
        return root.has(name) ? (ObjectNode) root.get(name) : root.putObject(name);
    }

    public ObjectNode root() {
        return root;
    }

    public RunResult wallSeconds(double seconds) {
        root.put("wallSeconds", seconds);
        return this;
    }

    public byte[] toBytes() {
        try {
            return JSON.writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes report.html (drawn from this result) and then result.json, each atomically; call last,
     * after every other output file landed: result.json is the last file a run writes.
     */
    public void writeTo(OutputDirectory out) {
        out.write("report.html", Report.html(root).getBytes(StandardCharsets.UTF_8));
        out.write("result.json", toBytes());
    }
}
