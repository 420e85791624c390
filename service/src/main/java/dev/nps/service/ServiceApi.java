package dev.nps.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nps.protocol.RunControl;
import dev.nps.protocol.RunReport;
import dev.nps.protocol.RunRequest;
import dev.nps.protocol.RunStatus;
import dev.nps.service.TenantStore.RunRow;
import dev.nps.service.TenantStore.Tenant;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.FileIO;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The HTTP API, {@code /v1} (docs/api.md, docs/openapi.json). Every request carries a bearer token
 * that names its tenant; every run is looked up within that tenant, so another tenant's run is
 * not found (404), exactly like one that does not exist. Handlers run on virtual threads: they
 * block on JDBC and on asking the run's coordinator, never on Pekko's dispatcher.
 */
public final class ServiceApi extends AllDirectives {
    /** Asks a run's coordinator (production: {@code ServedRuns.ask} on the node's actor system). */
    @FunctionalInterface
    public interface Runs {
        CompletionStage<RunReport> control(String run, RunControl.Builder control);
    }

    /** Checks a run's command line as the CLI would parse it: empty if fine, else one line naming the problem. */
    @FunctionalInterface
    public interface CommandCheck {
        Optional<String> problem(List<String> commandLine);
    }

    /** Every route served, as "METHOD path": the OpenAPI file lists exactly these (ApiDocsTest). */
    public static final List<String> ENDPOINTS = List.of("POST /v1/runs", "GET /v1/runs", "GET /v1/runs/{id}",
            "POST /v1/runs/{id}/cancel", "GET /v1/runs/{id}/result", "GET /v1/runs/{id}/report",
            "GET /v1/runs/{id}/artifacts/{name}", "GET /v1/runs/{id}/events", "GET /v1/files", "PUT /v1/files/{path}",
            "DELETE /v1/files/{path}");

    static final Set<String> COMMANDS = Set.of("merge", "prune", "transfer", "compress");
    private static final Set<String> STATES = Set.of("running", "succeeded", "cancelled", "failed");
    private static final Set<String> RESERVED = Set.of("--spec", "--out", "--cluster", "--node-config");
    private static final Duration ASK = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    private static final java.util.regex.Pattern ARTIFACT = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /** The body of {@code POST /v1/runs}. */
    record Submission(String command, String spec, List<String> args) {
    }

    /** An answer other than 2xx: its status and the one line that says why. */
    static final class ApiException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final StatusCode status;
        /** Seconds after which the same request may pass (Retry-After), or 0. */
        final int retryAfter;

        ApiException(StatusCode status, String message) {
            this(status, message, 0);
        }

