package dev.nps.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.nps.cluster.ClusterNode;
import dev.nps.cluster.NodeSettings;
import dev.nps.run.JournalStore;
import dev.nps.service.HttpService;
import dev.nps.service.ServiceApi;
import dev.nps.service.ServiceSettings;
import dev.nps.service.TenantStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * By hand (BENCHMARKS.md, "Service"): does a flood of status requests from one tenant slow another
 * tenant's run? Tenant "bob" runs a real digits merge (one CPU slot) and polls its status every
 * 50 ms; the wall time of the run and the latency of its status requests are measured alone (after a
 * warm-up run), then
 * while tenant "flood" offers 10,000 status requests a second (GET /v1/runs, 32 connections) under
 * the default tenant-requests-per-second of 100 (or the third argument; 0: no limit), then alone again, twice. The flood's client is a raw
 * keep-alive socket writer, cheap beside the server's work. In-JVM node, H2 journal,
 * loopback HTTP; the load generator shares the machine.
 *
 * <pre>{@code
 * java -cp <launcher test classpath> -Dnps.repo.root=. dev.nps.cli.ServiceFloodBenchmark /tmp/nps-flood-bench [generations [requests-per-second]]
 * }</pre>
 */
public final class ServiceFloodBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ServiceFloodBenchmark() {
    }

    record Phase(double runSeconds, double p50, double p99, int polls) {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/nps-flood-bench");
        String generations = args.length > 1 ? args[1] : "20";
        double rate = args.length > 2 ? Double.parseDouble(args[2]) : ServiceSettings.Limits.DEFAULT.tenantRequestsPerSecond();
        Files.createDirectories(dir);
        Path root = dir.resolve("root-" + System.nanoTime());
        int port = ServeChild.freePort();
        int httpPort = ServeChild.freePort();
        NodeSettings settings = NodeSettings.fromConfig(ConfigFactory.parseString("""
                nps.node { host = "127.0.0.1", port = %d, seeds = ["127.0.0.1:%d"], roles = [coordinator, evaluator],
                           storage-root = "%s", gpus = [], cpu-slots = 1, stable-after = 2s }
                """.formatted(port, port, root)), dir);
        JournalStore journal = JournalStore.h2(dir.resolve("journal-" + System.nanoTime()));
        ClusterNode node = ClusterNode.start(settings, ConfigFactory.parseString("pekko.loglevel = WARNING"), Optional.of(journal),
                ServedCommands::execute);
        node.awaitUp(Duration.ofSeconds(60));
        String bob;
        String flood;
        try (TenantStore store = TenantStore.open(journal)) {
            bob = store.add(new TenantStore.Tenant("bob", 1, 0, 0, 0, 0, false, 0));
            flood = store.add(new TenantStore.Tenant("flood", 1, 0, 0, 0, 0, false, 0));
        }
        CliFixture.copyDigits(ServiceApi.area(root, "bob").resolve("digits"));
        ServiceSettings.Limits d = ServiceSettings.Limits.DEFAULT;
        HttpService.start(node, journal, new ServiceSettings("127.0.0.1", httpPort, 65536, Optional.empty(), new ServiceSettings.Limits(
                d.maxUploadBytes(), rate, d.idleTimeout(), d.requestTimeout(), d.maxConnections())), ServedCommands::problem);
        String base = "http://127.0.0.1:" + httpPort + "/v1/runs";
        HttpClient http = HttpClient.newHttpClient();
        String body = JSON.createObjectNode().put("command", "merge").put("spec", "digits/spec.conf").set("args", JSON.valueToTree(
                List.of("--method", "nps", "--keep", "0.1", "--generations", generations, "--subspaces", "4", "--no-baselines",
                        "--no-control", "--seed", "3"))).toString();

        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 2; i++) { // JIT, ONNX sessions: the first runs are slower
            lines.add(report("warm-up", run(http, base, bob, body), null));
        }
        for (int round = 0; round < 2; round++) {
            lines.add(report("alone", run(http, base, bob, body), null));
            lines.add(flooded(http, base, bob, flood, body));
        }
        lines.add(report("alone", run(http, base, bob, body), null));
        lines.forEach(System.out::println);
        node.close();
        System.exit(0);
    }

    /** Bob's run while tenant "flood" offers 10,000 GET /v1/runs a second over 32 connections. */
    private static String flooded(HttpClient http, String base, String bob, String flood, String body) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ok = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong other = new AtomicLong();
        List<Thread> senders = new ArrayList<>();
        List<java.net.Socket> sockets = new ArrayList<>();
        int connections = 32;
        long periodNanos = 1_000_000_000L * connections / 10_000; // 10,000 a second offered in all
        URI u = URI.create(base);
        // A raw keep-alive client (requests written on a clock, answers read on their own thread), so
        // that the machine's CPU goes to the server's side of the flood rather than to a client library.
        byte[] request = ("GET /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + flood + "\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i < connections; i++) {
            java.net.Socket socket = new java.net.Socket(u.getHost(), u.getPort());
            socket.setTcpNoDelay(true);
            sockets.add(socket);
            senders.add(Thread.ofVirtual().start(() -> {
                try {
                    var out = socket.getOutputStream();
                    long next = System.nanoTime();
                    while (!stop.get()) {
                        out.write(request);
                        out.flush();
                        next += periodNanos;
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            java.util.concurrent.locks.LockSupport.parkNanos(wait);
                        }
                    }
                } catch (java.io.IOException e) {
                    other.incrementAndGet();
                }
            }));
            senders.add(Thread.ofVirtual().start(() -> {
                try {
                    var in = new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16);
                    while (true) {
                        String status = line(in);
                        if (status == null) {
                            return;
                        }
                        long length = 0;
                        for (String h; !(h = line(in)).isEmpty(); ) {
                            if (h.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                                length = Long.parseLong(h.substring(15).strip());
                            }
                        }
                        in.skipNBytes(length);
                        int code = Integer.parseInt(status.substring(9, 12));
                        (code == 200 ? ok : code == 429 ? refused : other).incrementAndGet();
                    }
                } catch (java.io.IOException | RuntimeException e) {
                    if (!stop.get()) {
                        other.incrementAndGet();
                    }
                }
            }));
        }
        Thread.sleep(2000); // the flood under way
        long t0 = System.nanoTime();
        long sent0 = ok.get() + refused.get() + other.get();
        long ok0 = ok.get();
        long refused0 = refused.get();
        Phase p = run(http, base, bob, body);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long sent = ok.get() + refused.get() + other.get() - sent0;
        long okDuring = ok.get() - ok0;
        long refusedDuring = refused.get() - refused0;
        stop.set(true);
        for (java.net.Socket socket : sockets) {
            socket.close();
        }
        for (Thread t : senders) {
            t.join();
        }
        return report("flooded", p, String.format(Locale.ROOT, "flood: %.0f requests/s achieved (10,000 offered), %.0f/s answered 200,"
                + " %.0f/s 429, %d other", sent / seconds, okDuring / seconds, refusedDuring / seconds, other.get()));
    }

    /** One line of an HTTP head without its CRLF; null at the end of the stream. */
    private static String line(java.io.InputStream in) throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') {
                return b.toString();
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.isEmpty() ? null : b.toString();
    }

    private static String report(String name, Phase p, String extra) {
        return String.format(Locale.ROOT, "%-12s bob's run %.1f s; its status p50 %.2f ms, p99 %.2f ms (%d polls)%s", name,
                p.runSeconds(), p.p50(), p.p99(), p.polls(), extra == null ? "" : "; " + extra);
    }

    /** Bob submits the merge and polls its status every 50 ms until it ends. */
    private static Phase run(HttpClient http, String base, String token, String body) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(base)).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (created.statusCode() != 201) {
            throw new IllegalStateException(created.statusCode() + " " + created.body());
        }
        String id = JSON.readTree(created.body()).get("id").asText();
        List<Long> micros = new ArrayList<>();
        while (true) {
            long s = System.nanoTime();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/" + id)).header("Authorization", "Bearer "
                    + token).build(), HttpResponse.BodyHandlers.ofString());
            micros.add((System.nanoTime() - s) / 1000);
            if (r.statusCode() != 200) {
                throw new IllegalStateException(r.statusCode() + " " + r.body());
            }
            JsonNode run = JSON.readTree(r.body());
            if (!run.get("state").asText().equals("running")) {
                if (!run.get("state").asText().equals("succeeded")) {
                    throw new IllegalStateException("bob's run " + run);
                }
                break;
            }
            Thread.sleep(50);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Collections.sort(micros);
        return new Phase(seconds, micros.get(micros.size() / 2) / 1000.0, micros.get(micros.size() * 99 / 100) / 1000.0, micros.size());
    }
}
