package dev.nps.run;

import dev.nps.coordinator.SearchConfig;
import dev.nps.coordinator.SearchSetup;
import java.util.Arrays;
import java.util.TreeMap;

/**
 * A search's identity within a run: SHA-256 over what decides its path (kind, tasks, fixed masks,
 * score weights and every setting except those that only change who scores what: evaluators and
 * batches per unit). A resumed run whose n-th search has another key has diverged and is refused.
 */
final class SearchKeys {
    private SearchKeys() {
    }

    static String of(SearchSetup setup, SearchConfig config) {
        StringBuilder s = new StringBuilder();
        s.append(setup.kind()).append('|').append(setup.tasks()).append('|');
        new TreeMap<>(setup.fixedMasks()).forEach((t, m) -> s.append(t).append(':').append(Arrays.toString(m.kept()))
                .append(Arrays.toString(m.scales())).append(';'));
        s.append('|').append(new TreeMap<>(setup.scoreWeights())).append('|').append(new TreeMap<>(setup.calibration()).keySet());
        s.append('|').append(config.withEvaluators(1).withBatchesPerUnit(1));
        return dev.nps.storage.Sha256.hex(s.toString());
    }
}
