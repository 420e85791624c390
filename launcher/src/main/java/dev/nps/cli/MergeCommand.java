package dev.nps.cli;

import dev.nps.evaluator.ScoringPlan;
import dev.nps.workflow.MergeWorkflow;
import dev.nps.workflow.MergeWorkflow.Method;
import java.nio.file.Path;
import dev.nps.workflow.NpsWorkflow;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge every task of a spec into one model with a weight-space method; lambda (and TIES' keep,"
                + " DARE's drop rate) are chosen on calibration data unless given.")
final class MergeCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec command;


    @Mixin
    RuntimeOptions runtime;

    @Mixin
    SearchOptions search;

    @Option(names = "--no-control", description = "nps: skip the control run (same lambda search over plain magnitude masks)")
    boolean noControl;

    @Option(names = "--no-baselines", description = "nps: skip TA, TIES, DARE, Consensus and Average on the same spec")
    boolean noBaselines;

    @Option(names = "--sign-election", description = "nps: TIES-style sign election over the pruned task vectors before the lambda search")
    boolean signElection;

    @Option(names = "--per-task-lambda", description = "ta, ties: search one lambda per task by CMA-ES on calibration data,"
            + " as nps does (ties adds sign election over its top-k masks)")
    boolean perTaskLambda;

    @Option(names = "--method", required = true, paramLabel = "ta|ties|dare|consensus|average|nps", description = "merge method")
    String method;

    @Option(names = "--keep", defaultValue = "auto", paramLabel = "K|auto",
            description = "TIES / DARE-TIES / NPS: fraction of each task vector kept, in (0, 1]; auto chooses from {0.05, 0.1, 0.2}"
                    + " on calibration data")
    String keep;

    @Option(names = "--lambda", defaultValue = "auto", paramLabel = "L|auto",
            description = "scaling of the merged task vector; auto searches the grid on calibration data")
    String lambda;

    @Option(names = "--drop", defaultValue = "auto", paramLabel = "P|auto",
            description = "DARE drop probability in [0, 1); auto searches {0.1, 0.3, 0.5, 0.7, 0.9}")
    String drop;

    @Option(names = "--dare-base", defaultValue = "ta", paramLabel = "ta|ties", description = "what DARE feeds: ta or ties")
    String dareBase;

    @Option(names = "--consensus-k", defaultValue = "" + MergeWorkflow.CONSENSUS_K, paramLabel = "K", description = "Consensus: tasks that must agree")
    int consensusK;

    @Option(names = "--mask-lambda", defaultValue = "" + MergeWorkflow.MASK_LAMBDA, paramLabel = "L", description = "Consensus: TALL mask lambda_t")
    double maskLambda;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Override
    public Integer call() {
        if (method.equalsIgnoreCase("nps")) {
            return mergeNps();
        }
        Method m = parseMethod(method);
        if (signElection) {
            throw new IllegalArgumentException("--sign-election applies to --method nps (ties elects signs itself)");
        }
        if (perTaskLambda) {
            return mergePerTaskLambda(m);
        }
        MergeWorkflow.Request req = new MergeWorkflow.Request(m, optional("--keep", keep), optional("--lambda", lambda),
                optional("--drop", drop), parseMethod(dareBase), search.seed, consensusK, maskLambda);
        if (m != Method.TIES && m != Method.DARE && req.keep().isPresent()) {
            throw new IllegalArgumentException("--keep applies to ties and dare only");
        }
        return CommandRun.plain(runtime, out, c -> MergeWorkflow.run(c, req), r -> {
            var root = r.root();
            return String.format(Locale.ROOT, "%s: mean test accuracy %.4f (normalized %.4f), lambda %s%s",
                    root.get("method").asText(), root.get("meanAccuracy").asDouble(),
                    root.get("meanNormalizedAccuracy").asDouble(), root.get("lambda"),
                    (root.get("keep").isNull() ? "" : ", keep " + root.get("keep"))
                            + (root.path("parameters").has("drop") ? ", drop " + root.get("parameters").get("drop") : ""));
        });
    }

    private int mergeNps() {
        if (perTaskLambda) {
            throw new IllegalArgumentException("merge --method nps always searches one lambda per task; drop --per-task-lambda");
        }
        if (!lambda.equalsIgnoreCase("auto")) {
            throw new IllegalArgumentException("merge --method nps searches one lambda per task; --lambda does not apply");
        }
        List<Double> keeps = keeps();
        ScoringPlan plan = search.plan(runtime);
        var config = search.config(keeps.getFirst(), plan).withSignElection(signElection);
        return CommandRun.search(command, runtime, search, plan, out, spec -> { },
                c -> NpsWorkflow.merge(c, config, keeps, comparisons()),
                r -> {
                    var root = r.root();
                    String best = "";
                    if (root.has("baselines")) {
                        double top = -1;
                        for (var e : root.get("baselines").properties()) {
                            if (e.getValue().get("meanAccuracy").asDouble() > top) {
                                top = e.getValue().get("meanAccuracy").asDouble();
                                best = String.format(Locale.ROOT, "; best classic merge %s %.4f", e.getKey(), top);
                            }
                        }
                    }
                    return String.format(Locale.ROOT, "nps: mean test accuracy %.4f (normalized %.4f), keep %s%s%s",
                            root.get("meanAccuracy").asDouble(), root.get("meanNormalizedAccuracy").asDouble(), root.get("keep"),
                            root.has("control") ? String.format(Locale.ROOT, "; control (weights 1) %.4f",
                                    root.get("control").get("meanAccuracy").asDouble()) : "",
                            best);
                });
    }

    private int mergePerTaskLambda(Method m) {
        if (m != Method.TA && m != Method.TIES) {
            throw new IllegalArgumentException("--per-task-lambda applies to ta and ties, not " + method);
        }
        if (!lambda.equalsIgnoreCase("auto")) {
            throw new IllegalArgumentException("--per-task-lambda searches the lambdas; --lambda does not apply");
        }
        if (m == Method.TA && !keep.equalsIgnoreCase("auto")) {
            throw new IllegalArgumentException("--keep applies to ties and dare only");
        }
        List<Double> keeps = keeps();
        ScoringPlan plan = search.plan(runtime);
        var config = search.config(keeps.getFirst(), plan);
        return CommandRun.search(command, runtime, search, plan, out, spec -> { },
                c -> NpsWorkflow.perTaskLambda(c, m, config, keeps),
                r -> String.format(Locale.ROOT, "%s: mean test accuracy %.4f (normalized %.4f), lambdas %s%s",
                        r.root().get("method").asText(), r.root().get("meanAccuracy").asDouble(),
                        r.root().get("meanNormalizedAccuracy").asDouble(), r.root().get("lambdas"),
                        r.root().get("keep").isNull() ? "" : ", keep " + r.root().get("keep")));
    }

    private java.util.Set<NpsWorkflow.Comparison> comparisons() {
        java.util.Set<NpsWorkflow.Comparison> c = java.util.EnumSet.noneOf(NpsWorkflow.Comparison.class);
        if (!noControl) {
            c.add(NpsWorkflow.Comparison.CONTROL);
        }
        if (!noBaselines) {
            c.add(NpsWorkflow.Comparison.BASELINES);
        }
        return c;
    }

    /** The given keep, or the auto set. */
    private List<Double> keeps() {
        OptionalDouble k = optional("--keep", keep);
        if (k.isPresent() && !(k.getAsDouble() > 0 && k.getAsDouble() <= 1)) {
            throw new IllegalArgumentException("--keep must be in (0, 1], got " + keep);
        }
        return k.isPresent() ? List.of(k.getAsDouble()) : NpsWorkflow.AUTO_KEEPS;
    }

    static Method parseMethod(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "ta", "task-arithmetic" -> Method.TA;
            case "ties" -> Method.TIES;
            case "dare" -> Method.DARE;
            case "consensus", "tall" -> Method.CONSENSUS;
            case "average", "avg" -> Method.AVERAGE;
            default -> throw new IllegalArgumentException("unknown method '" + s + "' (ta, ties, dare, consensus, average)");
        };
    }

    /** A number, or empty for "auto"; anything else is a one-line error. */
    static OptionalDouble optional(String flag, String value) {
        if (value.equalsIgnoreCase("auto")) {
            return OptionalDouble.empty();
        }
        try {
            double d = Double.parseDouble(value);
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException(flag + " must be finite, got " + value);
            }
            return OptionalDouble.of(d);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a number or auto, got '" + value + "'");
        }
    }
}
