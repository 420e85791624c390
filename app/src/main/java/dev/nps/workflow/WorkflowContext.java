package dev.nps.workflow;

import dev.nps.coordinator.SearchListener;
import dev.nps.coordinator.SearchRunner;
import dev.nps.experiment.Experiment;
import dev.nps.experiment.Progress;
import dev.nps.result.OutputDirectory;

/**
 * Where a workflow runs: the loaded experiment, the folder it writes, the progress display, the
 * listener of its searches and the runner they go through (embedded, a cluster, journaled). The
 * CLI and served runs build one per command; a workflow is then its own plan over it.
 */
public record WorkflowContext(Experiment experiment, OutputDirectory out, Progress progress, SearchListener listener,
                              SearchRunner searches) {
    /** Searches embedded in this JVM, no progress display, no listener (tests, one-off calls). */
    public static WorkflowContext embedded(Experiment experiment, OutputDirectory out) {
        return new WorkflowContext(experiment, out, Progress.NONE, SearchListener.NONE, SearchRunner.EMBEDDED);
    }
}
