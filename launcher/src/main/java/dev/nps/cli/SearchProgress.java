package dev.nps.cli;

import dev.nps.coordinator.GenerationStats;
import dev.nps.coordinator.SearchListener;
import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A command's searches as a person reads them: on a terminal one live line per search (a bar over
 * its generations with best, mean and skipped share), left as its summary when the search ends;
 * elsewhere (a log, a pipe) one line per search when it ends. A search resumed from a journal
 * starts at its first generation not kept; searches the journal holds as finished show nothing.
 */
final class SearchProgress implements SearchListener, AutoCloseable {
    private final int generations;
    private final boolean terminal;
    private final PrintStream out;
    private ProgressBar bar;
    private int search;        // searches shown so far
    private int last;          // last generation told of the open search, 0 when none is open
    private double best;       // best calibration accuracy of the open search so far

    SearchProgress(int generations, boolean terminal, PrintStream out) {
        this.generations = generations;
        this.terminal = terminal;
        this.out = out;
    }

    /** Bars on a terminal, lines elsewhere, on stderr. */
    static SearchProgress onStderr(int generations) {
        java.io.Console c = System.console();
        return new SearchProgress(generations, c != null && c.isTerminal(), System.err);
    }

    @Override
    public void onGeneration(GenerationStats g) {
        if (last == 0 || g.generation() <= last) {
            close(); // a new search (the previous one, if still open, ended early)
            search++;
            best = Double.NEGATIVE_INFINITY;
            if (terminal) {
                bar = new ProgressBarBuilder().setTaskName("search " + search).setInitialMax(generations)
                        .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).continuousUpdate()
                        .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(out)).startsFrom(g.generation() - 1,
                                java.time.Duration.ZERO).build();
            }
        }
        last = g.generation();
        best = Math.max(best, g.bestAccuracy());
        String status = String.format(Locale.ROOT, "best %.4f, generation best %.4f, mean %.4f, sigma %.3g, skipped %.0f%%",
                best, g.bestAccuracy(), g.meanAccuracy(), g.sigma(), 100 * g.skippedShare());
        if (bar != null) { // short: a terminal line is narrow
            bar.stepTo(g.generation());
            bar.setExtraMessage(String.format(Locale.ROOT, "best %.4f mean %.4f skip %.0f%%", best, g.meanAccuracy(),
                    100 * g.skippedShare()));
        }
        if (g.generation() >= generations) {
            if (bar == null) {
                out.printf(Locale.ROOT, "search %d: %d generations: %s%n", search, generations, status);
            }
            close();
        }
    }

    /** Ends the open search's line, if any. */
    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
        last = 0;
    }
}
