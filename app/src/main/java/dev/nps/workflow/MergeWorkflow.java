package dev.nps.workflow;

import dev.nps.experiment.Experiment;
import dev.nps.experiment.Progress;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nps.evaluator.Score;
import dev.nps.kernels.merge.MergeMethod;
import dev.nps.result.OutputDirectory;
import dev.nps.result.RunResult;
import dev.nps.storage.ParameterSet;
import dev.nps.storage.onnx.OnnxModel;
import dev.nps.storage.safetensors.SafetensorsWriter;
import dev.nps.experiment.Experiment.Split;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * The classic weight-space merges of a spec, with hyper-parameters either given or chosen on the
 * calibration data (never the test data) over grids at least as wide as the paper's.
 */
public final class MergeWorkflow {

    /** Which merge; TIES-based DARE uses {@link #dareBase}. */
    public enum Method { TA, TIES, DARE, CONSENSUS, AVERAGE }

    /**
     * What the user asked for. An empty keep/lambda/drop means "choose on calibration data".
     */
    public record Request(Method method, OptionalDouble keep, OptionalDouble lambda, OptionalDouble drop,
                          Method dareBase, long seed, int consensusK, double maskLambda) {
        public Request {
            if (dareBase != Method.TA && dareBase != Method.TIES) {
                throw new IllegalArgumentException("DARE combines with ta or ties, not " + dareBase);
            }
            keep.ifPresent(k -> {
                if (!(k > 0 && k <= 1)) {
                    throw new IllegalArgumentException("keep must be in (0, 1], got " + k);
                }
            });
            lambda.ifPresent(l -> {
                if (!Double.isFinite(l)) {
                    throw new IllegalArgumentException("lambda must be finite, got " + l);
                }
            });
            drop.ifPresent(p -> {
                if (!(p >= 0 && p < 1)) {
                    throw new IllegalArgumentException("drop rate must be in [0, 1), got " + p);
                }
            });
            if (consensusK < 1) {
                throw new IllegalArgumentException("consensus k must be >= 1, got " + consensusK);
            }
            if (!(maskLambda >= 0) || !Double.isFinite(maskLambda)) {
                throw new IllegalArgumentException("mask lambda must be finite and >= 0, got " + maskLambda);
            }
        }

        /** Every hyper-parameter chosen on calibration data; DARE over TA, seed 0, the Consensus defaults. */
        public static Request auto(Method method) {
            return new Request(method, OptionalDouble.empty(), OptionalDouble.empty(), OptionalDouble.empty(), Method.TA, 0,
                    CONSENSUS_K, MASK_LAMBDA);
        }

        public Request withKeep(double k) {
            return new Request(method, OptionalDouble.of(k), lambda, drop, dareBase, seed, consensusK, maskLambda);
        }

        public Request withDrop(double p) {
            return new Request(method, keep, lambda, OptionalDouble.of(p), dareBase, seed, consensusK, maskLambda);
        }
    }

    /** Consensus (TALL) defaults: tasks that must agree, and the mask's lambda_t. */
    public static final int CONSENSUS_K = 2;
    public static final double MASK_LAMBDA = 0.4;

    /** Lambda grid of Task Arithmetic (and Consensus, DARE-TA): 0.1..1.5 step 0.1, as in the paper. */
    public static final double[] TA_LAMBDAS = grid(0.1, 1.5);
    /** Lambda grid of TIES: 0.1..2.5 step 0.1, wider than the paper's 0.8..2.5 (too high for some zoos). */
    public static final double[] TIES_LAMBDAS = grid(0.1, 2.5);
    public static final double[] TIES_KEEPS = {0.05, 0.1, 0.2};
    public static final double[] DARE_DROPS = {0.1, 0.3, 0.5, 0.7, 0.9};
    /** Keep rate of DARE-TIES when neither given nor searched. */
    public static final double DARE_TIES_KEEP = 0.2;

