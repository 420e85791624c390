package dev.nps.evaluator;

/** A bad model, dataset or option for scoring: the message is one line a user can act on. */
public class EvaluatorException extends RuntimeException {
    public EvaluatorException(String message) {
        super(message);
    }

    public EvaluatorException(String message, Throwable cause) {
        super(message, cause);
    }
}
