package dev.nps.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.nps.coordinator.GenerationStats;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A run's meters follow its searches and generations, and are gone once it ends; lifecycle meters stay. */
class RunMetersTest {
    private static GenerationStats gen(int g, double best, double mean) {
        return new GenerationStats(g, new double[5], 0.25, new double[0], best, mean, new double[5], 40, 8, 12, 0.3, 1, 2);
    }

    @Test
    void aRunsMetersTrackItsProgressAndAreRemovedWhenItEnds() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RunMeters meters = new RunMeters(registry);
        List<String> args = List.of("merge", "--method", "nps", "--out", "tenants/alice/runs/r1");
        assertEquals("alice", RunMeters.tenantOf(dev.nps.protocol.RunRequest.newBuilder().addAllArgs(args).setTenant("alice").build()));
        assertEquals("merge", RunMeters.kindOf(args));
        // The tenant is who submitted it, never guessed from a path: a CLI run writing under tenants/ is nobody's.
        assertEquals("none", RunMeters.tenantOf(dev.nps.protocol.RunRequest.newBuilder().addAllArgs(args).build()));
        assertEquals("other", RunMeters.kindOf(List.of("eval")));
        meters.event("alice", "merge", RunMeters.Event.STARTED);
        try (RunMeters.Run run = meters.open("r1", "alice", "merge")) {
            assertEquals(1, registry.get("nps.runs.active").tag("tenant", "alice").gauge().value());
            run.searchSkipped(0);
            run.searchStarted(1, 4);
            run.generation(gen(1, 0.5, 0.4), 0); // population 0: 4 + floor(3 ln 5) = 8
            run.generation(gen(2, 0.45, 0.42), 0);
            assertEquals(2, registry.get("nps.run.generation").tag("run", "r1").gauge().value());
            assertEquals(0.5, registry.get("nps.run.fitness.best").tag("run", "r1").gauge().value(), "best so far");
            assertEquals(0.42, registry.get("nps.run.fitness.mean").tag("run", "r1").gauge().value());
            assertEquals(0.25, registry.get("nps.run.sigma").tag("run", "r1").gauge().value());
            assertEquals(2, registry.get("nps.run.searches").tag("run", "r1").gauge().value());
            assertEquals((1 + 2 / 4.0) / 2, registry.get("nps.run.progress").tag("run", "r1").gauge().value(), 1e-12);
            assertEquals(16, registry.get("nps.run.candidates").tag("run", "r1").counter().count());
            assertEquals(80, registry.get("nps.run.batches").tags("run", "r1", "outcome", "scored").counter().count());
            assertEquals(16, registry.get("nps.run.batches").tags("run", "r1", "outcome", "cached").counter().count());
            assertEquals(24, registry.get("nps.run.batches").tags("run", "r1", "outcome", "aborted").counter().count());
            run.searchFinished(1);
            assertEquals(2, registry.get("nps.run.searches.done").tag("run", "r1").gauge().value());
            assertEquals(1.0, registry.get("nps.run.progress").tag("run", "r1").gauge().value());
        }
        meters.event("alice", "merge", RunMeters.Event.SUCCEEDED);
        assertNull(registry.find("nps.run.generation").gauge(), "run meters removed");
        assertNull(registry.find("nps.run.batches").counter());
        assertEquals(0, registry.get("nps.runs.active").tag("tenant", "alice").gauge().value());
        assertEquals(1, registry.get("nps.run.events").tags("event", "succeeded", "tenant", "alice", "kind", "merge").counter().count());
        assertEquals(0, registry.get("nps.run.events").tags("event", "resumed", "tenant", "alice", "kind", "merge").counter().count(),
                "every event of a group exists from its first one");
    }
}