        ApiException(StatusCode status, String message, int retryAfter) {
            super(message, null, false, false);
            this.status = status;
            this.retryAfter = retryAfter;
        }
    }

    private final Path root;
    private final TenantStore store;
    private final Runs runs;
    private final CommandCheck check;
    private final long maxBodyBytes;
    private final ServiceSettings.Limits limits;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final Materializer materializer;
    private final ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, ReentrantLock> submitLocks = new ConcurrentHashMap<>();

    public ServiceApi(Path storageRoot, TenantStore store, Runs runs, CommandCheck check, long maxBodyBytes, Materializer materializer) {
        this(storageRoot, store, runs, check, maxBodyBytes, ServiceSettings.Limits.DEFAULT, materializer);
    }

    public ServiceApi(Path storageRoot, TenantStore store, Runs runs, CommandCheck check, long maxBodyBytes,
            ServiceSettings.Limits limits, Materializer materializer) {
        this.limits = limits;
        this.root = storageRoot.toAbsolutePath().normalize();
        this.store = store;
        this.runs = runs;
        this.check = check;
        this.maxBodyBytes = maxBodyBytes;
        this.materializer = materializer;
    }

    /** A tenant's storage area: its specs and, under runs/ID, its runs' outputs. */
    public static Path area(Path storageRoot, String tenant) {
        return storageRoot.resolve("tenants").resolve(tenant);
    }

    public Route route() {
        return pathPrefix("v1", () -> optionalHeaderValueByName("Authorization", auth -> concat(
                pathPrefix("files", () -> filesRoute(auth)), pathPrefix("runs", () -> runsRoute(auth)))));
    }

    private Route filesRoute(Optional<String> auth) {
        return concat(
                pathEnd(() -> get(() -> answer(() -> files(tenant(auth))))),
                // An upload may take longer than request-timeout; a stalled one is cut by idle-timeout.
                path(PathMatchers.remaining(), rel -> concat(
                        put(() -> withoutRequestTimeout(() -> extractRequestEntity(e -> answer(() -> upload(tenant(auth), decoded(rel), e))))),
                        delete(() -> answer(() -> deleteFile(tenant(auth), decoded(rel)))))));
    }

    private Route runsRoute(Optional<String> auth) {
        return concat(
                pathEnd(() -> concat(
                        post(() -> extractRequestEntity(entity -> answer(() -> submit(tenant(auth), entity)))),
                        get(() -> parameterMap(query -> answer(() -> list(tenant(auth), query)))))),
                pathPrefix(PathMatchers.segment(), id -> concat(
                        pathEnd(() -> get(() -> answer(() -> show(tenant(auth), id)))),
                        path("cancel", () -> post(() -> answer(() -> cancel(tenant(auth), id)))),
                        path("result", () -> get(() -> answer(() -> file(tenant(auth), id, "result.json", ContentTypes.APPLICATION_JSON)))),
                        path("report", () -> get(() -> answer(() -> file(tenant(auth), id, "report.html", ContentTypes.TEXT_HTML_UTF8)))),
                        path("events", () -> get(() -> answer(() -> events(tenant(auth), id)))),
                        pathPrefix("artifacts", () -> path(PathMatchers.remaining(),
                                name -> get(() -> answer(() -> artifact(tenant(auth), id, decoded(name)))))))));
    }

    /** The rest of the path with its %-escapes decoded ("..%2Fx" is "../x", refused as such). */
    private static String decoded(String remaining) {
        try {
            return java.net.URLDecoder.decode(remaining.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return remaining; // a broken escape: refused by the name rules
        }
    }

    /** Runs the handler on a virtual thread; an {@link ApiException} becomes its status with {"error": "..."}. */
    private Route answer(Supplier<HttpResponse> handler) {
        return completeWithFuture(CompletableFuture.supplyAsync(() -> {
            try {
                return handler.get();
            } catch (ApiException e) {
                if (e.retryAfter > 0) {
                    holdBeforeRefusal(e.retryAfter);
                }
                HttpResponse r = error(e.status, e.getMessage());
                r = e.retryAfter > 0 ? r.addHeader(RawHeader.create("Retry-After", String.valueOf(e.retryAfter))) : r;
                return e.status == StatusCodes.UNAUTHORIZED ? r.addHeader(RawHeader.create("WWW-Authenticate", "Bearer")) : r;
            } catch (RuntimeException e) {
                return error(StatusCodes.INTERNAL_SERVER_ERROR, String.valueOf(e.getMessage()));
            }
        }, handlers));
    }

    /**
     * A request over its tenant's rate is answered only after its Retry-After (on its own virtual
     * thread, which costs no worker). A connection answers one request at a time, so a flooding
     * client gets one refusal a second per connection instead of one per request: the server stops
     * reading what it would only refuse, and the flood no longer takes the cores the other
     * tenants' runs score on (BENCHMARKS.md, "A flood of status requests").
     */
    private static void holdBeforeRefusal(int seconds) {
        try {
            Thread.sleep(Duration.ofSeconds(seconds));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static HttpResponse error(StatusCode status, String message) {
        ObjectNode o = JSON.createObjectNode().put("error", message);
        return json(status, o);
    }

    static HttpResponse json(StatusCode status, JsonNode body) {
        return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
    }

    private static ApiException bad(String message) {
        return new ApiException(StatusCodes.BAD_REQUEST, message);
    }

    private static ApiException notFound(String message) {
        return new ApiException(StatusCodes.NOT_FOUND, message);
    }

    private static ApiException quota(String message) {
        return new ApiException(StatusCodes.TOO_MANY_REQUESTS, message);
    }

    private Tenant tenant(Optional<String> authorization) {
        if (authorization.isEmpty()) {
            throw new ApiException(StatusCodes.UNAUTHORIZED, "no token: send Authorization: Bearer TOKEN");
        }
        String h = authorization.get().strip();
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7) || h.substring(7).isBlank()) {
            throw new ApiException(StatusCodes.UNAUTHORIZED, "the Authorization header must be Bearer TOKEN");
        }
        String token = h.substring(7).strip();
        String sha = Tokens.sha256(token);
        long now = System.nanoTime();
        Known k = known.get(sha);
        Tenant t;
        if (k != null && now - k.sinceNanos() < KNOWN_FOR.toNanos()) {
            t = k.tenant();
        } else {
            t = store.byToken(token).orElseThrow(() -> new ApiException(StatusCodes.UNAUTHORIZED, "unknown token"));
            if (t.revoked()) {
                known.remove(sha);
                throw new ApiException(StatusCodes.UNAUTHORIZED, "token revoked");
            }
            known.put(sha, new Known(t, now));
        }
        admit(t.name());
        return t;
    }

    /** A valid token's tenant as the journal had it: a flood of requests costs no query each, and a revocation holds within a second. */
    private record Known(Tenant tenant, long sinceNanos) {
    }

    private static final Duration KNOWN_FOR = Duration.ofSeconds(1);
    private final Map<String, Known> known = new ConcurrentHashMap<>();

    /** A token bucket per tenant: tenant-requests-per-second, with a second's worth of burst. */
    private static final class Bucket {
        double tokens;
        long lastNanos;
    }

    /** Refuses (429) a tenant's request over tenant-requests-per-second; cheap, so a flood is turned away before it costs. */
    private void admit(String tenant) {
        double rate = limits.tenantRequestsPerSecond();
        if (rate <= 0) {
            return;
        }
        Bucket b = buckets.computeIfAbsent(tenant, n -> {
            Bucket f = new Bucket();
            f.tokens = Math.max(1, rate);
            f.lastNanos = System.nanoTime();
            return f;
        });
        synchronized (b) {
            long now = System.nanoTime();
            b.tokens = Math.min(Math.max(1, rate), b.tokens + (now - b.lastNanos) * rate / 1e9);
            b.lastNanos = now;
            if (b.tokens < 1) {
                throw new ApiException(StatusCodes.TOO_MANY_REQUESTS, "limit tenant-requests-per-second exceeded: at most " + fmt(rate)
                        + " requests a second per tenant", 1);
            }
            b.tokens -= 1;
        }
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    // ------------------------------------------------------------------ POST /v1/runs

    private HttpResponse submit(Tenant t, RequestEntity entity) {
        if (entity.getContentLengthOption().isPresent() && entity.getContentLengthOption().getAsLong() > maxBodyBytes) {
            throw tooLarge(entity.getContentLengthOption().getAsLong());
        }
        String body;
        try {
            body = entity.withSizeLimit(maxBodyBytes).toStrict(10_000, materializer).toCompletableFuture()
                    .get(15, TimeUnit.SECONDS).getData().utf8String();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof EntityStreamSizeException s) {
                throw tooLarge(s.actualSize().isDefined() ? (Long) s.actualSize().get() : -1);
            }
            throw bad("could not read the request body: " + e.getCause().getMessage());
        } catch (InterruptedException | TimeoutException e) {
            throw bad("the request body did not arrive within 15 s");
        }
        Submission s = parse(body);
        if (s.command() == null || !COMMANDS.contains(s.command())) {
            throw bad("field 'command' must be one of " + new java.util.TreeSet<>(COMMANDS) + ", got "
                    + (s.command() == null ? "nothing" : "'" + s.command() + "'"));
        }
        List<String> args = s.args() == null ? List.of() : s.args();
        if (args.size() > 200) {
            throw bad("field 'args' holds " + args.size() + " items, at most 200");
        }
        for (String a : args) {
            if (a == null) {
                throw bad("field 'args' holds a null");
            }
            // picocli would read an @FILE argument as more arguments: a file of the node, not the tenant's.
            if (a.startsWith("@")) {
                throw bad("field 'args': '" + a + "' is an argument file; give the arguments themselves");
            }
            String flag = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (RESERVED.contains(flag)) {
                throw bad("field 'args': " + flag + " is not an option here (" + switch (flag) {
                    case "--spec" -> "give the spec in field 'spec'";
                    case "--out" -> "the service writes a run into runs/ID of your area";
                    default -> "a run executes on the cluster that serves it";
                } + ")");
            }
        }
        Path area = area(root, t.name());
        Path spec = confinedSpec(area, s.spec());
        String id = Tokens.newRunId();
        Path out = area.resolve("runs").resolve(id);
        List<String> line = new ArrayList<>();
        line.add(s.command());
        line.addAll(args);
        line.addAll(List.of("--spec", spec.toString(), "--out", out.toString()));
        check.problem(line).ifPresent(p -> { throw bad("field 'args': " + p); });

        ReentrantLock lock = submitLocks.computeIfAbsent(t.name(), n -> new ReentrantLock());
        lock.lock();
        try {
            long now = System.currentTimeMillis();
            if (t.submissionsPerMinute() > 0) {
                int recent = store.submittedSince(t.name(), now - 60_000);
                if (recent >= t.submissionsPerMinute()) {
                    throw quota("quota submissions-per-minute exceeded: " + recent + " runs submitted in the last minute, the"
                            + " limit is " + t.submissionsPerMinute());
                }
            }
            if (t.maxBytes() > 0) {
                long used = bytesUnder(area);
                if (used >= t.maxBytes()) {
                    throw quota("quota max-bytes exceeded: your area holds " + used + " bytes, the limit is " + t.maxBytes());
                }
            }
            if (t.maxRuns() > 0) {
                refreshRunning(t.name());
                int running = store.count(t.name(), "running");
                if (running >= t.maxRuns()) {
                    throw quota("quota max-runs exceeded: " + running + " runs running, the limit is " + t.maxRuns());
                }
            }
            String description = String.join(" ", line.subList(0, line.size() - 4)) + " --spec " + s.spec();
            RunRow row = new RunRow(id, t.name(), now, "running", null, description);
            store.addRun(row);
            List<String> served = new ArrayList<>(line.subList(0, line.size() - 4));
            served.addAll(List.of("--spec", root.relativize(spec).toString(), "--out", root.relativize(out).toString()));
            // No answer (503) keeps the row: the run may have started, and its tenant must be able to see and cancel it.
            RunReport r = ask(id, RunControl.newBuilder().setSubmit(RunRequest.newBuilder().addAllArgs(served).setWeight(t.weight())
                    .setMaxSlots(t.maxSlots()).setTenant(t.name())));
            if (!r.getRefusal().isEmpty()) {
                store.removeRun(id);
                throw bad("run refused: " + r.getRefusal());
            }
            return json(StatusCodes.CREATED, runJson(row, r)).addHeader(Location.create("/v1/runs/" + id));
        } finally {
            lock.unlock();
        }
    }

    private ApiException tooLarge(long size) {
        return new ApiException(StatusCodes.PAYLOAD_TOO_LARGE, "request body " + (size >= 0 ? "of " + size + " bytes " : "")
                + "over the limit of " + maxBodyBytes + " bytes");
    }

    private static Submission parse(String body) {
        try {
            JsonNode tree = JSON.readTree(body);
            if (tree == null || !tree.isObject()) {
                throw bad("the request body must be a JSON object {\"command\": ..., \"spec\": ..., \"args\": [...]}");
            }
            return JSON.treeToValue(tree, Submission.class);
        } catch (UnrecognizedPropertyException e) {
            throw bad("unknown field '" + e.getPropertyName() + "' (known: command, spec, args)");
        } catch (MismatchedInputException e) {
            String field = e.getPath().isEmpty() ? "?" : String.valueOf(e.getPath().getFirst().getFieldName());
            throw bad("field '" + field + "' has the wrong type (command and spec are strings, args an array of strings)");
        } catch (JsonProcessingException e) {
            throw bad("malformed JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
    }

    /** The spec's path under the tenant's area: relative, not leaving it, not through a symbolic link out of it. */
    static Path confinedSpec(Path area, String spec) {
        if (spec == null || spec.isBlank()) {
            throw bad("field 'spec' is required: the spec's path relative to your area");
        }
        Path p;
        try {
            p = Path.of(spec);
        } catch (InvalidPathException e) {
            throw bad("field 'spec': '" + spec + "' is not a path");
        }
        if (p.isAbsolute()) {
            throw bad("field 'spec': " + spec + " is an absolute path; give it relative to your area");
        }
        Path a = area.toAbsolutePath().normalize();
        Path resolved = a.resolve(p).normalize();
        if (!resolved.startsWith(a) || resolved.equals(a)) {
            throw bad("field 'spec': " + spec + " leaves your area");
        }
        if (!Files.exists(resolved)) {
            throw bad("field 'spec': " + spec + " does not exist in your area");
        }
        try {
            if (!resolved.toRealPath().startsWith(a.toRealPath())) {
                throw bad("field 'spec': " + spec + " leads out of your area through a symbolic link");
            }
        } catch (IOException e) {
            throw bad("field 'spec': " + spec + " cannot be read (" + e.getMessage() + ")");
        }
        if (!Files.isRegularFile(resolved)) {
            throw bad("field 'spec': " + spec + " is not a regular file");
        }
        return resolved;
    }

    private static long bytesUnder(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var files = Files.walk(dir)) {
            return files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0; // removed meanwhile
                }
            }).sum();
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("cannot measure " + dir + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ /v1/files

    /** A file name in an uploaded path: no leading '.', so it can never be one of our temporary names. */
    private static final java.util.regex.Pattern FILE_SEGMENT = java.util.regex.Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

    /** Failed on purpose in the upload stream when the tenant's max-bytes would be passed. */
    private static final class OverQuota extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OverQuota() {
            super(null, null, false, false);
        }
    }

    /**
     * The path of {@code PUT|DELETE /v1/files/PATH} in the tenant's area: relative, each segment
     * a plain name, not under runs/ (the service's), and no existing folder on the way a symbolic
     * link out of the area.
     */
    static Path confinedFile(Path area, String rel) {
        if (rel.isEmpty()) {
            throw bad("path: give the file's path in your area after /v1/files/, e.g. /v1/files/digits/spec.conf");
        }
        if (rel.startsWith("/")) {
            throw bad("path '" + rel + "' is absolute; give it relative to your area");
        }
        String[] parts = rel.split("/", -1);
        if (java.util.Arrays.asList(parts).contains("..")) {
            throw bad("path '" + rel + "' leaves your area");
        }
        if (parts.length > 16 || rel.length() > 1024) {
            throw bad("path '" + rel + "' is over 16 segments or 1024 characters");
        }
        for (String p : parts) {
            if (!FILE_SEGMENT.matcher(p).matches()) {
                throw bad("path '" + rel + "': segment '" + p + "' must be 1-128 letters, digits, '.', '_' or '-', not starting with '.'");
            }
        }
        if (parts[0].equals("runs")) {
            throw bad("path '" + rel + "': runs/ of your area holds your runs' outputs, written by the service only");
        }
        Path a = area.toAbsolutePath().normalize();
        Path f = a.resolve(rel).normalize();
        if (!Files.exists(a)) {
            return f; // nothing there yet, no link either
        }
        try {
            Path realArea = a.toRealPath();
            for (Path p = f; p != null && p.startsWith(a) && !p.equals(a); p = p.getParent()) {
                if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !(Files.exists(p) && p.toRealPath().startsWith(realArea))) {
                    throw bad("path '" + rel + "' leads out of your area through a symbolic link");
                }
            }
        } catch (IOException e) {
            throw bad("path '" + rel + "' cannot be read (" + e.getMessage() + ")");
        }
        return f;
    }

    private HttpResponse files(Tenant t) {
        Path area = area(root, t.name());
        ObjectNode o = JSON.createObjectNode();
        var rows = o.putArray("files");
        if (Files.isDirectory(area)) {
            try (var files = Files.walk(area)) {
                files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).filter(f -> !area.relativize(f).startsWith("runs"))
                        .filter(f -> !f.getFileName().toString().startsWith(".")).sorted().forEach(f -> {
                            try {
                                rows.addObject().put("path", area.relativize(f).toString()).put("bytes", Files.size(f));
                            } catch (IOException e) {
                                // removed meanwhile
                            }
                        });
            } catch (IOException | UncheckedIOException e) {
                throw new IllegalStateException("cannot list your area: " + e.getMessage(), e);
            }
        }
        o.put("bytes", bytesUnder(area)).put("maxBytes", t.maxBytes());
        return json(StatusCodes.OK, o);
    }

    /**
     * Streams the body to a temporary file beside the target, fsyncs it and renames it over the
     * target: a body over max-upload-bytes (413), over what max-bytes leaves (429), or cut off
     * midway leaves no file and no folder it created.
     */
    private HttpResponse upload(Tenant t, String rel, RequestEntity entity) {
        Path area = area(root, t.name());
        try {
            Files.createDirectories(area);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path target;
        try {
            target = confinedFile(area, rel);
            if (Files.isDirectory(target)) {
                throw bad("path '" + rel + "' is a folder of your area");
            }
        } catch (ApiException e) {
            entity.discardBytes(materializer);
            throw e;
        }
        long declared = entity.getContentLengthOption().orElse(-1);
        boolean existed = Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS);
        long replaced = existed ? sizeOf(target) : 0;
        long allowance = t.maxBytes() > 0 ? t.maxBytes() - (bytesUnder(area) - replaced) : Long.MAX_VALUE;
        if (declared > limits.maxUploadBytes()) {
            entity.discardBytes(materializer);
            throw new ApiException(StatusCodes.PAYLOAD_TOO_LARGE, "file of " + declared + " bytes over the limit max-upload-bytes of "
                    + limits.maxUploadBytes() + " bytes");
        }
        if (declared > allowance) {
            entity.discardBytes(materializer);
            throw quota("quota max-bytes exceeded: a file of " + declared + " bytes would pass it (your area holds "
                    + (bytesUnder(area) - replaced) + " bytes, the limit is " + t.maxBytes() + ")");
        }
        Path firstCreated = null;
        for (Path p = target.getParent(); !Files.exists(p); p = p.getParent()) {
            firstCreated = p;
        }
        Path tmp = target.resolveSibling("." + target.getFileName() + "."
                + HexFormat.of().toHexDigits(java.util.concurrent.ThreadLocalRandom.current().nextLong()) + ".tmp");
        MessageDigest md = Tokens.digest();
        long[] received = {0};
        try {
            Files.createDirectories(target.getParent());
            entity.withSizeLimit(limits.maxUploadBytes()).getDataBytes().map(b -> {
                received[0] += b.size();
                if (received[0] > allowance) {
                    throw new OverQuota();
                }
                md.update(b.toArrayUnsafe());
                return b;
            }).runWith(FileIO.toPath(tmp), materializer).toCompletableFuture().get();
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (ExecutionException | InterruptedException | IOException | RuntimeException e) {
            deleteQuietly(tmp);
            for (Path p = target.getParent(); firstCreated != null && p.startsWith(firstCreated); p = p.getParent()) {
                deleteQuietly(p); // only empty folders go
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            Throwable c = e;
            while (!(c instanceof EntityStreamSizeException || c instanceof OverQuota || c instanceof ApiException) && c.getCause() != null
                    && c.getCause() != c) {
                c = c.getCause();
            }
            throw switch (c) {
                case EntityStreamSizeException s -> new ApiException(StatusCodes.PAYLOAD_TOO_LARGE, "file over the limit max-upload-bytes"
                        + " of " + limits.maxUploadBytes() + " bytes (nothing kept)");
                case OverQuota q -> quota("quota max-bytes exceeded after " + received[0] + " bytes of the file (the limit is "
                        + t.maxBytes() + "; nothing kept)");
                case ApiException a -> a;
                default -> bad("the upload of '" + rel + "' broke off after " + received[0] + " bytes (" + c.getClass().getSimpleName()
                        + (c.getMessage() == null ? "" : ": " + c.getMessage().lines().findFirst().orElse("")) + "); nothing kept");
            };
        }
        ObjectNode o = JSON.createObjectNode().put("path", rel).put("bytes", received[0])
                .put("sha256", HexFormat.of().formatHex(md.digest()));
        return json(existed ? StatusCodes.OK : StatusCodes.CREATED, o);
    }

    private HttpResponse deleteFile(Tenant t, String rel) {
        Path area = area(root, t.name());
        Path f = confinedFile(area, rel);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            throw notFound("no file '" + rel + "' in your area");
        }
        try {
            Files.delete(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path p = f.getParent(); !p.equals(area.toAbsolutePath().normalize()); p = p.getParent()) {
            if (!deleteQuietly(p)) {
                break; // not empty
            }
        }
        return json(StatusCodes.OK, JSON.createObjectNode().put("deleted", rel));
    }

    private static long sizeOf(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }

    /** Deletes a file or an empty folder; false if it is not there or not empty. */
    private static boolean deleteQuietly(Path p) {
        try {
            return Files.deleteIfExists(p);
        } catch (IOException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------ reads

    private RunReport ask(String id, RunControl.Builder control) {
        try {
            return runs.control(id, control).toCompletableFuture().get(ASK.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(StatusCodes.SERVICE_UNAVAILABLE, "interrupted");
        } catch (ExecutionException | TimeoutException e) {
            throw new ApiException(StatusCodes.SERVICE_UNAVAILABLE, "the cluster did not answer for run " + id + " within "
                    + ASK.toSeconds() + " s");
        }
    }

    static String state(RunStatus s) {
        return switch (s) {
            case RUN_RUNNING -> "running";
            case RUN_SUCCEEDED -> "succeeded";
            case RUN_CANCELLED -> "cancelled";
            case RUN_FAILED -> "failed";
            case UNRECOGNIZED -> "unknown";
        };
    }

    private RunRow own(Tenant t, String id) {
        return store.run(t.name(), id).orElseThrow(() -> notFound("no run " + id));
    }

    /** The run's report from its coordinator; the service's row follows it. */
    private RunReport status(RunRow row) {
        RunReport r = ask(row.id(), RunControl.newBuilder().setStatus(true));
        if (r.getKnown()) {
            String s = state(r.getStatus());
            Double best = r.getHasProgress() ? r.getBestAccuracy() : null;
            if (!s.equals(row.state()) || !java.util.Objects.equals(best, row.bestAccuracy())) {
                store.updateRun(row.id(), s, best);
            }
        }
        return r;
    }

    /** Brings the rows of the tenant's running runs up to date (finished ones never change again). */
    private void refreshRunning(String tenant) {
        List<RunRow> running = store.runs(tenant, "running", 0, Integer.MAX_VALUE);
        List<CompletableFuture<RunReport>> asks = running.stream()
                .map(r -> CompletableFuture.supplyAsync(() -> status(r), handlers)).toList();
        for (CompletableFuture<RunReport> a : asks) {
            try {
                a.join();
            } catch (RuntimeException e) {
                // one run not answering leaves its row as it was
            }
        }
    }

    private ObjectNode runJson(RunRow row, RunReport r) {
        ObjectNode o = JSON.createObjectNode().put("id", row.id())
                .put("state", r.getKnown() ? state(r.getStatus()) : row.state())
                .put("created", Instant.ofEpochMilli(row.createdMillis()).toString()).put("command", row.description());
        if (!r.getReason().isEmpty()) {
            o.put("reason", r.getReason());
        }
        o.put("searchesFinished", r.getSearchesFinished()).put("generationsKept", r.getGenerationsKept());
        if (r.getHasProgress()) {
            o.putObject("progress").put("search", r.getSearch()).put("generation", r.getGeneration())
                    .put("bestAccuracy", r.getBestAccuracy()).put("meanAccuracy", r.getMeanAccuracy())
                    .put("skippedShare", r.getSkippedShare());
        }
        if (!r.getNode().isEmpty()) {
            o.put("node", r.getNode());
        }
        return o;
    }

    private HttpResponse show(Tenant t, String id) {
        RunRow row = own(t, id);
        RunReport r = status(row);
        ObjectNode o = runJson(row, r);
        Path out = area(root, t.name()).resolve("runs").resolve(id);
        if (Files.isRegularFile(out.resolve("result.json"))) {
            artifacts(out).forEach(o.putArray("artifacts")::add);
        }
        return json(StatusCodes.OK, o);
    }

    private HttpResponse list(Tenant t, Map<String, String> query) {
        for (String k : query.keySet()) {
            if (!Set.of("state", "limit", "offset").contains(k)) {
                throw bad("unknown query parameter '" + k + "' (known: state, limit, offset)");
            }
        }
        String state = query.get("state");
        if (state != null && !STATES.contains(state)) {
            throw bad("query parameter 'state' must be one of " + new java.util.TreeSet<>(STATES) + ", got '" + state + "'");
        }
        int limit = intParam(query, "limit", 50, 1, 500);
        int offset = intParam(query, "offset", 0, 0, Integer.MAX_VALUE);
        refreshRunning(t.name());
        int total = store.count(t.name(), state);
        ObjectNode o = JSON.createObjectNode();
        var rows = o.putArray("runs");
        for (RunRow r : store.runs(t.name(), state, offset, limit)) {
            ObjectNode n = rows.addObject().put("id", r.id()).put("state", r.state())
                    .put("created", Instant.ofEpochMilli(r.createdMillis()).toString()).put("command", r.description());
            if (r.bestAccuracy() != null) {
                n.put("bestAccuracy", r.bestAccuracy());
            } else {
                n.putNull("bestAccuracy");
            }
        }
        o.put("total", total).put("offset", offset).put("limit", limit);
        if (offset + limit < total) {
            o.put("next", "/v1/runs?" + (state == null ? "" : "state=" + state + "&") + "offset=" + (offset + limit) + "&limit=" + limit);
        }
        return json(StatusCodes.OK, o);
    }

    private static int intParam(Map<String, String> query, String name, int dflt, int min, int max) {
        String v = query.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw bad("query parameter '" + name + "' must be an integer in [" + min + ", " + max + "], got '" + v + "'");
    }

    private HttpResponse cancel(Tenant t, String id) {
        RunRow row = own(t, id);
        RunReport now = status(row);
        if (now.getKnown() && now.getStatus() != RunStatus.RUN_RUNNING) {
            ObjectNode o = runJson(row, now).put("cancelled", false)
                    .put("message", "run " + id + " already ended (" + state(now.getStatus()) + "): nothing to cancel");
            return json(StatusCodes.OK, o);
        }
        RunReport r = ask(id, RunControl.newBuilder().setCancel(true));
        return json(StatusCodes.ACCEPTED, runJson(row, r).put("cancelled", true).put("message", "cancelling run " + id
                + ": its searches stop within a unit of work; its history is kept"));
    }

    private HttpResponse file(Tenant t, String id, String name, ContentType type) {
        RunRow row = own(t, id);
        Path f = area(root, t.name()).resolve("runs").resolve(id).resolve(name);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            throw notFound("run " + id + " has no " + name + " (its state is " + status(row).getStatus().name().substring(4)
                    .toLowerCase(Locale.ROOT) + ")");
        }
        return stream(f, type, null);
    }

    /** The run's files, as paths relative to its folder ("model.onnx", "tasks/t1/model.safetensors"); no links, no temporaries. */
    static List<String> artifacts(Path out) {
        try (var files = Files.walk(out)) {
            return files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).map(f -> out.relativize(f).toString())
                    .filter(ServiceApi::isArtifactName).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("cannot list " + out + ": " + e.getMessage(), e);
        }
    }

    private static boolean isArtifactName(String rel) {
        String[] parts = rel.split("/", -1);
        return parts.length <= 8 && java.util.Arrays.stream(parts).allMatch(p -> ARTIFACT.matcher(p).matches());
    }

    private HttpResponse artifact(Tenant t, String id, String name) {
        RunRow row = own(t, id);
        Path out = area(root, t.name()).resolve("runs").resolve(id);
        Path f = out.resolve(name);
        if (!isArtifactName(name) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || !inside(out, f)) {
            throw notFound("run " + id + " (" + row.state() + ") has no artifact '" + name + "'");
        }
        ContentType type = name.endsWith(".json") ? ContentTypes.APPLICATION_JSON
                : name.endsWith(".html") ? ContentTypes.TEXT_HTML_UTF8 : ContentTypes.APPLICATION_OCTET_STREAM;
        return stream(f, type, dev.nps.storage.Sha256.ofFile(f, "artifact"));
    }

    /** True if {@code f}, links resolved, lies in {@code dir} (a folder on the way may be a link). */
    private static boolean inside(Path dir, Path f) {
        try {
            return f.toRealPath().startsWith(dir.toRealPath());
        } catch (IOException e) {
            return false;
        }
    }

    private static HttpResponse stream(Path f, ContentType type, String sha256) {
        long size;
        try {
            size = Files.size(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        HttpEntity.Default entity = HttpEntities.create(type, size, FileIO.fromPath(f));
        HttpResponse r = HttpResponse.create().withStatus(StatusCodes.OK).withEntity(entity);
        return sha256 == null ? r : r.addHeader(RawHeader.create("X-Content-SHA256", sha256));
    }

    /** Server-sent events: the run's state and progress each time they change, until it ends. */
    private HttpResponse events(Tenant t, String id) {
        RunRow row = own(t, id);
        Source<ByteString, ?> events = Source.tick(Duration.ZERO, Duration.ofSeconds(1), "tick")
                .mapAsync(1, tick -> CompletableFuture.supplyAsync(() -> status(row), handlers))
                .map(r -> runJson(row, r))
                .statefulMapConcat(() -> {
                    String[] last = {null};
                    return o -> {
                        String s = o.toString();
                        if (s.equals(last[0])) {
                            return List.<ObjectNode>of();
                        }
                        last[0] = s;
                        return List.of(o);
                    };
                })
                .takeWhile(o -> o.get("state").asText().equals("running"), true)
                .map(o -> ByteString.fromString("event: " + (o.get("state").asText().equals("running") ? "progress" : "end")
                        + "\ndata: " + o + "\n\n"))
                .keepAlive(Duration.ofSeconds(15), () -> ByteString.fromString(":\n\n"));
        return HttpResponse.create().withStatus(StatusCodes.OK)
                .withEntity(HttpEntities.createChunked(MediaTypes.TEXT_EVENT_STREAM.toContentType(), events));
    }

    /** Stops the handler threads (the HTTP server is unbound by the node's coordinated shutdown). */
    public void close() {
        handlers.shutdownNow();
    }
}
