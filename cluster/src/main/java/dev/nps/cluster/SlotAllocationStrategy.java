package dev.nps.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.dispatch.Futures;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

/**
 * Places evaluator shards (one entity each) by free slots: a new shard goes to the region with the
 * most slots left, a node's slot count being its {@code slots-N} role in Pekko's membership.
 * Should every region be full (a node crashed and its shards came back before a new node joined),
 * the shard still gets a home, where its entity waits without a slot; {@link #rebalance} then
 * moves such surplus shards to nodes with free slots as soon as there are some (never from a
 * node that is not Up: Pekko itself re-homes the shards of leaving and lost nodes). Runs inside
 * Pekko's shard coordinator.
 */
final class SlotAllocationStrategy extends ShardCoordinator.AbstractShardAllocationStrategy {
    private final Cluster cluster;
    private final io.micrometer.core.instrument.Counter rebalances;

    SlotAllocationStrategy(ActorSystem<?> system) {
        this.cluster = Cluster.get(Adapter.toClassic(system));
        this.rebalances = NodeMetrics.of(system).rebalances();
    }

    @Override
    public Future<ActorRef> allocateShard(ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> current) {
        Map<Address, Integer> capacity = capacities();
        ActorRef best = null;
        int bestFree = Integer.MIN_VALUE;
        for (ActorRef region : sorted(current.keySet())) {
            int free = capacity.getOrDefault(address(region), 0) - current.get(region).size();
            if (free > bestFree) {
                best = region;
                bestFree = free;
            }
        }
        rebalances.increment();
        return Futures.successful(best != null ? best : requester);
    }

    @Override
    public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> current, Set<String> inProgress) {
        Map<Address, Integer> capacity = capacities();
        int freeElsewhere = 0;
        List<String> surplus = new ArrayList<>();
        for (ActorRef region : sorted(current.keySet())) {
            Integer up = capacity.get(address(region));
            if (up == null) {
                continue; // leaving or lost: Pekko hands its shards back itself; a handoff to a dead region would hang
            }
            List<String> shards = new ArrayList<>(scala.jdk.javaapi.CollectionConverters.asJava(current.get(region)));
            int cap = up;
            if (shards.size() < cap) {
                freeElsewhere += cap - shards.size();
            } else if (shards.size() > cap) {
                shards.sort(Comparator.comparingInt(SlotAllocationStrategy::number).reversed());
                surplus.addAll(shards.subList(0, shards.size() - cap));
            }
        }
        Set<String> move = new HashSet<>();
        for (String s : surplus) {
            if (move.size() >= freeElsewhere) {
                break;
            }
            if (!inProgress.contains(s)) {
                move.add(s);
            }
        }
        rebalances.increment(move.size());
        return Futures.successful(move);
    }

    /** Slots per Up member address, from the members' roles. */
    private Map<Address, Integer> capacities() {
        Map<Address, Integer> out = new HashMap<>();
        for (Member m : cluster.state().getMembers()) {
            if (m.status() == MemberStatus.up()) {
                out.put(m.address(), Roles.slotsOf(m.getRoles()));
            }
        }
        return out;
    }

    private Address address(ActorRef region) {
        Address a = region.path().address();
        return a.hasGlobalScope() ? a : cluster.selfAddress();
    }

    /** Regions in address order, so that equal states give equal choices. */
    private List<ActorRef> sorted(Set<ActorRef> regions) {
        List<ActorRef> list = new ArrayList<>(regions);
        list.sort(Comparator.comparing(r -> address(r).toString()));
        return list;
    }

    private static int number(String shardId) {
        try {
            return Integer.parseInt(shardId.substring(shardId.lastIndexOf('-') + 1));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }
}