    private static double[] grid(double from, double to) {
        int n = (int) Math.round((to - from) / 0.1) + 1;
        double[] g = new double[n];
        for (int i = 0; i < n; i++) {
            g[i] = Math.round((from + 0.1 * i) * 10) / 10.0;
        }
        return g;
    }

    /** One point of the search: a merge with lambda = 1 (the merged task vector) and the lambdas to try on it. */
    private record Family(Map<String, Double> params, MergeMethod unitMethod, double[] lambdas) {
    }

    private record Choice(Map<String, Double> params, double lambda, ParameterSet delta, double calibrationMean) {
    }

    private MergeWorkflow() {
    }

    /**
     * A merged model with its hyper-parameters as chosen: base + lambda * merged task vector.
     *
     * @param calibrationMean the chosen point's mean calibration accuracy (NaN when nothing was searched)
     * @param grid            every grid point's calibration score, or null when nothing was searched
     */
    public record Tuned(Map<String, Double> params, double lambda, ParameterSet theta, double calibrationMean,
                        ArrayNode grid) {
    }

    /** The request's merge with any "auto" hyper-parameter chosen on calibration data; writes nothing. */
    public static Tuned tune(Experiment ex, Request req, Progress progress) {
        List<Family> families = families(req, ex.taskCount());
        long points = families.stream().mapToLong(f -> f.lambdas().length).sum();
        Choice chosen;
        ArrayNode grid = null;
        if (points == 1) {
            Family f = families.getFirst();
            chosen = new Choice(f.params(), f.lambdas()[0], mergedTaskVector(ex, f), Double.NaN);
        } else {
            grid = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
            chosen = select(ex, families, points, grid, progress);
        }
        // The model written is exactly the one scored during selection: base + lambda * merged.
        ParameterSet theta = MergeMethod.plusScaled(ex.base(), chosen.delta(), chosen.lambda());
        return new Tuned(chosen.params(), chosen.lambda(), theta, chosen.calibrationMean(), grid);
    }

    public static RunResult run(WorkflowContext context, Request req) {
        Experiment ex = context.experiment();
        OutputDirectory out = context.out();
        Progress progress = context.progress();
        long t0 = System.nanoTime();
        Tuned chosen = tune(ex, req, progress);
        ArrayNode grid = chosen.grid();
        ParameterSet theta = chosen.theta();
        RunResult result;
        List<Score> reference = Evaluations.finetunedScores(ex, Split.TEST, progress);
        List<Score> scores = Evaluations.scoreModel(ex, theta, Split.TEST, "merged model (test)", progress);

        Double keep = chosen.params().get("keep");
        Double lambda = req.method() == Method.AVERAGE ? 1.0 / ex.taskCount() : chosen.lambda();
        result = new RunResult("merge", ex.spec().file().toString(), methodName(req), keep, lambda)
                .tasks(Evaluations.taskResults(ex, scores, reference));
        ObjectNode params = result.section("parameters");
        chosen.params().forEach(params::put);
        if (req.method() == Method.DARE) {
            params.put("seed", req.seed());
            params.put("dareBase", req.dareBase().name().toLowerCase());
        }
        if (req.method() == Method.CONSENSUS) {
            params.put("k", req.consensusK());
            params.put("maskLambda", req.maskLambda());
        }
        if (grid != null) {
            ObjectNode sel = result.section("selection");
            sel.put("split", "calibration");
            sel.put("criterion", "mean calibration accuracy over tasks; ties go to the earlier grid point");
            sel.put("calibrationMeanAccuracy", chosen.calibrationMean());
            sel.set("grid", grid);
        }
        ParameterSet model = ex.complete(theta);
        SafetensorsWriter.write(out.resolve("model.safetensors"), model,
                Map.of("nps.command", "merge", "nps.method", methodName(req)));
        OnnxModel.load(ex.spec().graph()).withInitializers(model).write(out.resolve("model.onnx"));
        ObjectNode files = result.section("outputs");
        files.put("safetensors", "model.safetensors");
        files.put("onnx", "model.onnx");
        result.wallSeconds((System.nanoTime() - t0) / 1e9);
        Evaluations.recordScoring(ex, result);
        result.writeTo(out);
        return result;
    }

