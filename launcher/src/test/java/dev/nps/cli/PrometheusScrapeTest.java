package dev.nps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's, with promtool) scrapes a three-node cluster on loopback ({@code nps
 * serve} child JVMs, the service and the H2 journal on the first) while a tenant's search runs:
 * promtool accepts every node's scrape, the run's, slots', scheduler's, journal's, HTTP and JVM series
 * exist with their labels, every PromQL expression of the Grafana dashboard returns a series, and
 * the run's series are gone once it ends. With CI=true a missing prometheus fails the test.
 */
@Tag("slow")
class PrometheusScrapeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path REPO = Path.of(System.getProperty("nps.repo.root", "..")).toAbsolutePath().normalize();
    private static final Path DASHBOARD = REPO.resolve("k8s/monitoring/nps-dashboard.json");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path tmp;

    private static Optional<Path> onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static Path requireTool(String tool) {
        Optional<Path> p = onPath(tool);
        if (p.isEmpty()) {
            String why = tool + " is not installed (Debian: apt-get install prometheus; .ci/run does it)";
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true: " + why);
            }
            Assumptions.abort(why);
        }
        return p.get();
    }

    private HttpResponse<String> send(String method, String url, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token);
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String get(String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return r.body();
    }

    /** The result vector of an instant query; fails on a query Prometheus refuses. */
    private JsonNode query(int promPort, String promql) throws Exception {
        JsonNode r = JSON.readTree(get("http://127.0.0.1:" + promPort + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
        assertEquals("success", r.get("status").asText(), promql + ": " + r);
        return r.get("data").get("result");
    }

    private JsonNode awaitQuery(int promPort, String promql, Predicate<JsonNode> ok, Duration timeout, String what) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < end) {
            last = query(promPort, promql);
            if (ok.test(last)) {
                return last;
            }
            Thread.sleep(500);
        }
        throw new AssertionError(what + ": " + promql + " gave " + last);
    }

    private static String submission(int generations) {
        return "{\"command\": \"merge\", \"spec\": \"digits/spec.conf\", \"args\": [\"--method\", \"nps\", \"--keep\", \"0.1\","
                + " \"--generations\", \"" + generations + "\", \"--subspaces\", \"4\", \"--no-baselines\", \"--seed\", \"7\"]}";
    }

    @Test
    void aRealPrometheusScrapesEveryNodeAndEveryDashboardQueryFindsItsSeries() throws Exception {
        Path prometheus = requireTool("prometheus");
        Path promtool = requireTool("promtool");
        assertTrue(Files.isRegularFile(DASHBOARD), "the Grafana dashboard " + DASHBOARD + " is missing");

        Path root = tmp.resolve("root");
        Path journal = tmp.resolve("journal");
        Path conf = tmp.resolve("admin.conf");
        Files.writeString(conf, "nps.node { storage-root = \"%s\", journal { folder = \"%s\" } }".formatted(root, journal));
        String alice = CliFixture.stdout("tenant", "add", "alice", "--config", conf.toString(), "--max-runs", "2");
        CliFixture.copyDigits(root.resolve("tenants/alice/digits"));

        int[] ports = {ServeChild.freePort(), ServeChild.freePort(), ServeChild.freePort()};
        int[] mgmt = {ServeChild.freePort(), ServeChild.freePort(), ServeChild.freePort()};
        int httpPort = ServeChild.freePort();
        int promPort = ServeChild.freePort();
        List<String> nodes = java.util.Arrays.stream(ports).mapToObj(p -> "127.0.0.1:" + p).toList();
        List<ServeChild> children = new ArrayList<>();
        Process prom = null;
        try {
            children.add(ServeChild.start(tmp, "node0", ports[0], ports[0], root, ("journal { folder = \"%s\" }\n service { host = \"127.0.0.1\","
                    + " port = %d }\n management { port = %d }").formatted(journal, httpPort, mgmt[0])));
            children.getFirst().awaitUp(); // the oldest: the slot scheduler and the shard coordinators live here
            for (int i = 1; i < 3; i++) {
                children.add(ServeChild.start(tmp, "node" + i, ports[i], ports[0], root, "management { port = %d }".formatted(mgmt[i])));
            }
            for (ServeChild c : children) {
                c.awaitUp();
            }
            for (int i = 0; i < 3; i++) {
                assertTrue(children.get(i).logContains("node " + nodes.get(i) + " metrics at http://127.0.0.1:" + mgmt[i] + "/metrics"),
                        children.get(i).logTail());
            }
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!children.getFirst().logContains("HTTP service at") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }

            Path promDir = Files.createDirectories(tmp.resolve("prometheus"));
            Path promConf = promDir.resolve("prometheus.yml");
            Files.writeString(promConf, """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    scrape_configs:
                      - job_name: nps
                        metrics_path: /metrics
                        static_configs:
                          - targets: [%s]
                    """.formatted(java.util.Arrays.stream(mgmt).mapToObj(p -> "\"127.0.0.1:" + p + "\"").collect(Collectors.joining(", "))));
            prom = new ProcessBuilder(prometheus.toString(), "--config.file=" + promConf, "--storage.tsdb.path=" + promDir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + promPort, "--log.level=warn")
                    .redirectErrorStream(true).redirectOutput(promDir.resolve("prometheus.log").toFile()).start();

            String base = "http://127.0.0.1:" + httpPort + "/v1/runs";
            HttpResponse<String> created = send("POST", base, alice, submission(3000));
            assertEquals(201, created.statusCode(), created.body());
            String run = JSON.readTree(created.body()).get("id").asText();
            // The run is observed: its generation climbs in Prometheus.
            awaitQuery(promPort, "nps_run_generation{run=\"" + run + "\"}", r -> r.size() == 1 && r.get(0).get("value").get(1).asDouble() >= 2,
                    Duration.ofSeconds(90), "run " + run + " never reached generation 2 in Prometheus\n" + children.getFirst().logTail());
            // A second run, cancelled (the annotations' "started" and "cancelled" rise after Prometheus saw the first), and a
            // third one that the quota refuses.
            HttpResponse<String> second = send("POST", base, alice, submission(3000));
            assertEquals(201, second.statusCode(), second.body());
            String other = JSON.readTree(second.body()).get("id").asText();
            HttpResponse<String> refused = send("POST", base, alice, submission(4));
            assertEquals(429, refused.statusCode(), refused.body());
            assertEquals(404, send("GET", base + "/nothing-here/at/all", alice, null).statusCode());
            assertEquals(200, send("GET", base + "/" + run, alice, null).statusCode());
            awaitQuery(promPort, "nps_run_events_total{event=\"started\", tenant=\"alice\"}", r -> r.size() == 1
                    && r.get(0).get("value").get(1).asDouble() == 2, Duration.ofSeconds(60), "the second run's start");
            assertEquals(202, send("POST", base + "/" + other + "/cancel", alice, null).statusCode());
            awaitQuery(promPort, "nps_run_events_total{event=\"cancelled\", tenant=\"alice\"}", r -> r.size() == 1
                    && r.get(0).get("value").get(1).asDouble() == 1, Duration.ofSeconds(60), "the cancelled run's event");
            Thread.sleep(2000); // two more scrapes: rate() and increase() see the last values twice

            // (c) every query of the dashboard, its variables filled in, finds a series
            String nodeRegex = nodes.stream().map(n -> n.replace(".", "\\\\.")).collect(Collectors.joining("|"));
            List<String> empty = new ArrayList<>();
            List<String> exprs = dashboardExprs(JSON.readTree(DASHBOARD.toFile()));
            assertTrue(exprs.size() >= 10, "dashboard queries: " + exprs);
            for (String expr : exprs) {
                String q = expr.replace("$tenant", "alice").replace("${tenant}", "alice").replace("$run", run).replace("${run}", run)
                        .replace("${node}", nodeRegex).replace("$node", nodeRegex).replace("$__rate_interval", "1m")
                        .replace("$__interval", "15s").replace("$__range", "5m");
                JsonNode r = query(promPort, q);
                // A resume needs a node to die and come back with the run; the query is checked valid above, not run here.
                if (r.isEmpty() && !expr.contains("event=\"resumed\"")) {
                    empty.add(q);
                }
            }
            assertTrue(empty.isEmpty(), "dashboard queries without a series:\n" + String.join("\n", empty));
            // The recording rules beside the dashboard, evaluated as queries over the same data.
            java.util.regex.Matcher rule = java.util.regex.Pattern.compile("- record: (\\S+)\\s+expr: (.+)")
                    .matcher(Files.readString(DASHBOARD.resolveSibling("nps-rules.yaml")));
            int rules = 0;
            while (rule.find()) {
                rules++;
                assertTrue(query(promPort, rule.group(2).strip()).size() > 0, "recording rule " + rule.group(1) + " gives no series");
            }
            assertTrue(rules >= 1, "recording rules in nps-rules.yaml");

            // (a) promtool accepts each node's scrape output
            for (int i = 0; i < 3; i++) {
                String text = get("http://127.0.0.1:" + mgmt[i] + "/metrics");
                Process check = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
                try (var in = check.getOutputStream()) {
                    in.write(text.getBytes(StandardCharsets.UTF_8));
                }
                String said = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(check.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, check.exitValue(), "promtool check metrics on node " + nodes.get(i) + ": " + said);
            }

            // (b) the series, with their labels, while the run is active
            assertEquals(3, query(promPort, "up{job=\"nps\"} == 1").size(), "Prometheus scrapes all three nodes");
            String n0 = nodes.getFirst();
            String runLabels = "run=\"" + run + "\", tenant=\"alice\", kind=\"merge\", node=\"" + n0 + "\"";
            for (String name : List.of("nps_run_generation", "nps_run_progress", "nps_run_searches_done", "nps_run_searches",
                    "nps_run_fitness_best", "nps_run_fitness_mean", "nps_run_sigma", "nps_run_candidates_total")) {
                assertEquals(1, query(promPort, name + "{" + runLabels + "}").size(), name);
            }
            assertEquals(3, query(promPort, "nps_run_batches_total{" + runLabels + "}").size(), "scored, cached, aborted");
            assertTrue(query(promPort, "nps_run_candidates_total{" + runLabels + "}").get(0).get("value").get(1).asDouble() > 0);
            assertEquals(1, query(promPort, "nps_runs_active{tenant=\"alice\", kind=\"merge\"}").get(0).get("value").get(1).asInt());
            for (String node : nodes) { // every node's two slots, and the node's slots served the run
                assertEquals(2, query(promPort, "nps_slot_batch_latency_seconds_count{node=\"" + node + "\"}").size(), node);
                JsonNode scored = query(promPort, "sum(nps_slot_batch_latency_seconds_count{node=\"" + node + "\"})");
                assertTrue(scored.get(0).get("value").get(1).asDouble() > 0, "batches scored on " + node + ": " + scored);
                assertTrue(query(promPort, "jvm_memory_used_bytes{node=\"" + node + "\", area=\"heap\"} > 0").size() > 0, "JVM meters");
                assertEquals(3, query(promPort, "nps_cluster_members{node=\"" + node + "\", status=\"up\"}").get(0).get("value").get(1).asInt());
            }
            assertTrue(query(promPort, "nps_slot_busy_seconds_total{slot=\"cpu0\"}").size() == 3);
            assertEquals(1, query(promPort, "nps_scheduler_slots{tenant=\"alice\", node=\"" + n0 + "\"}").size(), "the scheduler on the oldest node");
            assertEquals(1, query(promPort, "nps_scheduler_queue_depth").size());
            assertTrue(query(promPort, "nps_journal_persist_seconds_count{node=\"" + n0 + "\"}").get(0).get("value").get(1).asDouble() > 0);
            assertEquals(1, query(promPort, "nps_quota_refusals_total{tenant=\"alice\", quota=\"runs\"}").size());
            assertEquals(1, query(promPort, "http_server_requests_seconds_count{method=\"POST\", uri=\"/v1/runs\", status=\"201\","
                    + " outcome=\"SUCCESS\", tenant=\"alice\"}").size());
            assertEquals(1, query(promPort, "http_server_requests_seconds_count{uri=\"/v1/runs/{id}\", method=\"GET\"}").size());
            assertEquals(1, query(promPort, "http_server_requests_seconds_count{uri=\"NOT_FOUND\", status=\"404\"}").size(), "bounded uris");
            assertTrue(query(promPort, "count(http_server_requests_seconds_count{uri=~\".*" + run + ".*\"})").isEmpty(), "no run id in a uri");

            plot(promPort, run);

            // (d) the run's meters go when it ends
            assertEquals(202, send("POST", base + "/" + run + "/cancel", alice, null).statusCode());
            deadline = System.nanoTime() + 60_000_000_000L;
            String text = "";
            while (System.nanoTime() < deadline) {
                text = get("http://127.0.0.1:" + mgmt[0] + "/metrics");
                if (!text.contains("run=\"" + run + "\"")) {
                    break;
                }
                Thread.sleep(250);
            }
            assertTrue(!text.contains("run=\"" + run + "\""), "run meters still scraped after the run ended");
            assertTrue(text.contains("nps_run_events_total{event=\"cancelled\",kind=\"merge\",node=\"" + n0 + "\",tenant=\"alice\"} 2.0"),
                    "lifecycle events stay: " + text.lines().filter(l -> l.startsWith("nps_run_events")).toList());
            awaitQuery(promPort, "nps_run_generation{run=\"" + run + "\"}", JsonNode::isEmpty, Duration.ofSeconds(30),
                    "Prometheus still has the ended run's series");
            awaitQuery(promPort, "nps_runs_active{tenant=\"alice\"}", r -> r.size() == 1 && r.get(0).get("value").get(1).asInt() == 0,
                    Duration.ofSeconds(30), "no active run left");
        } finally {
            if (prom != null) {
                prom.destroy();
                if (!prom.waitFor(10, TimeUnit.SECONDS)) {
                    prom.destroyForcibly();
                }
            }
            for (ServeChild c : children) {
                c.close();
            }
        }
    }

    /** Every PromQL expression of a Grafana dashboard: panel targets (rows' nested panels too) and annotation targets. */
    static List<String> dashboardExprs(JsonNode dashboard) {
        List<String> out = new ArrayList<>();
        panels(dashboard.path("panels"), out);
        for (JsonNode a : dashboard.path("annotations").path("list")) {
            if (a.hasNonNull("expr")) {
                out.add(a.get("expr").asText());
            }
            if (a.path("target").hasNonNull("expr")) {
                out.add(a.get("target").get("expr").asText());
            }
        }
        return out;
    }

    private static void panels(JsonNode panels, List<String> out) {
        for (JsonNode p : panels) {
            for (JsonNode t : p.path("targets")) {
                if (t.hasNonNull("expr") && !t.get("expr").asText().isBlank()) {
                    out.add(t.get("expr").asText());
                }
            }
            panels(p.path("panels"), out);
        }
    }

    /** target/prometheus-run.png: the run's best and mean fitness and its progress, from a Prometheus range query. */
    private void plot(int promPort, String run) throws Exception {
        long now = System.currentTimeMillis() / 1000;
        var chart = new org.knowm.xchart.XYChartBuilder().width(900).height(450).title("run " + run + " (Prometheus range query)")
                .xAxisTitle("seconds").yAxisTitle("value").build();
        for (String name : List.of("nps_run_fitness_best", "nps_run_fitness_mean", "nps_run_progress")) {
            JsonNode r = JSON.readTree(get("http://127.0.0.1:" + promPort + "/api/v1/query_range?query="
                    + URLEncoder.encode(name + "{run=\"" + run + "\"}", StandardCharsets.UTF_8) + "&start=" + (now - 300) + "&end=" + now + "&step=1"));
            JsonNode result = r.get("data").get("result");
            assertEquals(1, result.size(), name + " over time: " + r);
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            JsonNode values = result.get(0).get("values");
            double t0 = values.get(0).get(0).asDouble();
            for (JsonNode v : values) {
                if (!v.get(1).asText().equals("NaN")) {
                    x.add(v.get(0).asDouble() - t0);
                    y.add(v.get(1).asDouble());
                }
            }
            if (!x.isEmpty()) {
                chart.addSeries(name, x, y);
            }
        }
        Path png = Path.of("target", "prometheus-run.png");
        Files.createDirectories(png.getParent());
        org.knowm.xchart.BitmapEncoder.saveBitmap(chart, png.toString(), org.knowm.xchart.BitmapEncoder.BitmapFormat.PNG);
        assertTrue(Files.size(png) > 1000, "plot written");
    }
}
