package dev.nps.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AbortRuleTest {

    @Test
    void dropsOnlyCandidatesStrictlyBelowTheMuthBestOtherLowerBound() {
        double[] lower = {0.90, 0.80, 0.50, 0.40, 0.10};
        double[] upper = {0.90, 0.80, 0.79, 0.80, 0.95};
        boolean[] running = {false, false, true, true, true};
        // mu = 2: the bar for each candidate is the 2nd best lower bound among the others, 0.80.
        assertEquals(List.of(2), AbortRule.toAbort(lower, upper, running, 2));
        // Equal to the bar is not below it: the rule is strict.
        assertEquals(List.of(), AbortRule.toAbort(lower, upper, new boolean[] {false, false, false, true, false}, 2));
    }

    @Test
    void aCandidateIsNotMeasuredAgainstItself() {
        // Candidate 0 holds the best lower bound; without it only one other (0.5) is known, so with mu = 2
        // its bar is 0.1, never its own 0.6.
        double[] lower = {0.6, 0.5, 0.1};
        double[] upper = {0.59, 0.5, 0.1};
        assertEquals(List.of(), AbortRule.toAbort(lower, upper, new boolean[] {true, false, false}, 2));
    }

    @Test
    void agreesWithADirectCountOnRandomIntervals() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 2000; trial++) {
            int n = 2 + rnd.nextInt(12);
            int mu = 1 + rnd.nextInt(n - 1);
            double[] lower = new double[n];
            double[] upper = new double[n];
            boolean[] running = new boolean[n];
            for (int k = 0; k < n; k++) {
                lower[k] = rnd.nextInt(6) / 5.0;
                upper[k] = Math.min(1, lower[k] + rnd.nextInt(4) / 5.0);
                running[k] = rnd.nextBoolean();
            }
            List<Integer> want = new java.util.ArrayList<>();
            for (int c = 0; c < n; c++) {
                int better = 0; // others certainly better than c
                for (int j = 0; j < n; j++) {
                    if (j != c && lower[j] > upper[c]) {
                        better++;
                    }
                }
                if (running[c] && better >= mu) {
                    want.add(c);
                }
            }
            assertEquals(want, AbortRule.toAbort(lower, upper, running, mu), "trial " + trial);
        }
    }
}
