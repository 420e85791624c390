package dev.nps.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * DIR/report.html: one self-contained page (inline CSS, plots as base64 PNG) drawn only from the
 * content of result.json, so it can never say more than the run recorded. What is present is
 * shown: the summary and per-task accuracies always; a fitness and a parameter plot for every
 * search (an object holding a {@code history} array, wherever it sits); accuracy against keep rate
 * ({@code keepCurve}); calibration accuracy against lambda ({@code selection.grid}); the cross-task
 * matrix ({@code cross}). The page is well-formed XML (XHTML syntax).
 */
public final class Report {
    private static final String CSS = """
            body{font-family:sans-serif;margin:2em;max-width:80em;color:#222}
            table{border-collapse:collapse;margin:.5em 0 1.5em}
            td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
            th{background:#f3f3f3}
            td.key,th.key{text-align:left}
            figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top}
            figcaption{font-size:.85em;color:#555;max-width:44em}
            section.search{border-top:1px solid #ddd;margin-top:1em}
            p.error{color:#a00}
            """;

    private Report() {
    }

    /** The page for one result.json tree. */
    public static String html(JsonNode result) {
        Page p = new Page();
        String command = text(result, "command");
        String title = "NPS " + command + (result.hasNonNull("method") ? " (" + text(result, "method") + ")" : "");
        p.raw("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n");
        p.tag("title", title).raw("<style>").text(CSS).raw("</style>\n</head>\n<body>\n");
        p.tag("h1", title);
        section(p, "summary", q -> summary(q, result));
        section(p, "tasks", q -> tasks(q, result));
        section(p, "parameters", q -> keyValues(q, "Parameters", result.get("parameters")));
        section(p, "control", q -> keyValues(q, "Control", result.get("control")));
        section(p, "transfer", q -> rows(q, "Transfer: target, other tasks, H-score", result.get("transfer")));
        section(p, "baselines", q -> rows(q, "Classic merges on the same spec", result.get("baselines")));
        section(p, "keepCurve", q -> keepCurve(q, result.get("keepCurve")));
        section(p, "selection", q -> selection(q, result));
        section(p, "searches", q -> searches(q, result));
        section(p, "compression", q -> rows(q, "Compression", result.get("compression")));
        section(p, "cross", q -> cross(q, result.get("cross")));
        p.raw("</body>\n</html>\n");
        return p.render();
    }

    /**
     * Builds one section apart and keeps it only if it completes: a result of a shape this code
     * does not expect costs that section, never the page, and never the result.json written after it.
     */
    private static void section(Page p, String name, java.util.function.Consumer<Page> body) {
        Page q = new Page();
        try {
            body.accept(q);
        } catch (RuntimeException e) {
            p.raw("<p class=\"error\">").text("section '" + name + "' not drawn: " + e).raw("</p>\n");
            return;
        }
        p.append(q);
    }

    // ------------------------------------------------------------------ sections

