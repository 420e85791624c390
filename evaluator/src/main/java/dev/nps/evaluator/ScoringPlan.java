package dev.nps.evaluator;

/**
 * How a run spreads scoring over the cores it has: evaluators (each scores one batch at a time in
 * its own ONNX Runtime session) x intra-op threads per evaluator = the cores. A pure function of the
 * run's facts (cores, requested counts), never of timing or load, so a seed's result cannot depend on
 * the machine's load; and evaluator counts never change a result (integer counts, exact abort).
 *
 * <p>The rule, calibrated once (BENCHMARKS.md, "Scoring at the machine's limit"): with neither count
 * given, one intra-op thread per evaluator and one evaluator per core, because batches are
 * independent work units and one thread per operator avoids ONNX Runtime's per-operator fork/join
 * (on the medium MLP, 2 x 1 halved the lambda search's time against 1 x 1). A given count is kept and
 * the other fills the remaining cores. A command without a search (eval) has one session: all the
 * cores go to its intra-op threads. The batch size is the spec's: a different batch size may change
 * logits in the last bits (other GEMM blockings) and so a trajectory, hence it is never chosen here.
 *
 * @param evaluators          evaluator actors on this node
 * @param threadsPerEvaluator intra-op threads of each evaluator's session
 * @param cores               the cores (or configured CPU slots) the rule filled
 * @param rule                which case of the rule applied, for result.json
 */
public record ScoringPlan(int evaluators, int threadsPerEvaluator, int cores, String rule) {

    public ScoringPlan {
        if (evaluators < 1 || threadsPerEvaluator < 1 || cores < 1) {
            throw new IllegalArgumentException("a scoring plan needs >= 1 evaluator, thread and core");
        }
    }

    /**
     * The plan for a search on {@code cores} cores; {@code evaluators} and {@code threads} are the
     * requested counts, 0 where not given. Requests above the cores are the caller's to refuse.
     */
    public static ScoringPlan forSearch(int cores, int evaluators, int threads) {
        if (evaluators > 0 && threads > 0) {
            return new ScoringPlan(evaluators, threads, cores, "given");
        }
        if (evaluators > 0) {
            return new ScoringPlan(evaluators, Math.max(1, cores / evaluators), cores, "threads = cores / evaluators");
        }
        if (threads > 0) {
            return new ScoringPlan(Math.max(1, cores / threads), threads, cores, "evaluators = cores / threads");
        }
        return new ScoringPlan(cores, 1, cores, "one evaluator per core, 1 intra-op thread each");
    }

    /** The plan for one session scoring alone (eval): every core to its intra-op threads unless given. */
    public static ScoringPlan forSingleSession(int cores, int threads) {
        return threads > 0 ? new ScoringPlan(1, threads, cores, "given")
                : new ScoringPlan(1, cores, cores, "one session, intra-op threads = cores");
    }

    /** This node's cores as the JVM sees them (cgroup CPU quota included). */
    public static int machineCores() {
        return Runtime.getRuntime().availableProcessors();
    }
}
