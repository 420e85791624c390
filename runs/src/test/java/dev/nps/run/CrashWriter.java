package dev.nps.run;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Child JVM of {@link JournalCrashTest}: persists {@link Counter} events into the H2 journal in
 * {@code args[0]} one at a time, printing "ACK n" once event n is acknowledged, until it is killed
 * (or 60 s pass, or its parent dies). Arguments: folder, persistence id, payload bytes.
 */
public final class CrashWriter {
    private CrashWriter() {
    }

    public static void main(String[] args) throws Exception {
        long parent = Long.parseLong(System.getProperty("nps.test.parent-pid", "-1"));
        ProcessHandle.of(parent).ifPresent(h -> h.onExit().thenRun(() -> Runtime.getRuntime().halt(3)));
        JournalStore store = JournalStore.h2(Path.of(args[0]));
        int payloadBytes = Integer.parseInt(args[2]);
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "crash-writer", TestStores.pekko(store));
        ActorRef<Counter.Command> counter = system.systemActorOf(Counter.create(args[1], 0), "counter",
                org.apache.pekko.actor.typed.Props.empty());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int i = 1; System.nanoTime() < deadline; i++) {
            int n = i;
            long seq = AskPattern.<Counter.Command, Long>ask(counter, r -> new Counter.Add(Counter.payload(n, payloadBytes), r),
                    Duration.ofSeconds(30), system.scheduler()).toCompletableFuture().get(30, TimeUnit.SECONDS);
            System.out.println("ACK " + seq);
            System.out.flush();
        }
        system.terminate();
    }
}
