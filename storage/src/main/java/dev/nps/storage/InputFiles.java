package dev.nps.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The one check every reader of a user-named input makes before it opens the file: it must be a
 * regular file (symbolic links followed). A FIFO, socket or device would block the open or the
 * read (a FIFO with no writer blocks forever, /dev/zero never ends), and a directory is not a
 * file: all are refused with one line, before anything is opened.
 */
public final class InputFiles {
    private InputFiles() {
    }

    /** Returns {@code path} if it is a regular file; a one-line {@link StorageException} naming {@code what} otherwise. */
    public static Path requireRegularFile(Path path, String what) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new StorageException(what + " " + path + ": no such file");
        } catch (IOException e) {
            throw StorageException.io("cannot read " + what + " " + path, e);
        }
        if (a.isRegularFile()) {
            return path;
        }
        throw new StorageException(what + " " + path + " is " + kind(path, a) + ", not a regular file");
    }

    /** A directory or a regular file (checkpoints may be sharded directories); refuses FIFOs, devices, sockets. */
    public static Path requireFileOrDirectory(Path path, String what) {
        if (Files.isDirectory(path)) {
            return path;
        }
        return requireRegularFile(path, what);
    }

    private static String kind(Path path, BasicFileAttributes a) {
        if (a.isDirectory()) {
            return "a directory";
        }
        try {
            Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if (Files.isSymbolicLink(path)) {
                mode = Files.getAttribute(path, "unix:mode");
            }
            int type = ((Integer) mode) & 0170000;
            return switch (type) {
                case 0010000 -> "a FIFO (named pipe)";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return "a special file";
        }
    }
}
