package dev.nps.coordinator;

import dev.nps.protocol.TaskMask;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.subspace.SubspacePartition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * TIES' sign election over fixed masks: the elected sign of entry d is sign(sum_t m_t[d] * s_t * tau_t[d])
 * (s_t the REWEIGHT scale, lambda-free as in TIES), and each task keeps only the entries that agree
 * with it. The per-task lambdas of the fusion search then replace TIES' disjoint mean.
 */
final class SignElection {
    private SignElection() {
    }

    /**
     * The task vectors with every entry zeroed whose sign differs from the elected one (zero-sum
     * entries elect no sign and are dropped everywhere). Tasks outside {@code masks} are unchanged.
     * Masks stay the counts of the unfiltered vectors; a zeroed entry tied at a subspace's threshold no
     * longer takes a tie slot, so the next tied entry may (it contributes its agreeing value, or zero).
     */
    static List<ParameterSet> filter(List<ParameterSet> taus, List<TaskMask> masks,
                                     Map<Integer, SubspacePartition> partitions) {
        ParameterSet first = taus.get(masks.getFirst().getTask());
        float[][] sum = first.map(a -> new float[a.length]).flatView();
        for (TaskMask tm : masks) { // task order: the float sums do not depend on threads or timing
            ParameterSet tau = taus.get(tm.getTask());
            if (!tau.names().equals(first.names())) {
                throw new IllegalArgumentException("sign election needs task vectors over the same parameters");
            }
            double[] scales = tm.getScalesCount() == 0 ? null
                    : tm.getScalesList().stream().mapToDouble(Double::doubleValue).toArray();
            long[] kept = tm.getKeptList().stream().mapToLong(Long::longValue).toArray();
            partitions.get(tm.getTask()).maskFromCounts(kept).addMasked(sum, tau.flatView(), 1.0, scales);
        }
        List<ParameterSet> out = new ArrayList<>(taus);
        for (TaskMask tm : masks) {
            ParameterSet tau = taus.get(tm.getTask());
            float[][] src = tau.flatView();
            ParameterSet filtered = tau.map(a -> a.clone());
            float[][] dst = filtered.flatView();
            for (int p = 0; p < src.length; p++) {
                for (int i = 0; i < src[p].length; i++) {
                    if (Math.signum(src[p][i]) != Math.signum(sum[p][i])) {
                        dst[p][i] = 0f;
                    }
                }
            }
            out.set(tm.getTask(), filtered);
        }
        return out;
    }
}
