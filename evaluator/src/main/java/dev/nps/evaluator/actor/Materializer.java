package dev.nps.evaluator.actor;

import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.TaskMask;
import dev.nps.storage.FloatTensor;
import dev.nps.storage.ParameterSet;
import dev.nps.kernels.subspace.SubspaceMask;
import dev.nps.kernels.subspace.SubspacePartition;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a {@link CandidateSpec} into model parameters, theta = base + sum over its tasks of
 * lambda_t * scale_t[s] * mask_t ⊙ tau_t, in one pass over each task vector and into buffers
 * allocated once: {@link #materialize} always returns the same {@link ParameterSet}, whose
 * arrays it overwrites. Callers copy it out (ModelScorer.load does) before the next call.
 * Contributions are added in the spec's task order, each rounded to float32 once. Where the
 * node holds a task's {@link dev.nps.kernels.subspace.RankedEntries}, only its kept entries are
 * touched (a copy of the base plus scatter-adds), bit-identical to the one pass over every entry.
 *
 * <p>Not thread-safe: one per evaluator.
 */
public final class Materializer {
    private final SearchData data;
    private final float[][] base;
    private final float[][] out;
    private final float[][][] taskOut;  // per task: the out arrays of its tau's tensors, in tau order
    private final float[][][] tauFlat;  // per task: its task vector, flattened
    private final ParameterSet view;

    public Materializer(SearchData data) {
        this.data = data;
        this.base = data.base().flatView();
        Map<String, Integer> index = new TreeMap<>();
        Map<String, FloatTensor> tensors = new TreeMap<>();
        out = new float[base.length][];
        int p = 0;
        for (Map.Entry<String, FloatTensor> e : data.base().asMap().entrySet()) {
            out[p] = new float[base[p].length];
            index.put(e.getKey(), p);
            tensors.put(e.getKey(), new FloatTensor(e.getValue().shape(), out[p]));
            p++;
        }
        int tasks = data.taus().size();
        taskOut = new float[tasks][][];
        tauFlat = new float[tasks][][];
        for (int t : data.partitions().keySet()) {
            ParameterSet tau = data.taus().get(t);
            tauFlat[t] = tau.flatView();
            taskOut[t] = new float[tauFlat[t].length][];
            int q = 0;
            for (String name : tau.names()) {
                Integer at = index.get(name);
                if (at == null) {
                    throw new IllegalArgumentException("task vector " + t + " has parameter '" + name + "' that the base lacks");
                }
                taskOut[t][q++] = out[at];
            }
        }
        data.carried().asMap().forEach(tensors::putIfAbsent);
        view = new ParameterSet(tensors);
    }

    /** The candidate's parameters (base names plus carried ones); valid until the next call. */
    public ParameterSet materialize(CandidateSpec spec) {
        SubspaceMask[] masks = new SubspaceMask[spec.getTasksCount()];
        for (int i = 0; i < masks.length; i++) {
            masks[i] = mask(data, spec.getTasks(i)); // validate everything before touching the buffers
        }
        for (int p = 0; p < base.length; p++) {
            System.arraycopy(base[p], 0, out[p], 0, base[p].length);
        }
        for (int i = 0; i < masks.length; i++) {
            TaskMask tm = spec.getTasks(i);
            double[] scales = tm.getScalesCount() == 0 ? null
                    : tm.getScalesList().stream().mapToDouble(Double::doubleValue).toArray();
            masks[i].addMasked(taskOut[tm.getTask()], tauFlat[tm.getTask()], tm.getLambda(), scales,
                    data.ranked().get(tm.getTask()));
        }
        return view;
    }

    /** The mask a task entry describes, checked against this node's partition of that task. */
    public static SubspaceMask mask(SearchData data, TaskMask tm) {
        SubspacePartition part = data.partition(tm.getTask());
        int m = part.subspaces();
        if (tm.getKeptCount() != m + 1) {
            throw new IllegalArgumentException("task " + tm.getTask() + ": expected " + (m + 1) + " kept counts (subspaces 0.."
                    + m + "), got " + tm.getKeptCount());
        }
        if (tm.getScalesCount() != 0 && tm.getScalesCount() != m + 1) {
            throw new IllegalArgumentException("task " + tm.getTask() + ": expected 0 or " + (m + 1) + " scales, got "
                    + tm.getScalesCount());
        }
        if (!Double.isFinite(tm.getLambda())) {
            throw new IllegalArgumentException("task " + tm.getTask() + ": lambda must be finite, got " + tm.getLambda());
        }
        long[] kept = new long[m + 1];
        for (int s = 0; s <= m; s++) {
            kept[s] = tm.getKept(s);
        }
        return part.maskFromCounts(kept);
    }
}
