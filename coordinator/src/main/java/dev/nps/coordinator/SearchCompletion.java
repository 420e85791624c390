package dev.nps.coordinator;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The one place a search's result is awaited, embedded or on a cluster. The wait ends when the
 * result is complete, when the actor system the search runs in stops (a fatal error on one of its
 * threads terminates it; a downed cluster node shuts it down), or when the waiting thread is
 * interrupted: never later. Fatal errors inside the search's own actors fail the result directly
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
        system.getWhenTerminated().thenRun(() -> result.completeExceptionally(new SearchException(ifSystemStops)));
        try {
            return result.get(); // interruptible, unlike join: a test timeout or Ctrl-C ends the wait
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
