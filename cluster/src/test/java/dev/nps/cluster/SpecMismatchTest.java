package dev.nps.cluster;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchException;
import dev.nps.coordinator.SearchKind;
import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchSetup;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** An evaluator node whose storage root holds a different spec file refuses the run; the search stops saying why. */
@Timeout(90)
class SpecMismatchTest {
    @TempDir
    Path root;
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.reversed().forEach(ClusterNode::close);
    }

    @Test
    void aNodeWithOtherFilesStopsTheSearchWithOneLine() throws IOException {
        Path copy = root.resolve("examples/digits");
        try (Stream<Path> files = Files.walk(TestCluster.DIGITS.getParent())) {
            for (Path f : files.toList()) {
                Path to = copy.resolve(TestCluster.DIGITS.getParent().relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        Files.writeString(copy.resolve("spec.conf"), Files.readString(copy.resolve("spec.conf")) + "# edited on this node\n");

        int seedPort = TestCluster.freePort();
        String seed = "127.0.0.1:" + seedPort;
        ClusterNode coordinator = ClusterNode.start(TestCluster.node(seedPort, seed, List.of(Roles.COORDINATOR, Roles.EVALUATOR), 0),
                TestCluster.STRICT);
        nodes.add(coordinator);
        NodeSettings other = TestCluster.node(TestCluster.freePort(), seed, List.of(Roles.EVALUATOR), 1);
        nodes.add(ClusterNode.start(new NodeSettings(other.host(), other.port(), other.seeds(), other.roles(), root, other.gpus(),
                other.noGpu(), other.cpuSlots(), other.stableAfter(), other.tls(), other.pekko()), TestCluster.STRICT));
        assertTrue(coordinator.awaitSlots(1, Duration.ofSeconds(30)));
        try (Experiment ex = TestCluster.digits()) {
            SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(0));
            var e = assertThrows(SearchException.class, () -> new ClusterSearch(coordinator, TestCluster.DIGITS,
                    ScorerOptions.defaults(), UnsharedPolicy.CARRY).run(setup, SearchConfig.defaults().withGenerations(2),
                    SearchListener.NONE));
            assertTrue(e.getMessage().contains("cannot serve the run: spec ") && e.getMessage().contains("differs from the coordinator's"),
                    e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
