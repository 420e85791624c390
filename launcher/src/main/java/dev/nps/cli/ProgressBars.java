package dev.nps.cli;

import dev.nps.workflow.Progress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Draws {@link Progress} as a terminal progress bar on stderr (nothing when quiet). */
final class ProgressBars implements Progress {
    private final boolean quiet;
    private ProgressBar bar;

    ProgressBars(boolean quiet) {
        this.quiet = quiet;
    }

    @Override
    public void start(String label, long total) {
        done();
        if (!quiet) {
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
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
