package dev.nps.coordinator;

import dev.nps.protocol.CandidateSpec;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Batch scores by candidate: the key is the candidate's spec (kept counts, scales, lambdas), the
 * numbers that fully determine its model, never a hash of weights. Scores of a candidate that was
 * dropped midway are kept too, so an equal later candidate only scores the batches still missing.
 * Protobuf messages compare field by field (doubles by their bits), which makes a spec a sound key.
 */
final class EvaluationCache {
    private final boolean enabled;
    private final int positions;
    private final Map<CandidateSpec, int[]> scores = new HashMap<>();

    EvaluationCache(boolean enabled, int positions) {
        this.enabled = enabled;
        this.positions = positions;
    }

    boolean enabled() {
        return enabled;
    }

    /** Known correct counts per position (-1 = unknown), a copy; null when nothing is known. */
    int[] lookup(CandidateSpec spec) {
        int[] s = enabled ? scores.get(spec) : null;
        return s == null ? null : s.clone();
    }

    void record(CandidateSpec spec, int position, int correct) {
        if (!enabled) {
            return;
        }
        scores.computeIfAbsent(spec, k -> {
            int[] a = new int[positions];
            Arrays.fill(a, -1);
            return a;
        })[position] = correct;
    }

    int size() {
        return scores.size();
    }
}
