package dev.nps.evaluator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The evaluator x thread rule is a pure function of the run's facts and fills the cores. */
class ScoringPlanTest {

    @Test
    void defaultsFillEveryCoreWithOneThreadPerEvaluator() {
        for (int cores = 1; cores <= 256; cores++) {
            ScoringPlan p = ScoringPlan.forSearch(cores, 0, 0);
            assertEquals(cores, p.evaluators() * p.threadsPerEvaluator());
            assertEquals(1, p.threadsPerEvaluator());
            assertEquals(p, ScoringPlan.forSearch(cores, 0, 0), "same facts, same plan");
            assertEquals(cores, ScoringPlan.forSingleSession(cores, 0).threadsPerEvaluator());
        }
    }

    @Test
    void aGivenCountIsKeptAndTheOtherFillsTheRest() {
        assertEquals(new ScoringPlan(2, 8, 16, "threads = cores / evaluators"), ScoringPlan.forSearch(16, 2, 0));
        assertEquals(new ScoringPlan(4, 4, 16, "evaluators = cores / threads"), ScoringPlan.forSearch(16, 0, 4));
        assertEquals(new ScoringPlan(3, 5, 16, "given"), ScoringPlan.forSearch(16, 3, 5));
        // Never below one of each, even when the count given exceeds the cores.
        ScoringPlan p = ScoringPlan.forSearch(2, 0, 3);
        assertTrue(p.evaluators() == 1 && p.threadsPerEvaluator() == 3, p.toString());
    }
}
