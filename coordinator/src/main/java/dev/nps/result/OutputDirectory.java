package dev.nps.result;

import dev.nps.storage.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The directory a command writes into. It is checked for writability before any work starts,
 * and every file lands through {@link AtomicFiles}, so a failed run leaves no partial file.
 */
public final class OutputDirectory {
    private final Path dir;

    private OutputDirectory(Path dir) {
        this.dir = dir;
    }

    /** Creates the directory if needed and proves it writable; one-line errors otherwise. */
    public static OutputDirectory prepare(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw new OutputException("output " + abs + " exists and is not a directory");
        }
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw new OutputException("cannot create output directory " + abs);
        }
        try {
            Files.delete(Files.createTempFile(abs, ".nps-probe-", ".tmp"));
        } catch (IOException e) {
            throw new OutputException("output directory " + abs + " is not writable");
        }
        return new OutputDirectory(abs);
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
