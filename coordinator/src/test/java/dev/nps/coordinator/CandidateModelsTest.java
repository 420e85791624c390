package dev.nps.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nps.protocol.CandidateSpec;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.TopK;
import dev.nps.kernels.subspace.SubspacePartition;
import dev.nps.experiment.Experiment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CandidateModelsTest {
    private static Experiment ex;

    @BeforeAll
    static void load() {
        ex = DigitsExperiment.load();
    }

    @AfterAll
    static void close() {
        ex.close();
    }

    private static long nonZero(ParameterSet p) {
        long c = 0;
        for (float[] a : p.flatView()) {
            for (float v : a) {
                c += v != 0 ? 1 : 0;
            }
        }
        return c;
    }

    @Test
    void magnitudeControlKeepsExactlyTheGlobalTopK() {
        SearchConfig config = SearchConfig.defaults().withKeep(0.1).withPartition(SubspacePartition.Kind.BAND, 2);
        CandidateModels models = CandidateModels.of(SearchSetup.of(ex, SearchKind.PRUNE, List.of(2)), config);
        ParameterSet pruned = models.prunedTaskVector(models.magnitudeControl().getTasks(0));
        ParameterSet tau = ex.taus().get(2);
        float[][] expected = tau.map(a -> a).flatView();
        TopK.keepTopK(expected, TopK.keepCount(0.1, tau.elementCount()));
        float[][] actual = pruned.flatView();
        for (int p = 0; p < expected.length; p++) {
            assertArrayEquals(expected[p], actual[p]);
        }
        assertEquals(TopK.keepCount(0.1, tau.elementCount()), nonZero(pruned));
    }

    @Test
    void basePlusPrunedTaskVectorIsTheMaterializedModel() {
        SearchConfig config = SearchConfig.defaults().withKeep(0.05);
        SearchSetup setup = SearchSetup.of(ex, SearchKind.PRUNE, List.of(0));
        CandidateModels models = CandidateModels.of(setup, config);
        CandidateSpec control = models.magnitudeControl();
        ParameterSet model = models.materialize(control);
        ParameterSet rebuilt = ex.base().plusScaled(models.prunedTaskVector(control.getTasks(0)), 1.0);
        for (String name : rebuilt.names()) {
            assertArrayEquals(model.get(name).data(), rebuilt.get(name).data(), name);
        }
    }

    @Test
    void controlIsOnlyDefinedForPruneSearches() {
        SearchSetup fusion = SearchSetup.of(ex, SearchKind.FUSION, List.of(0, 1), List.of(0, 1), Map.of());
        CandidateModels models = CandidateModels.of(fusion, SearchConfig.defaults());
        assertThrows(IllegalArgumentException.class, models::magnitudeControl);
    }
}
