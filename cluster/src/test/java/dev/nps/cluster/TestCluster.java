package dev.nps.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.nps.evaluator.ScorerOptions;
import dev.nps.spec.ExperimentSpec;
import dev.nps.storage.UnsharedPolicy;
import dev.nps.experiment.Experiment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Shared helpers of the cluster tests: the digits fixture, free ports, node settings on 127.0.0.1. */
final class TestCluster {
    static final Path ROOT = Path.of(System.getProperty("nps.repo.root", "..")).toAbsolutePath().normalize();
    static final Path DIGITS = ROOT.resolve("examples/digits/spec.conf");

    /** Every message serialized as if it crossed nodes; fast failure detection and downing for tests. */
    static final Config STRICT = ConfigFactory.parseString("""
            pekko.actor.serialize-messages = on
            pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2s
            pekko.cluster.jmx.enabled = off
            pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
            pekko.jvm-shutdown-hooks = off
            # a node that never joined (or whose peers are gone) stops in seconds, not 10 s per phase
            pekko.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 3s
            pekko.coordinated-shutdown.phases.cluster-leave.timeout = 3s
            pekko.coordinated-shutdown.phases.cluster-exiting.timeout = 3s
            """);

    private TestCluster() {
    }

    static Experiment digits() {
        return Experiment.load(ExperimentSpec.load(DIGITS), ScorerOptions.defaults(), UnsharedPolicy.CARRY);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A node on 127.0.0.1:port with the given roles and CPU slots, joining {@code seed} (host:port). */
    static NodeSettings node(int port, String seed, List<String> roles, int cpuSlots) {
        return new NodeSettings("127.0.0.1", port, List.of(seed), roles, ROOT, List.of(), true, cpuSlots,
                Duration.ofSeconds(2), Optional.empty(), ConfigFactory.empty());
    }
}
