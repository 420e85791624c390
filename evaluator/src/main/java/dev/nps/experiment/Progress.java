package dev.nps.experiment;

/** Progress of a long step, drawn by the CLI as a progress bar. */
public interface Progress {
    Progress NONE = new Progress() {
        @Override
        public void start(String label, long total) {
        }

        @Override
        public void step() {
        }

        @Override
        public void done() {
        }
    };

    void start(String label, long total);

    void step();

    void done();
}
