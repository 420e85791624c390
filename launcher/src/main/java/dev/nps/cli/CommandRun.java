package dev.nps.cli;

import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchRunner;
import dev.nps.evaluator.ScoringPlan;
import dev.nps.result.OutputDirectory;
import dev.nps.result.RunResult;
import dev.nps.spec.ExperimentSpec;
import dev.nps.experiment.Experiment;
import dev.nps.workflow.WorkflowContext;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The one shape of every command that writes a result: load the spec (and check it), prepare
 * {@code --out}, open the experiment (and, for a search, its backend and journal), run the
 * workflow, print one summary line naming result.json. The commands keep only their options, their
 * workflow call and their summary.
 */
final class CommandRun {
    @FunctionalInterface
    interface Workflow {
        RunResult run(WorkflowContext c);
    }

    private CommandRun() {
    }

    /**
     * A search command: the searches run on {@code search}'s backend (embedded or a cluster),
     * journaled into {@code out} so that a rerun resumes; the summary is printed with the path of
     * result.json appended.
     */
    static int search(CommandSpec command, RuntimeOptions runtime, SearchOptions search, ScoringPlan plan, Path out,
                      Consumer<ExperimentSpec> check, Workflow workflow, Function<RunResult, String> summary) {
        ExperimentSpec spec = runtime.loadSpec();
        check.accept(spec);
        OutputDirectory dir = OutputDirectory.prepare(out, spec.inputs());
        ProgressBars progress = runtime.progress();
        try (SearchBackend backend = SearchBackend.open(search, runtime, plan); Experiment ex = runtime.loadExperiment(spec, plan)) {
            SearchListener listener = search.listener(runtime.quiet, progress);
            SearchRunner runner = backend.durableRunner(dir, RunIdentity.of(command, spec, runtime.spec), runtime.quiet);
            RunResult r = workflow.run(new WorkflowContext(ex, dir, progress, listener, runner));
            backend.succeeded();
            print(summary.apply(r), dir);
        } finally {
            progress.done();
        }
        return 0;
    }

    /** A command without a search (evaluation, the classic merges): one session, nothing journaled. */
    static int plain(RuntimeOptions runtime, Path out, Workflow workflow, Function<RunResult, String> summary) {
        ExperimentSpec spec = runtime.loadSpec();
        OutputDirectory dir = OutputDirectory.prepare(out, spec.inputs());
        ProgressBars progress = runtime.progress();
        try (Experiment ex = runtime.loadExperiment(spec)) {
            RunResult r = workflow.run(new WorkflowContext(ex, dir, progress, SearchListener.NONE, SearchRunner.EMBEDDED));
            print(summary.apply(r), dir);
        } finally {
            progress.done();
        }
        return 0;
    }

    private static void print(String summary, OutputDirectory dir) {
        if (ServedCommands.current() != null) { // on a serving node: one of its console lines (JSON in JSON mode)
            dev.nps.cluster.Console.say("run %s: %s -> %s", org.slf4j.MDC.get("run"), summary.replaceFirst("^nps: ", ""),
                    dir.resolve("result.json"));
            return;
        }
        System.out.println(summary + " -> " + dir.resolve("result.json"));
    }
}
