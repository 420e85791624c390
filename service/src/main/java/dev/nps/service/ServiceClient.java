package dev.nps.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nps.storage.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The CLI's client of the HTTP API ({@code nps submit|status|cancel|results --server URL}). A 4xx
 * answer is bad input ({@link IllegalArgumentException}, the server's one line); anything else that
 * fails is an {@link IllegalStateException}.
 */
public final class ServiceClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final URI base;
    private final URI files;
    private final String token;
    private final HttpClient http;

    public ServiceClient(String server, String token) {
        this(server, token, null);
    }

    /** With {@code trust} (a PKCS12 trust store and its password) for an https server whose certificate the JDK does not trust. */
    public ServiceClient(String server, String token, javax.net.ssl.SSLContext trust) {
        String s = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
        if (!s.startsWith("http://") && !s.startsWith("https://")) {
            throw new IllegalArgumentException("--server must be an http:// or https:// URL, got " + server);
        }
        this.base = URI.create(s + "/v1/runs");
        this.files = URI.create(s + "/v1/files");
        this.token = token;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        this.http = (trust == null ? b : b.sslContext(trust)).build();
    }

    /** An SSL context trusting the certificates of a PKCS12 trust store. */
    public static javax.net.ssl.SSLContext trusting(Path trustStore, String password) {
        dev.nps.storage.InputFiles.requireRegularFile(trustStore, "trust store");
        try (InputStream in = Files.newInputStream(trustStore)) {
            java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalArgumentException("trust store " + trustStore + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
        }
    }

    /** Reads a token file: its one line, stripped. */
    public static String readToken(Path file) {
        dev.nps.storage.InputFiles.requireRegularFile(file, "token file");
        try {
            String t = Files.readString(file).strip();
            if (t.isEmpty() || t.contains("\n")) {
                throw new IllegalArgumentException("token file " + file + " must hold one token (as `nps tenant add` printed it)");
            }
            return t;
        } catch (IOException e) {
            throw new IllegalArgumentException("token file " + file + ": " + e.getMessage(), e);
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(60));
    }

    private <T> HttpResponse<T> send(HttpRequest r, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(r, handler);
        } catch (IOException e) {
            throw new IllegalStateException("no answer from " + r.uri() + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Sends {@code r}; a 429 with Retry-After (the tenant's request rate) is sent again after it, up to 10 times. */
    private JsonNode json(HttpRequest r) {
        HttpResponse<String> resp = send(r, HttpResponse.BodyHandlers.ofString());
        for (int retry = 0; retry < 10 && resp.statusCode() == 429 && resp.headers().firstValue("Retry-After").isPresent(); retry++) {
            try {
                Thread.sleep(1000L * Math.clamp(Long.parseLong(resp.headers().firstValue("Retry-After").get().strip()), 1, 10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (NumberFormatException e) {
                break;
            }
            resp = send(r, HttpResponse.BodyHandlers.ofString());
        }
        JsonNode body;
        try {
            body = JSON.readTree(resp.body());
        } catch (IOException e) {
            throw new IllegalStateException(r.uri() + " answered " + resp.statusCode() + " with no JSON");
        }
        fail(resp.statusCode(), body);
        return body;
    }

    private static void fail(int status, JsonNode body) {
        if (status >= 300) {
            String why = body != null && body.has("error") ? body.get("error").asText() : "HTTP " + status;
            if (status >= 400 && status < 500) {
                throw new IllegalArgumentException("server: " + why + " (" + status + ")");
            }
            throw new IllegalStateException("server: " + why + " (" + status + ")");
        }
    }

    /** Submits {@code command} with its CLI options; {@code --spec PATH} among them becomes the spec field. */
    public JsonNode submit(List<String> commandLine) {
        if (commandLine.isEmpty()) {
            throw new IllegalArgumentException("give the command line: merge --method nps --spec digits/spec.conf ...");
        }
        String spec = null;
        List<String> args = new ArrayList<>();
        for (int i = 1; i < commandLine.size(); i++) {
            String a = commandLine.get(i);
            if (a.equals("--spec") && i + 1 < commandLine.size()) {
                spec = commandLine.get(++i);
            } else if (a.startsWith("--spec=")) {
                spec = a.substring(7);
            } else {
                args.add(a);
            }
        }
        if (spec == null) {
            throw new IllegalArgumentException("--spec PATH (relative to your area on the server) is required");
        }
        ObjectNode body = JSON.createObjectNode().put("command", commandLine.getFirst()).put("spec", spec);
        args.forEach(body.putArray("args")::add);
        return json(request("").header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build());
    }

    public JsonNode run(String id) {
        return json(request("/" + enc(id)).GET().build());
    }

    /** Every run of the tenant, newest first (all pages). */
    public List<JsonNode> runs() {
        List<JsonNode> out = new ArrayList<>();
        for (int offset = 0; ; offset += 500) {
            JsonNode page = json(request("?limit=500&offset=" + offset).GET().build());
            page.get("runs").forEach(out::add);
            if (!page.has("next")) {
                return out;
            }
        }
    }

    /**
     * Follows the run's server-sent events, giving each event's run to {@code onEvent}, until the
     * run has ended (returns its last state). A dropped connection is reopened after a second, for
     * as long as {@code patience} allows in a row; an answer other than 200 is thrown.
     */
    public JsonNode watch(String id, java.util.function.Consumer<JsonNode> onEvent, Duration patience) {
        long lostSince = -1;
        while (true) {
            try {
                HttpResponse<java.util.stream.Stream<String>> r = http.send(HttpRequest.newBuilder(URI.create(base + "/" + enc(id)
                        + "/events")).header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofLines());
                if (r.statusCode() != 200) {
                    String body = r.body().reduce("", String::concat);
                    fail(r.statusCode(), body.isEmpty() ? null : JSON.readTree(body));
                }
                lostSince = -1;
                String event = null;
                for (String line : (Iterable<String>) r.body()::iterator) {
                    if (line.startsWith("event: ")) {
                        event = line.substring(7);
                    } else if (line.startsWith("data: ")) {
                        JsonNode run = JSON.readTree(line.substring(6));
                        onEvent.accept(run);
                        if ("end".equals(event)) {
                            return run;
                        }
                    }
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                // the connection dropped (the node restarting, a proxy): reconnect below
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            long now = System.nanoTime();
            lostSince = lostSince < 0 ? now : lostSince;
            if (now - lostSince > patience.toNanos()) {
                throw new IllegalStateException("lost the event stream of run " + id + " for more than " + patience.toSeconds() + " s");
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    public JsonNode cancel(String id) {
        return json(request("/" + enc(id) + "/cancel").POST(HttpRequest.BodyPublishers.noBody()).build());
    }

    /**
     * Downloads the artifacts of a finished run into {@code dir}, each written atomically after its
     * SHA-256 matched the server's; result.json last. Returns the files written.
     */
    public List<Path> download(String id, Path dir) {
        JsonNode run = run(id);
        if (!run.has("artifacts")) {
            throw new IllegalArgumentException("run " + id + " has no results (its state is " + run.get("state").asText() + ")");
        }
        List<String> names = new ArrayList<>();
        run.get("artifacts").forEach(n -> names.add(n.asText()));
        names.sort((a, b) -> Boolean.compare(a.equals("result.json"), b.equals("result.json")));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        List<Path> written = new ArrayList<>();
        for (String name : names) {
            HttpResponse<InputStream> r = send(request("/" + enc(id) + "/artifacts/" + enc(name)).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) {
                try (InputStream in = r.body()) {
                    fail(r.statusCode(), JSON.readTree(in));
                } catch (IOException e) {
                    throw new IllegalStateException("artifact " + name + ": HTTP " + r.statusCode(), e);
                }
            }
            String expected = r.headers().firstValue("X-Content-SHA256")
                    .orElseThrow(() -> new IllegalStateException("artifact " + name + " came without X-Content-SHA256"));
            Path target = dir.resolve(name).normalize();
            if (!target.startsWith(dir.normalize()) || target.equals(dir.normalize())) {
                throw new IllegalStateException("the server named an artifact outside the run's folder: " + name);
            }
            try {
                Files.createDirectories(target.getParent());
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot create " + target.getParent() + ": " + e.getMessage(), e);
            }
            AtomicFiles.write(target, ch -> {
                MessageDigest md = Tokens.digest();
                try (InputStream in = r.body()) {
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = in.read(buf)) > 0; ) {
                        md.update(buf, 0, n);
                        ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                        while (b.hasRemaining()) {
                            ch.write(b);
                        }
                    }
                }
                String got = HexFormat.of().formatHex(md.digest());
                if (!got.equals(expected)) {
                    throw new IOException("SHA-256 " + got + " differs from the server's " + expected + " (nothing written)");
                }
            });
            written.add(target);
        }
        return written;
    }

    /**
     * Uploads every regular file under {@code localDir} (hidden ones skipped) to {@code remoteDir}
     * of the tenant's area, each checked against the SHA-256 the server computed. Returns the
     * remote paths written.
     */
    public List<String> upload(Path localDir, String remoteDir) {
        if (!Files.isDirectory(localDir)) {
            throw new IllegalArgumentException("upload: " + localDir + " is not a folder");
        }
        // The server refuses these too, but an HTTP stack resolves "a/../b" before any route sees it: refused here by name.
        if (remoteDir.startsWith("/")) {
            throw new IllegalArgumentException("upload: REMOTE_DIR '" + remoteDir + "' is absolute; give it relative to your area");
        }
        if (java.util.Arrays.asList(remoteDir.split("/")).stream().anyMatch(p -> p.equals("..") || p.equals("."))) {
            throw new IllegalArgumentException("upload: REMOTE_DIR '" + remoteDir + "' leaves your area or has a '.' segment");
        }
        String prefix = remoteDir.replaceAll("/+$", "");
        List<Path> local;
        try (var walk = Files.walk(localDir)) {
            local = walk.filter(Files::isRegularFile).filter(f -> {
                for (Path part : localDir.relativize(f)) {
                    if (part.toString().startsWith(".")) {
                        return false;
                    }
                }
                return true;
            }).sorted().toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new IllegalArgumentException("upload: cannot list " + localDir + ": " + e.getMessage(), e);
        }
        List<String> written = new ArrayList<>();
        for (Path f : local) {
            String rel = localDir.relativize(f).toString().replace('\\', '/');
            String remote = prefix.isEmpty() ? rel : prefix + "/" + rel;
            StringBuilder path = new StringBuilder();
            for (String seg : remote.split("/", -1)) {
                path.append('/').append(enc(seg));
            }
            HttpRequest r;
            try {
                r = HttpRequest.newBuilder(URI.create(files + path.toString())).header("Authorization", "Bearer " + token)
                        .header("Content-Type", "application/octet-stream").timeout(Duration.ofHours(1))
                        .PUT(HttpRequest.BodyPublishers.ofFile(f)).build();
            } catch (java.io.FileNotFoundException e) {
                throw new IllegalArgumentException("upload: " + f + " is gone", e);
            }
            JsonNode answer = json(r);
            String expected = dev.nps.storage.Sha256.ofFile(f, "file");
            if (!expected.equals(answer.path("sha256").asText())) {
                throw new IllegalStateException("upload of " + f + ": the server stored SHA-256 " + answer.path("sha256").asText()
                        + ", the file has " + expected);
            }
            written.add(remote);
        }
        return written;
    }

    /** The tenant's files (not its runs' outputs): {"files": [{"path", "bytes"}], "bytes", "maxBytes"}. */
    public JsonNode files() {
        return json(HttpRequest.newBuilder(files).header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60)).GET()
                .build());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
