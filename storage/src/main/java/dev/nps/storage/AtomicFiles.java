package dev.nps.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Whole-file writes that readers never see half done: the content goes to a temporary file in
 * the target's directory (same file system, so the rename is atomic), is fsynced, and is then
 * renamed over the target. On any failure the temporary file is deleted and the target is
 * left as it was.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Our temporary names: "." + target name + "." + 16 hex digits + ".tmp" (writes), ".nps-probe-" digits ".tmp" (probes). */
    private static final java.util.regex.Pattern TEMPORARY = java.util.regex.Pattern.compile("\\..+\\.[0-9a-f]{16}\\.tmp|\\.nps-probe-[0-9]+\\.tmp");

    /** True for a name this class (or an output directory's writability probe) gives its temporary files. */
    public static boolean isTemporaryName(String fileName) {
        return TEMPORARY.matcher(fileName).matches();
    }

    /** Writes the file's content to a channel positioned at 0. */
    @FunctionalInterface
    public interface Body {
        void writeTo(FileChannel channel) throws IOException;
    }

    public static void write(Path target, byte[] content) {
        write(target, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }

    public static void write(Path target, Body body) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (Files.isDirectory(abs)) {
            throw new StorageException("cannot write " + target + ": it is a directory");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new StorageException("cannot write " + target + ": directory " + dir + " does not exist");
        }
        // A random name rather than Files.createTempFile: the latter forces mode 0600, and the
        // renamed file should get the usual umask-derived permissions.
        Path tmp = dir.resolve("." + abs.getFileName() + "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean created = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                created = true;
                body.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new StorageException("cannot write " + target + ": the file system does not support atomic rename", e);
            }
            created = false;
            syncDirectory(dir);
        } catch (IOException e) {
            throw StorageException.io("cannot write " + target, e);
        } finally {
            if (created) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // Best effort: the original failure is the one to report.
                }
            }
        }
    }

    /** Makes the rename itself durable; not every platform lets a directory be opened. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Durability of the directory entry is best effort (e.g. on Windows).
        }
    }
}
