package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.protocol.RunSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evaluator nodes check a received spec path against their storage root exactly as the coordinator does. */
class StorageRootTest {
    @TempDir
    Path tmp;

    @Test
    void theCoordinatorSideRefusesASpecOutsideTheRoot() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path inside = Files.writeString(Files.createDirectories(root.resolve("exp")).resolve("spec.conf"), "x");
        assertEquals("exp/spec.conf", StorageRoot.relativize(root, inside));
        Path outside = Files.writeString(tmp.resolve("spec.conf"), "x");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> StorageRoot.relativize(root, outside)).getMessage()
                .contains("is not under the storage root"));
        // A link inside the root to a file outside it is outside.
        Path link = Files.createSymbolicLink(root.resolve("link.conf"), outside);
        assertThrows(IllegalArgumentException.class, () -> StorageRoot.relativize(root, link));
    }

    @Test
    void aNodeRefusesReceivedPathsThatLeaveItsRoot() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(Files.createDirectories(root.resolve("exp")).resolve("spec.conf"), "x");
        assertEquals(root.toRealPath().resolve("exp/spec.conf"), StorageRoot.resolve(root, "exp/spec.conf"));
        Files.writeString(tmp.resolve("secret"), "s");
        for (String bad : new String[] {"../secret", "/etc/passwd", "exp/../../secret", "", "."}) {
            String m = assertThrows(IllegalArgumentException.class, () -> StorageRoot.resolve(root, bad)).getMessage();
            assertTrue(m.contains("leaves this node's storage root"), bad + ": " + m);
        }
        Files.createSymbolicLink(root.resolve("out.conf"), tmp.resolve("secret"));
        assertThrows(IllegalArgumentException.class, () -> StorageRoot.resolve(root, "out.conf"));
    }

    @Test
    void nodeDataAppliesTheCheckToWhatItReceives() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("root"));
        try (NodeData data = new NodeData(root)) {
            var attach = dev.nps.protocol.Attach.newBuilder().setSpec(RunSpec.newBuilder().setSpec("../../../../etc/passwd")).build();
            String m = assertThrows(IllegalArgumentException.class, () -> data.backend(attach, new Slot(0, -1))).getMessage();
            assertTrue(m.contains("leaves this node's storage root"), m);
        }
    }
}