    private static String methodName(Request req) {
        return req.method() == Method.DARE ? "dare-" + req.dareBase().name().toLowerCase() : req.method().name().toLowerCase();
    }

    /** The hyper-parameter families to search; lambda lists hold one value when lambda is given. */
    private static List<Family> families(Request req, int tasks) {
        List<Family> out = new ArrayList<>();
        switch (req.method()) {
            case TA -> out.add(family(req, Map.of(), TA_LAMBDAS));
            case CONSENSUS -> out.add(family(req, Map.of(), TA_LAMBDAS));
            case AVERAGE -> out.add(new Family(Map.of(), new MergeMethod.Average(), new double[] {1.0}));
            case TIES -> {
                for (double k : req.keep().isPresent() ? new double[] {req.keep().getAsDouble()} : TIES_KEEPS) {
                    out.add(family(req, Map.of("keep", k), TIES_LAMBDAS));
                }
            }
            case DARE -> {
                double[] drops = req.drop().isPresent() ? new double[] {req.drop().getAsDouble()} : DARE_DROPS;
                for (double p : drops) {
                    if (req.dareBase() == Method.TA) {
                        out.add(family(req, Map.of("drop", p), TA_LAMBDAS));
                    } else {
                        double keep = req.keep().orElse(DARE_TIES_KEEP);
                        out.add(family(req, Map.of("drop", p, "keep", keep), TIES_LAMBDAS));
                    }
                }
            }
        }
        return out;
    }

    private static Family family(Request req, Map<String, Double> params, double[] defaultLambdas) {
        double[] lambdas = req.lambda().isPresent() ? new double[] {req.lambda().getAsDouble()} : defaultLambdas;
        return new Family(new TreeMap<>(params), mergeOf(req, params), lambdas);
    }

    /** The family's merge; only its merged task vector is used, so its own lambda is 1. */
    private static MergeMethod mergeOf(Request req, Map<String, Double> p) {
        return switch (req.method()) {
            case TA -> new MergeMethod.TaskArithmetic(1.0);
            case TIES -> new MergeMethod.Ties(p.get("keep"), 1.0);
            case CONSENSUS -> new MergeMethod.Consensus(req.consensusK(), req.maskLambda(), 1.0);
            case AVERAGE -> new MergeMethod.Average();
            case DARE -> new MergeMethod.Dare(p.get("drop"), req.seed(), req.dareBase() == Method.TA
                    ? new MergeMethod.TaskArithmetic(1.0) : new MergeMethod.Ties(p.get("keep"), 1.0));
        };
    }

    /** Scores every grid point on calibration data; the merged task vector is computed once per family. */
    private static Choice select(Experiment ex, List<Family> families, long points, ArrayNode grid, Progress progress) {
        progress.start("lambda search (calibration)", points * ex.taskCount());
        Choice best = null;
        for (Family f : families) {
            ParameterSet delta = mergedTaskVector(ex, f);
            for (double lambda : f.lambdas()) {
                ParameterSet theta = MergeMethod.plusScaled(ex.base(), delta, lambda);
                double mean = Evaluations.mean(ex.score(theta, Split.CALIBRATION, progress));
                ObjectNode row = grid.addObject();
                f.params().forEach(row::put);
                row.put("lambda", lambda);
                row.put("calibrationMeanAccuracy", mean);
                if (best == null || mean > best.calibrationMean()) {
                    best = new Choice(f.params(), lambda, delta, mean);
                }
            }
        }
        progress.done();
        return best;
    }

    /** The family's merged task vector tau_m (theta = base + lambda * tau_m). */
    private static ParameterSet mergedTaskVector(Experiment ex, Family f) {
        return f.unitMethod().mergedTaskVector(ex.taus());
    }

}
