package dev.nps.cli;

import dev.nps.experiment.Progress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Draws {@link Progress} as a progress bar on stderr when it is a terminal (nothing when quiet, or in a log or pipe). */
final class ProgressBars implements Progress {
    private final boolean quiet;
    private ProgressBar bar;
    private final java.util.List<AutoCloseable> closing = new java.util.ArrayList<>();

    /** Closed by {@link #done()} too (a search's live line). */
    void closing(AutoCloseable c) {
        closing.add(c);
    }

    ProgressBars(boolean quiet) {
        this.quiet = quiet;
    }

    @Override
    public void start(String label, long total) {
        closeBar();
        java.io.Console console = System.console();
        if (!quiet && console != null && console.isTerminal()) { // in a log or a pipe, a bar is a stream of lines
            bar = new ProgressBarBuilder().setTaskName(label).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(200).continuousUpdate().build();
        }
    }

    @Override
    public void step() {
        if (bar != null) {
            bar.step();
        }
    }

    @Override
    public void done() {
        for (AutoCloseable c : closing) {
            try {
                c.close();
            } catch (Exception e) {
                // a display: nothing to recover
            }
        }
        closeBar();
    }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
