package dev.nps.coordinator;

import dev.nps.protocol.BatchRef;
import dev.nps.protocol.CandidateSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One candidate of the current generation: which batches are scored, its running per-task counts
 * and the accuracy interval they imply. A candidate whose spec equals an earlier one of the same
 * generation is a follower: it is never scored and reads everything from its leader.
 */
final class CandidateState {
    enum Status { RUNNING, DONE, ABORTED }

    final int index;
    final long id;
    final double[] x;
    final CandidateSpec spec;
    final CandidateState leader;
    /** Batches known from the cache when the generation started (all of them for a follower). */
    final int cachedBatches;

    private final BatchOrder order;
    private final long[] correct;   // per slot
    private final long[] seen;      // samples scored, per slot
    private final boolean[] known;  // per position
    private final boolean[] reported; // per position: an evaluator's score arrived (repeats are ignored)
    private int knownCount;
    private final ArrayDeque<Integer> pending = new ArrayDeque<>(); // not yet dispatched, in order
    private Status status = Status.RUNNING;

    /** A candidate to score; {@code cached[p] >= 0} is a known correct count of position p (null = none). */
    CandidateState(int index, long id, double[] x, CandidateSpec spec, BatchOrder order, int[] cached) {
        this.index = index;
        this.id = id;
        this.x = x;
        this.spec = spec;
        this.leader = null;
        this.order = order;
        this.correct = new long[order.slots()];
        this.seen = new long[order.slots()];
        this.known = new boolean[order.size()];
        this.reported = new boolean[order.size()];
        int fromCache = 0;
        for (int p = 0; p < order.size(); p++) {
            if (cached != null && cached[p] >= 0) {
                record(p, cached[p]);
                fromCache++;
            } else {
                pending.add(p);
            }
        }
        this.cachedBatches = fromCache;
    }

    /** A duplicate of {@code leader} within one generation. */
    CandidateState(int index, long id, double[] x, CandidateState leader) {
        this.index = index;
        this.id = id;
        this.x = x;
        this.spec = leader.spec;
        this.leader = leader;
        this.order = leader.order;
        this.correct = null;
        this.seen = null;
        this.known = null;
        this.reported = null;
        this.cachedBatches = order.size();
    }

    Status status() {
        return leader != null ? leader.status() : status;
    }

    boolean isFollower() {
        return leader != null;
    }

    /** Records a scored batch; false if the position was already known (a repeated report). */
    boolean record(int position, int correctCount) {
        if (known[position]) {
            return false;
        }
        known[position] = true;
        knownCount++;
        int slot = order.slot(position);
        correct[slot] += correctCount;
        seen[slot] += order.samples(position);
        if (knownCount == known.length && status == Status.RUNNING) {
            status = Status.DONE;
        }
        return true;
    }

    /**
     * Notes an evaluator's score of {@code position}; false if one arrived before. A unit that was
     * handed out again after its evaluator was lost may be reported twice; only the first counts.
     */
    boolean firstReport(int position) {
        if (reported[position]) {
            return false;
        }
        reported[position] = true;
        return true;
    }

    /** Hands {@code position} out again (its evaluator was lost); false if it needs no score any more. */
    boolean requeue(int position) {
        if (leader != null || status != Status.RUNNING || known[position] || pending.contains(position)) {
            return false;
        }
        pending.addFirst(position);
        return true;
    }

    void abort() {
        if (status == Status.RUNNING) {
            status = Status.ABORTED;
            pending.clear();
        }
    }

    boolean hasPending() {
        return leader == null && status == Status.RUNNING && !pending.isEmpty();
    }

    /** Batches not yet handed out (0 for a follower or a finished candidate). */
    int pendingCount() {
        return hasPending() ? pending.size() : 0;
    }

    /** The next up to {@code max} undispatched batches. */
    List<BatchRef> takeUnit(int max) {
        List<BatchRef> unit = new ArrayList<>();
        while (unit.size() < max && !pending.isEmpty()) {
            unit.add(order.ref(pending.poll()));
        }
        return unit;
    }

    /** Accuracy if every unscored sample is wrong; the exact accuracy once DONE. */
    double lower() {
        if (leader != null) {
            return leader.lower();
        }
        return accuracy(correct);
    }

    /** Accuracy if every unscored sample is right. */
    double upper() {
        if (leader != null) {
            return leader.upper();
        }
        long[] best = new long[correct.length];
        for (int s = 0; s < best.length; s++) {
            best[s] = correct[s] + order.taskSamples(s) - seen[s];
        }
        return accuracy(best);
    }

    private double accuracy(long[] counts) {
        return order.fitness(counts);
    }

    /**
     * [lower, upper] narrowed by Hoeffding on the samples scored so far: the unscored rest is
     * assumed to score like the scored part, within sqrt(ln(2/delta) / (2 n)). A heuristic, not a
     * guarantee: batches are not a random sample.
     */
    double[] statisticalBounds(double delta) {
        if (leader != null) {
            return leader.statisticalBounds(delta);
        }
        double lo = lower();
        double up = upper();
        long n = 0;
        long c = 0;
        for (int s = 0; s < seen.length; s++) {
            n += seen[s];
            c += correct[s];
        }
        if (n == 0) {
            return new double[] {lo, up};
        }
        double rate = c / (double) n;
        double estimate = 0;
        double unseen = 0;
        for (int s = 0; s < seen.length; s++) {
            double nt = order.taskSamples(s);
            estimate += order.weight(s) * (correct[s] + rate * (nt - seen[s])) / nt;
            unseen += order.weight(s) * (nt - seen[s]) / nt;
        }
        double half = unseen * Math.sqrt(Math.log(2 / delta) / (2.0 * n));
        return new double[] {Math.max(lo, estimate - half), Math.min(up, estimate + half)};
    }
}
