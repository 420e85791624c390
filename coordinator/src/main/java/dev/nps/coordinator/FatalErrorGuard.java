package dev.nps.coordinator;

import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Turns an {@link Error} thrown inside a search actor (OutOfMemoryError, StackOverflowError, a
 * LinkageError...) into the end of the search: the awaited result fails with one line naming the
 * error, and the actor stops. Pekko would otherwise print the error and its stack trace to stderr
 * and terminate the actor system, leaving the caller waiting for a result that never comes
 * (searches also complete their result when the system terminates, for errors outside our actors).
 * Exceptions are left to Pekko's supervision, as before.
 */
final class FatalErrorGuard<T> extends BehaviorInterceptor<T, T> {
    private final CompletableFuture<?> result;
    private final String actor;

    private FatalErrorGuard(Class<T> type, CompletableFuture<?> result, String actor) {
        super(type);
        this.result = result;
        this.actor = actor;
    }

    static <T> Behavior<T> guard(Class<T> type, Behavior<T> behavior, CompletableFuture<?> result, String actor) {
        return Behaviors.intercept(() -> new FatalErrorGuard<>(type, result, actor), behavior);
    }

    @Override
    public Behavior<T> aroundStart(TypedActorContext<T> ctx, PreStartTarget<T> target) {
        try {
            return target.start(ctx);
        } catch (Error e) {
            return fail(e);
        }
    }

    @Override
    public Behavior<T> aroundReceive(TypedActorContext<T> ctx, T msg, ReceiveTarget<T> target) {
        try {
            return target.apply(ctx, msg);
        } catch (Error e) {
            return fail(e);
        }
    }

    @Override
    public Behavior<T> aroundSignal(TypedActorContext<T> ctx, Signal signal, SignalTarget<T> target) {
        try {
            return target.apply(ctx, signal);
        } catch (Error e) {
            return fail(e);
        }
    }

    private Behavior<T> fail(Error e) {
        result.completeExceptionally(stopped(e, actor));
        return Behaviors.stopped();
    }

    /** The one line a fatal error in {@code actor} ends a search with. */
    static SearchException stopped(Throwable e, String actor) {
        String msg = e.getMessage() == null ? "" : ": " + e.getMessage().replaceAll("\\s*\\R\\s*", " ");
        return new SearchException("search stopped by a fatal error in " + actor + ": " + e.getClass().getSimpleName() + msg
                + (e instanceof OutOfMemoryError ? " (give the JVM more memory, e.g. NPS_JAVA_OPTS=-Xmx16g for ./nps, or use fewer evaluators)" : ""), e);
    }
}
