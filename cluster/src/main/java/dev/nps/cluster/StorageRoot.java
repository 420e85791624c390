package dev.nps.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The one rule both sides of a cluster run apply to a spec path: it lies under the node's storage
 * root, after "..", absolute paths and symbolic links are resolved. The coordinator sends the
 * path relative to its root ({@link #relativize}); every evaluator node resolves what it receives
 * against its own root ({@link #resolve}) with the same check, so a message naming
 * {@code ../../etc/passwd} or {@code /etc/passwd} is refused on the node, not opened.
 */
final class StorageRoot {
    private StorageRoot() {
    }

    /** {@code file} relative to {@code root}; refused if it is not under it. */
    static String relativize(Path root, Path file) {
        Path r = real(root.toAbsolutePath().normalize());
        Path f = real(file.toAbsolutePath().normalize());
        if (!f.startsWith(r) || f.equals(r)) {
            throw new IllegalArgumentException("spec " + file + " is not under the storage root " + r
                    + " (nodes resolve specs against their storage root)");
        }
        return r.relativize(f).toString();
    }

    /** {@code relative} resolved against {@code root}; refused if it is absolute or leaves the root. */
    static Path resolve(Path root, String relative) {
        Path rel;
        try {
            rel = Path.of(relative);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("the run's spec path '" + relative + "' is not a path");
        }
        Path r = real(root.toAbsolutePath().normalize());
        Path p = r.resolve(rel).normalize();
        if (rel.isAbsolute() || !p.startsWith(r) || p.equals(r) || !real(p).startsWith(r)) {
            throw new IllegalArgumentException("the run's spec path '" + relative + "' leaves this node's storage root " + r);
        }
        return p;
    }

    /** The real path where the file exists (symbolic links resolved), else the path as given. */
    private static Path real(Path p) {
        if (!Files.exists(p)) {
            return p;
        }
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }
}
