package dev.nps.coordinator;

import com.typesafe.config.ConfigFactory;
import dev.nps.evaluator.actor.SearchData;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The searches of one command on this JVM, in one actor system for all of them (a command such as
 * {@code merge --method nps --keep auto} runs about thirty): each search is a host actor with its
 * evaluators and coordinator, the same actors {@link NpsSearch#run} starts in a system of its own,
 * so results are bit-identical; starting and stopping a system per search cost 40-60 ms each.
 */
public final class EmbeddedSearches implements SearchRunner, AutoCloseable {
    private final ActorSystem<Void> system;
    private final AtomicLong searches = new AtomicLong();

    /** @param evaluators threads of the evaluator pool: the most evaluators a search of this command runs */
    public EmbeddedSearches(int evaluators) {
        this.system = ActorSystem.create(Behaviors.empty(), "nps-search",
                NpsSearch.pekkoConfig(Math.max(1, evaluators)).withFallback(ConfigFactory.load()));
    }

    @Override
    public SearchResult run(SearchSetup setup, SearchConfig config, SearchListener listener, SearchJournal journal) {
        SearchData data = NpsSearch.searchData(setup, config);
        SearchSpace space = NpsSearch.space(setup, config, data);
        NpsSearch.checkResume(journal, space, config);
        BatchOrder order = new BatchOrder(data.evalTasks(), setup.scoreWeights());
        CompletableFuture<SearchResult> result = new CompletableFuture<>();
        system.systemActorOf(NpsSearch.once(NpsSearch.host(data, space, order, config, listener, journal, result,
                UUID.randomUUID().toString())), "search-" + searches.incrementAndGet(), Props.empty());
        return SearchCompletion.await(result, system,
                        "the searches' actor system stopped before the search ended (a fatal error on one of its threads)")
                .withEvaluatorCost(data.cost().snapshot());
    }

    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            // every result is known; a slow shutdown changes none
        }
    }
}
