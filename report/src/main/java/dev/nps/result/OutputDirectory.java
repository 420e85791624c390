package dev.nps.result;

import dev.nps.storage.AtomicFiles;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.stream.Stream;

/**
 * The directory a command writes into, and the one place every command's {@code --out} goes
 * through. Before any work starts it
 * <ul>
 *   <li>refuses a directory that holds one of the command's inputs, or lies inside one (an output
 *       must never replace an input: {@code --out} at the spec's own folder would overwrite its graph),</li>
 *   <li>creates it if needed and proves it writable,</li>
 *   <li>removes the hidden temporary files a killed writer left ({@link AtomicFiles#isTemporaryName}:
 *       only that pattern, in the directory and its direct subdirectories, never {@value #JOURNAL}).</li>
 * </ul>
 * Every file lands through {@link AtomicFiles}, so a failed run leaves no partial file; run inside
 * {@link #removingCreatedIfEmpty}, a failed run also leaves no empty directory it created.
 * Two runs into one directory at the same time are not supported.
 */
public final class OutputDirectory {
    /** A resumable run's journal (kept across a kill; never cleaned here). */
    public static final String JOURNAL = ".nps-journal";

    private static final ScopedValue<List<Path>> CREATED = ScopedValue.newInstance();

    private final Path dir;

    private OutputDirectory(Path dir) {
        this.dir = dir;
    }

    /**
     * Creates the directory if needed and proves it writable; one-line errors otherwise.
     *
     * @param inputs every file or directory the command reads: none may lie inside {@code dir}, nor {@code dir} inside one
     */
    public static OutputDirectory prepare(Path dir, Collection<Path> inputs) {
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw new OutputException("output " + abs + " exists and is not a directory");
        }
        requireNoInput(abs, inputs);
        Path created = topmostMissing(abs);
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw new OutputException("cannot create output directory " + abs);
        }
        if (created != null && CREATED.isBound()) {
            CREATED.get().add(created);
        }
        try {
            Files.delete(Files.createTempFile(abs, ".nps-probe-", ".tmp"));
        } catch (IOException e) {
            throw new OutputException("output directory " + abs + " is not writable");
        }
        removeStaleTemporaries(abs);
        return new OutputDirectory(abs);
    }

    /**
     * Runs a command; if it fails (non-zero exit or an exception), every output directory that
     * {@link #prepare} created during it and that still holds no file is removed again.
     */
    public static int removingCreatedIfEmpty(IntSupplier command) {
        List<Path> created = new ArrayList<>();
        int[] code = {1};
        try {
            ScopedValue.where(CREATED, created).run(() -> code[0] = command.getAsInt());
            return code[0];
        } finally {
            if (code[0] != 0) {
                created.forEach(OutputDirectory::removeIfNoFile);
            }
        }
    }

    private static void requireNoInput(Path out, Collection<Path> inputs) {
        Path outReal = realish(out);
        for (Path input : inputs) {
            Path in = realish(input.toAbsolutePath().normalize());
            if (in.startsWith(outReal)) {
                throw new OutputException("output directory " + out + " holds the input " + input
                        + "; an output must never replace an input: choose another --out");
            }
            if (outReal.startsWith(in)) {
                throw new OutputException("output directory " + out + " lies inside the input " + input
                        + "; an output must never replace an input: choose another --out");
            }
        }
    }

    /** The real path of {@code p}, or of its nearest existing ancestor with the rest appended (symbolic links resolved). */
    private static Path realish(Path p) {
        Path existing = p;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return p;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(p)).normalize();
        } catch (IOException e) {
            return p;
        }
    }

    private static Path topmostMissing(Path abs) {
        Path missing = null;
        for (Path p = abs; p != null && !Files.exists(p); p = p.getParent()) {
            missing = p;
        }
        return missing;
    }

    /** Deletes our own temporary names (a killed writer's leftovers) here and one level down, outside the journal. */
    private static void removeStaleTemporaries(Path root) {
        try {
            Files.walkFileTree(root, EnumSet.noneOf(java.nio.file.FileVisitOption.class), 2, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                    return d.getFileName() != null && d.getFileName().toString().equals(JOURNAL) && !d.equals(root)
                            ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                    if (a.isRegularFile() && AtomicFiles.isTemporaryName(f.getFileName().toString())) {
                        Files.deleteIfExists(f);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new OutputException("cannot clean stale temporary files in " + root + ": " + e.getMessage());
        }
    }

    /** Removes {@code dir} if it holds no file at any depth (only empty directories). */
    private static void removeIfNoFile(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            if (s.anyMatch(p -> !Files.isDirectory(p))) {
                return;
            }
        } catch (IOException e) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // best effort: the run's own failure is the one to report
        }
    }

    public Path path() {
        return dir;
    }

    public Path resolve(String name) {
        return dir.resolve(name);
    }

    public Path write(String name, byte[] bytes) {
        Path target = dir.resolve(name);
        AtomicFiles.write(target, bytes);
        return target;
    }
}
