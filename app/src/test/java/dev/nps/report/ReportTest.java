package dev.nps.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchListener;
import dev.nps.result.OutputDirectory;
import dev.nps.result.RunResult;
import dev.nps.kernels.subspace.SubspacePartition;
import dev.nps.experiment.Experiment;
import dev.nps.workflow.NpsWorkflow;
import dev.nps.workflow.WorkflowContext;
import dev.nps.experiment.Progress;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** report.html as the commands write it: from a real search on examples/digits, and from hand-made sections. */
class ReportTest {
    private static final int SUBSPACES = 4;

    private static Experiment ex;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        ex = Experiment.load(dev.nps.spec.ExperimentSpec.load(java.nio.file.Path.of(System.getProperty("nps.repo.root", ".."))
                .resolve("examples/digits/spec.conf")), dev.nps.evaluator.ScorerOptions.defaults(), dev.nps.storage.UnsharedPolicy.CARRY);
    }

    @AfterAll
    static void close() {
        ex.close();
    }

    private static SearchConfig config(int generations) {
        return SearchConfig.defaults().withSeed(3).withGenerations(generations).withSubspaces(SUBSPACES).withKeep(0.1)
                .withPartition(SubspacePartition.Kind.BAND, 2);
    }

    private record Figure(String kind, int series, String caption, BufferedImage image) {
    }

    /** Parses the page as XML (it is XHTML) and decodes every plot. */
    private static List<Figure> figures(Path html) throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(html.toFile());
        NodeList nodes = doc.getElementsByTagName("figure");
        List<Figure> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            Element f = (Element) nodes.item(i);
            Element img = (Element) f.getElementsByTagName("img").item(0);
            String src = img.getAttribute("src");
            assertTrue(src.startsWith("data:image/png;base64,"), "plots are embedded, not linked: " + src.substring(0, 40));
            BufferedImage png = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(src.substring(src.indexOf(',') + 1))));
            assertFalse(img.getAttribute("alt").isBlank());
            out.add(new Figure(f.getAttribute("data-plot"), Integer.parseInt(f.getAttribute("data-series")),
                    f.getElementsByTagName("figcaption").item(0).getTextContent(), png));
        }
        return out;
    }

    private static List<Figure> ofKind(List<Figure> all, String kind) {
        return all.stream().filter(f -> f.kind().equals(kind)).toList();
    }

    private static void assertResultJsonLastAndNoTempFile(Path dir) throws IOException {
        FileTime result = Files.getLastModifiedTime(dir.resolve("result.json"));
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                assertFalse(p.getFileName().toString().endsWith(".tmp"), "temp file left: " + p);
                assertTrue(Files.getLastModifiedTime(p).compareTo(result) <= 0, p + " written after result.json");
            }
        }
    }

    @Test
    void pruneSearchOnDigitsGetsFitnessAndSubspaceWeightPlots() throws Exception {
        OutputDirectory out = OutputDirectory.prepare(tmp.resolve("prune"), java.util.List.of());
        RunResult result = NpsWorkflow.prune(WorkflowContext.embedded(ex, out), "rot90", config(4));
        assertResultJsonLastAndNoTempFile(out.path());
        JsonNode json = new ObjectMapper().readTree(out.resolve("result.json").toFile());
        assertEquals(new ObjectMapper().readTree(result.toBytes()), json);

        // The history carries the CMA-ES mean and each generation's best x, both M subspace weights.
        JsonNode search = json.get("search");
        assertEquals("prune", search.get("space").asText());
        JsonNode history = search.get("history");
        assertEquals(4, history.size());
        for (JsonNode h : history) {
            assertEquals(SUBSPACES, h.get("mean").size());
            assertEquals(SUBSPACES, h.get("best").size());
        }
        // The search's best is the best x of the first generation that reached its accuracy.
        double best = search.get("bestCalibrationAccuracy").asDouble();
        JsonNode reached = Stream.iterate(0, i -> i + 1).limit(history.size()).map(history::get)
                .filter(h -> h.get("bestAccuracy").asDouble() == best).findFirst().orElseThrow();
        assertArrayEquals(doubles(search.get("bestWeights")), doubles(reached.get("best")));

        String html = Files.readString(out.resolve("report.html"));
        List<Figure> figures = figures(out.resolve("report.html"));
        assertEquals(2, figures.size(), "one search: a fitness and a weights plot");
        Figure fitness = ofKind(figures, "fitness").getFirst();
        assertEquals(3, fitness.series()); // best, mean, skipped share
        assertTrue(fitness.caption().contains("calibration accuracy"));
        Figure weights = ofKind(figures, "parameters").getFirst();
        assertEquals(SUBSPACES, weights.series(), "one line per subspace weight");
        assertTrue(weights.caption().contains("subspace weight"));
        for (Figure f : figures) {
            assertTrue(f.image().getWidth() >= 400 && f.image().getHeight() >= 200, f.kind());
        }
        // Header and the task table come from result.json.
        assertTrue(html.contains("<td class=\"key\">rot90</td>"));
        assertTrue(html.contains(Report.format(json.get("tasks").get("rot90").get("accuracy"))));
        assertTrue(html.contains(json.get("search").get("trajectorySha256").asText()));
        assertFalse(html.matches("(?s).*(src|href)=\"(?!data:).*"), "nothing loaded from elsewhere");
        assertFalse(html.contains("<script") || html.contains("<link"));
    }

    @Test
    void npsMergeGetsOnePlotPairPerPruneSearchAndTheTaskLambdas() throws Exception {
        OutputDirectory out = OutputDirectory.prepare(tmp.resolve("merge"), java.util.List.of());
        NpsWorkflow.merge(WorkflowContext.embedded(ex, out), config(2), java.util.List.of(config(2).keep()), java.util.Set.of());
        assertResultJsonLastAndNoTempFile(out.path());
        JsonNode json = new ObjectMapper().readTree(out.resolve("result.json").toFile());
        int tasks = ex.taskCount();
        assertEquals("fusion", json.get("search").get("space").asText());
        for (JsonNode h : json.get("search").get("history")) {
            assertEquals(tasks, h.get("mean").size(), "one lambda per task");
            assertEquals(tasks, h.get("best").size());
        }
        for (JsonNode prune : json.get("prune")) {
            assertEquals("prune", prune.get("space").asText());
            assertEquals(2, prune.get("history").size());
            assertEquals(SUBSPACES, prune.get("history").get(1).get("mean").size());
        }
        List<Figure> figures = figures(out.resolve("report.html"));
        List<Figure> fitness = ofKind(figures, "fitness");
        assertEquals(2, fitness.size(), "the prune searches share one chart; the lambda search has its own");
        assertEquals(tasks, fitness.getFirst().series(), "one line per task's prune search");
        assertEquals(3, fitness.getLast().series());
        List<Figure> params = ofKind(figures, "parameters");
        assertEquals(tasks + 1, params.size());
        assertEquals(tasks, params.stream().filter(f -> f.series() == SUBSPACES).count());
        Figure lambdas = params.getLast(); // the lambda search is written after the prune searches
        assertEquals(tasks, lambdas.series());
        assertTrue(lambdas.caption().contains("task's lambda"), lambdas.caption());
    }

    @Test
    void keepCurveSelectionAndCrossSectionsAreDrawnWhenPresent() throws Exception {
        RunResult r = new RunResult("merge", "spec.conf", "ties", 0.1, 0.9)
                .tasks(List.of(new RunResult.TaskResult("a<b&c", 9, 10, 0.9, 0.95),
                        new RunResult.TaskResult("rot90", 8, 10, 0.8, 0.85)));
        ObjectNode curve = r.section("keepCurve");
        curve.put("split", "test");
        curve.putArray("keeps").add(0.05).add(0.1).add(0.2);
        ObjectNode methods = curve.putObject("methods");
        methods.putArray("nps").add(0.71).add(0.8).add(0.86);
        methods.putArray("control").add(0.6).add(0.74).add(0.84);
        methods.putArray("ties").add(0.5).addNull().add(0.8); // not computed at 0.1
        methods.putArray("dare").addNull().addNull().addNull(); // nothing to draw: no line
        ObjectNode sel = r.section("selection");
        sel.put("split", "calibration");
        sel.put("calibrationMeanAccuracy", 0.88);
        ArrayNode grid = sel.putArray("grid");
        for (double keep : new double[] {0.05, 0.1, 0.2}) {
            for (double lambda = 0.1; lambda < 1.55; lambda += 0.2) {
                grid.addObject().put("keep", keep).put("lambda", lambda).put("calibrationMeanAccuracy", 0.5 + keep * lambda);
            }
        }
        ObjectNode baselines = r.section("baselines");
        baselines.putObject("ta").put("meanAccuracy", 0.61).put("lambda", 0.3);
        baselines.putObject("dare-ta").put("meanAccuracy", 0.62).put("drop", 0.7);
        ObjectNode transfer = r.section("transfer");
        transfer.put("target", "rot90");
        transfer.putObject("nps").put("targetAccuracy", 0.9).put("othersMeanAccuracy", 0.7).put("hScore", 0.7875);
        ObjectNode cross = r.section("cross");
        cross.putObject("a<b&c").put("a<b&c", 0.9).put("rot90", 0.1);
        cross.putObject("rot90").put("a<b&c", 0.2).put("rot90", 0.8);
        OutputDirectory out = OutputDirectory.prepare(tmp.resolve("merge"), java.util.List.of());
        r.wallSeconds(1.5).writeTo(out);

        assertResultJsonLastAndNoTempFile(out.path());
        List<Figure> figures = figures(out.resolve("report.html")); // parses: names with < and & are escaped
        assertEquals(3, ofKind(figures, "keep-curve").getFirst().series(), "nps, control, ties; dare has no point");
        assertEquals(3 + 1, ofKind(figures, "selection").getFirst().series(), "one line per keep, and the chosen point");
        assertEquals(2, figures.size());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("a&lt;b&amp;c"));
        assertTrue(html.contains("Classic merges on the same spec") && html.contains("<td class=\"key\">dare-ta</td>"), html);
        assertTrue(html.contains("Transfer: target, other tasks, H-score") && html.contains("<th>hScore</th>"), html);
        assertEquals(4, html.split("background:hsl\\(", -1).length - 1, "every cross cell coloured");
        assertTrue(html.contains("background:hsl(108,65%,82%);font-weight:bold"), "diagonal 0.9: green, bold");
    }

    @Test
    void aSectionOfUnexpectedShapeIsReportedNotFatal() throws Exception {
        RunResult r = new RunResult("prune", "spec.conf", "nps", 0.1, 1.0)
                .tasks(List.of(new RunResult.TaskResult("rot90", 8, 10, 0.8, 0.85)));
        ArrayNode history = r.section("search").put("space", "prune").putArray("history");
        history.addObject().put("generation", 1).put("bestAccuracy", 0.5).put("meanAccuracy", 0.4).putArray("mean").add(1.0).add(1.0);
        history.addObject().put("generation", 2).put("bestAccuracy", 0.6).put("meanAccuracy", 0.5).putArray("mean").add(1.0); // ragged
        OutputDirectory out = OutputDirectory.prepare(tmp.resolve("ragged"), java.util.List.of());
        r.writeTo(out);

        assertResultJsonLastAndNoTempFile(out.path());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<p class=\"error\">section 'searches' not drawn: "), html);
        assertTrue(figures(out.resolve("report.html")).isEmpty(), "the failed section left nothing half-written");
        assertTrue(html.contains("<td class=\"key\">rot90</td>"), "the other sections are there");
    }

    private static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asDouble();
        }
        return v;
    }
}
