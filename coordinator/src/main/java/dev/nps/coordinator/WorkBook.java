package dev.nps.coordinator;

import dev.nps.evaluator.actor.EvaluatorActor;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.WorkUnit;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Who serves one search and what each evaluator holds: the evaluators, those waiting for work (in
 * the order they asked, the order they are served), the candidate and the unreported positions of
 * each one's unit, and the attachment epoch its work must carry. An evaluator that is lost or
 * leaves is released in one call: the batches of its unit that never reported go back to the
 * front of their candidate's queue, and are counted through {@code redispatched}.
 */
final class WorkBook {
    private final String run;
    private final int batchesPerUnit;
    private final IntConsumer redispatched;
    private final Map<String, ActorRef<EvaluatorActor.Command>> evaluators = new HashMap<>();
    private final Map<ActorRef<EvaluatorActor.Command>, String> watched = new HashMap<>();
    private final LinkedHashSet<String> idle = new LinkedHashSet<>();
    private final Map<String, Integer> assigned = new HashMap<>();      // evaluator -> candidate index it works on
    private final Map<String, Integer> lastCandidate = new HashMap<>(); // evaluator -> last candidate index this generation
    private final Map<String, TreeSet<Integer>> inFlight = new HashMap<>(); // evaluator -> positions of its unit not yet reported
    private final Map<String, Long> epochs = new HashMap<>();          // evaluator -> attachment epoch of its last request
    private CandidateState[] candidates;                                // the running generation's; null between generations
    private int[] workers = new int[0];                                 // candidate index -> evaluators working on it

    WorkBook(String run, int batchesPerUnit, IntConsumer redispatched) {
        this.run = run;
        this.batchesPerUnit = batchesPerUnit;
        this.redispatched = redispatched;
    }

    boolean serves(String ev) {
        return evaluators.containsKey(ev);
    }

    ActorRef<EvaluatorActor.Command> ref(String ev) {
        return evaluators.get(ev);
    }

    /** Adds an evaluator; {@code watch}: the caller watches it, and {@link #watchedName} finds it on Terminated. */
    void join(String ev, ActorRef<EvaluatorActor.Command> ref, boolean watch) {
        evaluators.put(ev, ref);
        if (watch) {
            watched.put(ref, ev);
        }
    }

    /** The name of a watched evaluator, null if {@code ref} is none. */
    String watchedName(ActorRef<?> ref) {
        return watched.get(ref);
    }

    /** {@code ev} asks for work under {@code epoch}; returns the batches of its last unit handed out again (normally none). */
    int ready(String ev, long epoch) {
        int again = release(ev); // normally empty: an evaluator asks once its unit is done or dropped
        epochs.put(ev, epoch);
        idle.add(ev);
        return again;
    }

    /**
     * Forgets {@code ev}; returns its batches handed out again. {@code keepLoaded}: it may come back
     * within the generation (it left for another run) and then resumes the candidate it has loaded.
     */
    int remove(String ev, boolean keepLoaded) {
        ActorRef<EvaluatorActor.Command> ref = evaluators.remove(ev);
        if (ref != null) {
            watched.remove(ref);
        }
        idle.remove(ev);
        if (!keepLoaded) {
            lastCandidate.remove(ev);
        }
        epochs.remove(ev);
        return release(ev);
    }

    /** Forgets {@code ev}'s unit; its batches that never reported are handed out again. */
    private int release(String ev) {
        Integer k = assigned.remove(ev);
        if (k != null && candidates != null) {
            workers[k]--;
        }
        TreeSet<Integer> left = inFlight.remove(ev);
        if (k == null || left == null || candidates == null) {
            return 0;
        }
        int again = 0;
        for (int p : left.descendingSet()) { // addFirst in reverse keeps them in order
            again += candidates[k].requeue(p) ? 1 : 0;
        }
        redispatched.accept(again);
        return again;
    }

    void startGeneration(CandidateState[] candidates) {
        this.candidates = candidates;
        lastCandidate.clear();
        assigned.clear();
        workers = new int[candidates.length];
        inFlight.clear();
    }

    void endGeneration() {
        candidates = null;
    }

    /** {@code ev} reported {@code position} of its unit. */
    void reported(String ev, int position) {
        TreeSet<Integer> unit = inFlight.get(ev);
        if (unit != null) {
            unit.remove(position);
        }
    }

    /** Tells every evaluator working on candidate {@code index}. */
    void tellWorkersOf(int index, EvaluatorActor.Command command) {
        assigned.forEach((ev, k) -> {
            if (k == index) {
                evaluators.get(ev).tell(command);
            }
        });
    }

    /** Hands a unit to each idle evaluator, in the order they asked, while there is work. */
    void dispatch() {
        Iterator<String> it = candidates == null ? Collections.emptyIterator() : idle.iterator();
        while (it.hasNext()) {
            String ev = it.next();
            CandidateState c = choose(ev);
            if (c == null) {
                break;
            }
            List<BatchRef> unit = c.takeUnit(batchesPerUnit);
            it.remove();
            TreeSet<Integer> positions = new TreeSet<>();
            unit.forEach(b -> positions.add(b.getPosition()));
            inFlight.put(ev, positions);
            assigned.put(ev, c.index);
            workers[c.index]++;
            lastCandidate.put(ev, c.index);
            evaluators.get(ev).tell(new EvaluatorActor.Work(WorkUnit.newBuilder()
                    .setCandidate(c.id).setSpec(c.spec).addAllBatches(unit).setRun(run).setEpoch(epochs.getOrDefault(ev, 0L))
                    .build()));
        }
    }

    /**
     * The candidate an idle evaluator works on next: the one it worked on before (its model is
     * loaded), else the first one nobody works on, else the first with batches left. Candidates are
     * taken in ask order, so early ones finish first and give later ones a bar to be dropped against.
     */
    private CandidateState choose(String ev) {
        Integer last = lastCandidate.get(ev);
        if (last != null && candidates[last].hasPending()) {
            return candidates[last];
        }
        CandidateState fallback = null;
        for (CandidateState c : candidates) {
            if (!c.hasPending()) {
                continue;
            }
            if (workers[c.index] == 0) { // a counter, not a scan of the evaluators: O(population) per dispatch
                return c;
            }
            if (fallback == null) {
                fallback = c;
            }
        }
        return fallback;
    }

    /** Evaluators this search can use now, at most {@code limit}: the busy ones plus a unit's worth of work left. */
    int demand(int limit) {
        long wanted = assigned.size();
        if (candidates != null) {
            for (CandidateState c : candidates) {
                if (wanted >= limit) {
                    break;
                }
                wanted += (c.pendingCount() + batchesPerUnit - 1) / batchesPerUnit; // units ready to hand out
            }
        }
        return (int) Math.min(wanted, limit);
    }

    /** The evaluators waiting for work, in the order they asked. */
    Set<String> idle() {
        return Collections.unmodifiableSet(idle);
    }
}
