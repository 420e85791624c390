package dev.nps.cli;

import dev.nps.evaluator.EvaluatorException;
import dev.nps.result.OutputException;
import dev.nps.spec.SpecException;
import dev.nps.storage.StorageException;

/** Maps exceptions to the one-line messages and exit codes the CLI promises. */
final class Errors {
    private Errors() {
    }

    static boolean isBadInput(Throwable e) {
        return e instanceof StorageException || e instanceof SpecException || e instanceof EvaluatorException
                || e instanceof OutputException || e instanceof IllegalArgumentException;
    }

    static String oneLine(Throwable e) {
        String msg = e.getMessage();
        if (msg == null || msg.isBlank()) {
            msg = e.getClass().getSimpleName();
        }
        if (!isBadInput(e) && !(e instanceof java.io.UncheckedIOException) && !(e instanceof dev.nps.run.JournalException)) {
            msg = e.getClass().getSimpleName() + ": " + msg;
        }
        return msg.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