    private static void summary(Page p, JsonNode r) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String k : List.of("command", "spec", "method", "keep", "lambda", "meanAccuracy", "meanNormalizedAccuracy",
                "finetunedAccuracy")) {
            if (r.hasNonNull(k)) {
                kv.put(k, format(r.get(k)));
            }
        }
        if (r.has("lambdas")) {
            kv.put("lambdas", format(r.get("lambdas")));
        }
        if (r.path("base").has("meanAccuracy")) {
            kv.put("base meanAccuracy", format(r.get("base").get("meanAccuracy")));
        }
        if (r.has("wallSeconds")) {
            kv.put("wall time", String.format(Locale.ROOT, "%.1f s", r.get("wallSeconds").asDouble()));
        }
        if (r.has("outputs")) {
            kv.put("outputs", r.get("outputs").valueStream().map(JsonNode::asText).collect(Collectors.joining(", ")));
        }
        p.raw("<table class=\"summary\">\n");
        kv.forEach((k, v) -> p.raw("<tr>").tag("th", "key", k).tag("td", "key", v).raw("</tr>\n"));
        p.raw("</table>\n");
    }

    private static void tasks(Page p, JsonNode r) {
        JsonNode tasks = r.get("tasks");
        if (tasks == null || tasks.isEmpty()) {
            return;
        }
        JsonNode base = r.path("base").path("tasks");
        p.tag("h2", "Accuracy per task (test split)");
        p.raw("<table class=\"tasks\">\n<tr>").tag("th", "key", "task");
        for (String h : List.of("accuracy", "normalized accuracy", "correct", "samples")) {
            p.tag("th", h);
        }
        if (!base.isMissingNode()) {
            p.tag("th", "base accuracy");
        }
        p.raw("</tr>\n");
        for (Map.Entry<String, JsonNode> t : tasks.properties()) {
            JsonNode n = t.getValue();
            p.raw("<tr>").tag("td", "key", t.getKey());
            for (String k : List.of("accuracy", "normalizedAccuracy", "correct", "samples")) {
                p.tag("td", format(n.get(k)));
            }
            if (!base.isMissingNode()) {
                p.tag("td", format(base.get(t.getKey())));
            }
            p.raw("</tr>\n");
        }
        p.raw("</table>\n");
    }

    /** The scalar and array fields of an object as a two-column table. */
    private static void keyValues(Page p, String heading, JsonNode obj) {
        if (obj == null || !obj.isObject() || obj.isEmpty()) {
            return;
        }
        p.tag("h2", heading).raw("<table>\n");
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            JsonNode v = e.getValue();
            boolean nested = v.isObject() || v.isArray() && !v.isEmpty() && v.get(0).isContainerNode(); // e.g. a history: plotted
            if (!nested) {
                p.raw("<tr>").tag("th", "key", e.getKey()).tag("td", "key", format(v)).raw("</tr>\n");
            }
        }
        p.raw("</table>\n");
    }

    /** An object of objects (rows) as a table whose columns are the rows' scalar fields. */
    private static void rows(Page p, String heading, JsonNode obj) {
        if (obj == null || !obj.isObject()) {
            return;
        }
        List<String> columns = new ArrayList<>();
        List<Map.Entry<String, JsonNode>> rows = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            if (e.getValue().isObject()) {
                rows.add(e);
                e.getValue().properties().stream().filter(f -> f.getValue().isValueNode()).map(Map.Entry::getKey)
                        .filter(k -> !columns.contains(k)).forEach(columns::add);
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        keyValues(p, heading, obj); // the section's own scalars (encoding, formula, ...)
        p.raw("<table>\n<tr>").tag("th", "key", "");
        columns.forEach(c -> p.tag("th", c));
        p.raw("</tr>\n");
        for (Map.Entry<String, JsonNode> row : rows) {
            p.raw("<tr>").tag("td", "key", row.getKey());
            columns.forEach(c -> p.tag("td", format(row.getValue().get(c))));
            p.raw("</tr>\n");
        }
        p.raw("</table>\n");
    }

    private static void keepCurve(Page p, JsonNode curve) {
        if (curve == null || !curve.has("keeps") || !curve.has("methods")) {
            return;
        }
        List<Double> keeps = numbers(curve.get("keeps"));
        List<Plots.Series> series = new ArrayList<>();
        for (Map.Entry<String, JsonNode> m : curve.get("methods").properties()) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (int i = 0; i < keeps.size() && i < m.getValue().size(); i++) {
                JsonNode v = m.getValue().get(i);
                if (v.isNumber()) { // null: not computed at this keep
                    x.add(keeps.get(i));
                    y.add(v.asDouble());
                }
            }
            if (!x.isEmpty()) {
                series.add(new Plots.Series(m.getKey(), x, y));
            }
        }
        if (series.isEmpty()) {
            return;
        }
        String split = curve.path("split").asText("test");
        p.tag("h2", "Accuracy against keep rate");
        p.figure("keep-curve", new Plots.Chart("mean " + split + " accuracy against keep rate", "keep rate",
                        "mean " + split + " accuracy", null, 720, 400, series),
                "Mean accuracy over tasks on the " + split + " split for each method at each keep rate (keepCurve).");
    }

    /** Calibration accuracy against lambda, one line per setting of the grid's other hyper-parameters. */
    private static void selection(Page p, JsonNode r) {
        JsonNode grid = r.path("selection").path("grid");
        if (!grid.isArray() || grid.isEmpty()) {
            return;
        }
        Map<String, List<JsonNode>> groups = new LinkedHashMap<>();
        for (JsonNode row : grid) {
            if (!row.has("lambda") || !row.has("calibrationMeanAccuracy")) {
                continue;
            }
            String key = row.properties().stream()
                    .filter(e -> !e.getKey().equals("lambda") && !e.getKey().equals("calibrationMeanAccuracy"))
                    .map(e -> e.getKey() + "=" + (e.getValue().isNumber()
                            ? java.math.BigDecimal.valueOf(e.getValue().asDouble()).stripTrailingZeros().toPlainString()
                            : e.getValue().asText()))
                    .collect(Collectors.joining(", "));
            groups.computeIfAbsent(key.isEmpty() ? "calibration" : key, k -> new ArrayList<>()).add(row);
        }
        if (groups.isEmpty()) {
            return;
        }
        List<Plots.Series> series = new ArrayList<>();
        groups.forEach((name, rows) -> series.add(new Plots.Series(name,
                rows.stream().map(x -> x.get("lambda").asDouble()).toList(),
                rows.stream().map(x -> x.get("calibrationMeanAccuracy").asDouble()).toList())));
        JsonNode chosen = r.path("selection").path("calibrationMeanAccuracy");
        if (r.path("lambda").isNumber() && chosen.isNumber()) {
            series.add(new Plots.Series("chosen", List.of(r.get("lambda").asDouble()), List.of(chosen.asDouble()), false, true));
        }
        p.tag("h2", "Hyper-parameter selection");
        p.figure("selection", new Plots.Chart("mean calibration accuracy against lambda", "lambda",
                        "mean " + r.path("selection").path("split").asText("calibration") + " accuracy", null, 720, 400, series),
                "Every grid point of --lambda auto (selection.grid); the chosen point is the highest (ties: the earlier).");
    }

    /**
     * Every object holding a {@code history} array, in document order, named by its path. Searches
     * that differ only in a task name (merge's prune.T, compress's compression.T.search) share one
     * fitness chart, a line per task, which keeps the page's drawing time down.
     */
    private static void searches(Page p, JsonNode r) {
        List<Map.Entry<String, JsonNode>> found = new ArrayList<>();
        collectSearches("", r, found);
        if (found.isEmpty()) {
            return;
        }
        p.tag("h2", "Searches");
        List<String> taskNames = r.has("tasks") ? r.get("tasks").propertyStream().map(Map.Entry::getKey).toList() : List.of();
        Map<String, Map<String, JsonNode>> groups = new LinkedHashMap<>(); // path with the task as '*' -> task -> search
        for (Map.Entry<String, JsonNode> e : found) {
            List<String> segments = List.of(e.getKey().split("\\."));
            String task = segments.stream().filter(taskNames::contains).findFirst().orElse(null);
            String key = task == null ? e.getKey()
                    : segments.stream().map(x -> x.equals(task) ? "*" : x).collect(Collectors.joining("."));
            groups.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(task == null ? e.getKey() : task, e.getValue());
        }
        groups.forEach((group, members) -> {
            String key = group.replace("*", "<task>");
            if (members.size() == 1) {
                Map.Entry<String, JsonNode> only = members.entrySet().iterator().next();
                String path = group.replace("*", only.getKey());
                p.raw("<section class=\"search\">\n").tag("h3", path + space(only.getValue()));
                facts(p, only.getValue());
                fitness(p, path, only.getValue());
                parameters(p, path, only.getValue(), taskNames);
                p.raw("</section>\n");
                return;
            }
            p.raw("<section class=\"search\">\n").tag("h3", key + space(members.values().iterator().next())
                    + ", one per task");
            List<Plots.Series> best = new ArrayList<>();
            members.forEach((task, s) -> best.add(new Plots.Series(task, generations(s.get("history")),
                    column(s.get("history"), "bestAccuracy"))));
            p.figure("fitness", new Plots.Chart("fitness per generation: " + key, "generation", "best calibration accuracy",
                            null, 560, 320, best),
                    "Best calibration accuracy of each generation's candidates (history[].bestAccuracy), one line per task's search.");
            members.forEach((task, s) -> {
                String path = group.replace("*", task);
                p.tag("h4", path);
                facts(p, s);
                parameters(p, path, s, taskNames);
            });
            p.raw("</section>\n");
        });
    }

    private static void collectSearches(String path, JsonNode node, List<Map.Entry<String, JsonNode>> out) {
        if (!node.isObject()) {
            return;
        }
        if (node.path("history").isArray() && !node.get("history").isEmpty()) {
            out.add(Map.entry(path, node));
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            collectSearches(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out);
        }
    }

    private static String space(JsonNode s) {
        return s.has("space") ? " (" + s.get("space").asText() + " search)" : "";
    }

    private static void facts(Page p, JsonNode s) {
        List<String> facts = new ArrayList<>();
        for (String k : List.of("generations", "population", "bestCalibrationAccuracy", "calibrationAccuracy",
                "batchesSkipped", "cacheHits", "abortedCandidates", "trajectorySha256")) {
            if (s.has(k)) {
                facts.add(k + " " + format(s.get(k)));
            }
        }
        if (!facts.isEmpty()) {
            p.tag("p", String.join("; ", facts));
        }
    }

    private static List<Double> generations(JsonNode history) {
        List<Double> gens = new ArrayList<>();
        for (JsonNode h : history) {
            gens.add(h.path("generation").asDouble(gens.size() + 1));
        }
        return gens;
    }

    private static void fitness(Page p, String path, JsonNode s) {
        JsonNode history = s.get("history");
        List<Double> gens = generations(history);
        List<Plots.Series> fitness = new ArrayList<>();
        fitness.add(new Plots.Series("best", gens, column(history, "bestAccuracy")));
        fitness.add(new Plots.Series("mean", gens, column(history, "meanAccuracy")));
        if (history.get(0).has("skippedShare")) {
            fitness.add(new Plots.Series("skipped share", gens, column(history, "skippedShare"), true, false));
        }
        p.figure("fitness", new Plots.Chart("fitness per generation: " + path, "generation", "calibration accuracy",
                        "skipped share", 560, 320, fitness),
                "Best and mean calibration accuracy of each generation's candidates (history[].bestAccuracy, "
                        + "meanAccuracy); skipped share (right axis): batches taken from the cache or never scored after an abort.");
    }

    /** One line per searched parameter: the CMA-ES mean after each generation. */
    private static void parameters(Page p, String path, JsonNode s, List<String> taskNames) {
        JsonNode history = s.get("history");
        if (!history.get(0).path("mean").isArray()) {
            return;
        }
        String space = s.path("space").asText("");
        int dims = history.get(0).get("mean").size();
        List<String> names = parameterNames(space, dims, taskNames);
        List<Plots.Series> lines = new ArrayList<>();
        for (int d = 0; d < dims; d++) {
            List<Double> y = new ArrayList<>();
            for (JsonNode h : history) {
                y.add(h.get("mean").get(d).asDouble());
            }
            lines.add(new Plots.Series(names.get(d), generations(history), y));
        }
        boolean lambdas = space.equals("fusion");
        p.figure("parameters", new Plots.Chart((lambdas ? "task lambdas" : "subspace weights") + " per generation: " + path,
                        "generation", "CMA-ES mean", null, 560, 320, lines),
                (lambdas ? "One line per task's lambda" : "One line per subspace weight (w1 = lowest searched magnitudes)")
                        + ": the CMA-ES mean after each generation (history[].mean), as in the paper's figure 6.");
    }

    private static List<String> parameterNames(String space, int dims, List<String> taskNames) {
        List<String> names = new ArrayList<>();
        for (int d = 0; d < dims; d++) {
            names.add(switch (space) {
                case "prune" -> "w" + (d + 1);
                case "transfer" -> d == dims - 1 ? "lambda" : "w" + (d + 1);
                case "fusion" -> "lambda " + (taskNames.size() == dims ? taskNames.get(d) : String.valueOf(d + 1));
                default -> "x" + (d + 1);
            });
        }
        return names;
    }

    /** The fine-tuned x task matrix with a red (low) to green (high) background. */
    private static void cross(Page p, JsonNode cross) {
        if (cross == null || !cross.isObject() || cross.isEmpty()) {
            return;
        }
        List<String> cols = new ArrayList<>();
        for (JsonNode row : cross) {
            row.propertyStream().map(Map.Entry::getKey).filter(c -> !cols.contains(c)).forEach(cols::add);
        }
        p.tag("h2", "Cross-task accuracy (rows: fine-tuned model; columns: task)");
        p.raw("<table class=\"cross\">\n<tr>").tag("th", "key", "model \\ task");
        cols.forEach(c -> p.tag("th", c));
        p.raw("</tr>\n");
        for (Map.Entry<String, JsonNode> row : cross.properties()) {
            p.raw("<tr>").tag("th", "key", row.getKey());
            for (String c : cols) {
                JsonNode v = row.getValue().get(c);
                if (v != null && v.isNumber()) {
                    double a = Math.clamp(v.asDouble(), 0, 1);
                    String style = String.format(Locale.ROOT, "background:hsl(%d,65%%,%d%%)%s", Math.round(120 * a),
                            82, c.equals(row.getKey()) ? ";font-weight:bold" : "");
                    p.raw("<td style=\"" + style + "\">").text(format(v)).raw("</td>");
                } else {
                    p.tag("td", format(v));
                }
            }
            p.raw("</tr>\n");
        }
        p.raw("</table>\n");
    }

    // ------------------------------------------------------------------ helpers

    private static List<Double> column(JsonNode history, String field) {
        List<Double> v = new ArrayList<>();
        for (JsonNode h : history) {
            v.add(h.path(field).asDouble(Double.NaN));
        }
        return v;
    }

    private static List<Double> numbers(JsonNode array) {
        List<Double> v = new ArrayList<>();
        array.forEach(n -> v.add(n.asDouble()));
        return v;
    }

    private static String text(JsonNode r, String field) {
        return r.path(field).asText("");
    }

    /** Integers as they are, other numbers with 4 decimals (or 4 significant digits when tiny or huge), arrays comma-separated. */
    static String format(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return "";
        }
        if (v.isIntegralNumber()) {
            return v.asText();
        }
        if (v.isNumber()) {
            double d = v.asDouble();
            return Math.abs(d) >= 1e-3 && Math.abs(d) < 1e5 || d == 0
                    ? String.format(Locale.ROOT, "%.4f", d) : String.format(Locale.ROOT, "%.4g", d);
        }
        if (v.isArray()) {
            List<String> parts = new ArrayList<>();
            v.forEach(x -> parts.add(format(x)));
            return String.join(", ", parts);
        }
        return v.isObject() ? v.toString() : v.asText();
    }

    /**
     * The page being built, with XML escaping for text and attribute values. Plots are drawn at the
     * end, all at once on the common pool: drawing dominates the cost of the page.
     */
    private static final class Page {
        private final List<Object> parts = new ArrayList<>(); // String, or a Figure still to draw
        private final StringBuilder b = new StringBuilder(1 << 12);

        private record Figure(String kind, Plots.Chart chart, String caption) {
        }

        Page raw(String s) {
            b.append(s);
            return this;
        }

        Page text(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '<' -> b.append("&lt;");
                    case '>' -> b.append("&gt;");
                    case '&' -> b.append("&amp;");
                    case '"' -> b.append("&quot;");
                    default -> b.append(c);
                }
            }
            return this;
        }

        Page tag(String name, String content) {
            return raw("<" + name + ">").text(content).raw("</" + name + ">");
        }

        Page tag(String name, String cssClass, String content) {
            return raw("<" + name + " class=\"" + cssClass + "\">").text(content).raw("</" + name + ">");
        }

        void append(Page other) {
            parts.add(b.toString());
            b.setLength(0);
            parts.addAll(other.parts);
            b.append(other.b);
        }

        void figure(String kind, Plots.Chart chart, String caption) {
            parts.add(b.toString());
            b.setLength(0);
            parts.add(new Figure(kind, chart, caption));
        }

        /** The finished page; draws the plots. Call once. */
        String render() {
            parts.add(b.toString());
            b.setLength(0);
            return parts.parallelStream().map(p -> p instanceof Figure f ? draw(f) : (String) p)
                    .collect(Collectors.joining());
        }

        /**
         * One plot. A chart that cannot be drawn (say, a host without fonts) becomes a line of text:
         * the run's result must not be lost to its picture.
         */
        private static String draw(Figure f) {
            Page p = new Page();
            try {
                String uri = Plots.dataUri(f.chart());
                p.raw("<figure class=\"plot\" data-plot=\"").text(f.kind())
                        .raw("\" data-series=\"" + f.chart().series().size() + "\">\n");
                p.raw("<img alt=\"").text(f.chart().title()).raw("\" src=\"" + uri + "\" />\n");
                p.tag("figcaption", f.caption()).raw("\n</figure>\n");
            } catch (RuntimeException | LinkageError | java.awt.AWTError e) {
                p.raw("<p class=\"error\">").text("plot '" + f.chart().title() + "' not drawn: " + e).raw("</p>\n");
            }
            return p.b.toString();
        }
    }
}
