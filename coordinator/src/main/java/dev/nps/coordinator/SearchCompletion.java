package dev.nps.coordinator;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The one place a search's result is awaited, embedded or on a cluster. The wait ends when the
 * result is complete, when the actor system the search runs in stops (a fatal error on one of its
 * threads terminates it; a downed cluster node shuts it down; seen within 100 ms), or when the
 * waiting thread is interrupted: never later. Fatal errors inside the search's own actors fail the result directly
 * ({@link FatalErrorGuard}).
 */
public final class SearchCompletion {
    private SearchCompletion() {
    }

    /**
     * @param ifSystemStops the one-line message when {@code system} stops before the result is in
     * @throws SearchException (or the search's own RuntimeException) if the search failed
     */
    public static <T> T await(CompletableFuture<T> result, ActorSystem<?> system, String ifSystemStops) {
        // Polled, not a callback on the system's termination: a long-lived cluster node runs search after
        // search, and every callback would keep its search's result until the node stops.
        CompletableFuture<?> terminated = system.getWhenTerminated().toCompletableFuture();
        try {
            while (true) {
                try {
                    return result.get(100, TimeUnit.MILLISECONDS); // interruptible, unlike join: a test timeout or Ctrl-C ends the wait
                } catch (TimeoutException e) {
                    if (terminated.isDone()) {
                        result.completeExceptionally(new SearchException(ifSystemStops));
                    }
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new SearchException("search failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SearchException("interrupted while the search ran", e);
        }
    }
}
