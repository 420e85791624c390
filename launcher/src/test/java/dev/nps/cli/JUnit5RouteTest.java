package dev.nps.cli;

import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.server.RouteResult;
import org.apache.pekko.http.javadsl.testkit.RouteTest;
import org.apache.pekko.http.javadsl.testkit.TestRouteResult;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.Assertions;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;

/** pekko-http's route testkit with JUnit 5 assertions (its JUnitRouteTest is JUnit 4's). */
abstract class JUnit5RouteTest extends RouteTest {
    /** The actor system routes run on. */
    protected abstract ActorSystem actorSystem();

    @Override
    public ActorSystem system() {
        return actorSystem();
    }

    @Override
    public Materializer materializer() {
        return Materializer.matFromSystem(actorSystem());
    }

    @Override
    public FiniteDuration awaitDuration() {
        return FiniteDuration.apply(60, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Override
    public TestRouteResult createTestRouteResultAsync(HttpRequest request, Future<RouteResult> result) {
        return new TestRouteResult(result, awaitDuration(), system().dispatcher(), materializer()) {
            @Override
            public void fail(String message) {
                Assertions.fail(message);
            }

            @Override
            public void assertEquals(Object expected, Object actual, String message) {
                Assertions.assertEquals(expected, actual, message);
            }

            @Override
            public void assertEquals(int expected, int actual, String message) {
                Assertions.assertEquals(expected, actual, message);
            }

            @Override
            public void assertTrue(boolean predicate, String message) {
                Assertions.assertTrue(predicate, message);
            }
        };
    }
}
