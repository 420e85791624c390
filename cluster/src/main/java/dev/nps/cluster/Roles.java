package dev.nps.cluster;

import java.util.List;
import java.util.Optional;

/**
 * Cluster roles of an NPS node. A node's evaluator slot count travels as one more role,
 * {@code slots-N}, so every node (the shard coordinator's above all) reads it from Pekko's own
 * membership state: no membership bookkeeping of our own.
 */
public final class Roles {
    /** Runs searches: CMA-ES, cache, abort rule (a command started with --cluster joins with this role). */
    public static final String COORDINATOR = "coordinator";
    /** Hosts evaluator entities, one per slot (GPU, or CPU slot where there is none). */
    public static final String EVALUATOR = "evaluator";
    static final List<String> ALL = List.of(COORDINATOR, EVALUATOR);
    private static final String SLOTS = "slots-";

    private Roles() {
    }

    static String slots(int n) {
        return SLOTS + n;
    }

    /** The slot count a member's roles declare; 0 when it has no evaluator role. */
    static int slotsOf(java.util.Set<String> roles) {
        if (!roles.contains(EVALUATOR)) {
            return 0;
        }
        Optional<String> r = roles.stream().filter(s -> s.startsWith(SLOTS)).findFirst();
        return r.map(s -> Integer.parseInt(s.substring(SLOTS.length()))).orElse(0);
    }
}
