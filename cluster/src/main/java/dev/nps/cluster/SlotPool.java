package dev.nps.cluster;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;

/** A node's free slots; an evaluator entity holds one from start to stop. Thread-safe. */
final class SlotPool {
    private final List<Slot> slots;
    private final ArrayDeque<Slot> free;

    SlotPool(List<Slot> slots) {
        this.slots = List.copyOf(slots);
        this.free = new ArrayDeque<>(slots);
    }

    synchronized Optional<Slot> acquire() {
        return Optional.ofNullable(free.poll());
    }

    synchronized void release(Slot s) {
        if (!free.contains(s)) {
            free.addFirst(s);
        }
    }

    List<Slot> slots() {
        return slots;
    }

    synchronized int freeCount() {
        return free.size();
    }
}
