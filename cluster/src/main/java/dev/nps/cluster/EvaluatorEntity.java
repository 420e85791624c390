package dev.nps.cluster;

import dev.nps.evaluator.actor.EvaluatorActor;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The sharded evaluator: entity ids {@code slot-0 .. slot-(C-1)}, C the cluster's slot count, one
 * entity per shard, placed by {@link SlotAllocationStrategy} so that a node never hosts more
 * entities than it has slots. A starting entity takes a free slot of its node (its GPU and its
 * own ONNX Runtime session) and is then an {@link EvaluatorActor}; the slot is freed when it
 * stops. An entity that finds no free slot (only while shards move) scores nothing and takes a
 * slot at the next Attach that finds one free.
 */
public final class EvaluatorEntity {
    public static final EntityTypeKey<EvaluatorActor.Command> KEY = EntityTypeKey.create(EvaluatorActor.Command.class, "nps-evaluator");

    private EvaluatorEntity() {
    }

    static String entityId(int i) {
        return "slot-" + i;
    }

    /**
     * Starts sharding of evaluators on this node: a region hosting entities on evaluator nodes
     * ({@code pool} and {@code data} set), a proxy elsewhere (both null).
     */
    static ActorRef<ShardingEnvelope<EvaluatorActor.Command>> init(ActorSystem<?> system, SlotPool pool, NodeData data) {
        java.util.Map<Slot, SlotMeters> meters = new java.util.HashMap<>();
        if (pool != null) {
            for (Slot s : pool.slots()) {
                meters.put(s, new SlotMeters(NodeMetrics.of(system).registry(), s, data));
            }
        }
        return ClusterSharding.get(system).init(Entity.of(KEY, ctx -> create(pool, data, java.util.Map.copyOf(meters)))
                .withRole(Roles.EVALUATOR)
                .withMessageExtractor(new OnePerShard())
                .withAllocationStrategy(new SlotAllocationStrategy(system))
                .withEntityProps(DispatcherSelector.fromConfig(ClusterNode.EVALUATOR_DISPATCHER)));
    }

    private static Behavior<EvaluatorActor.Command> create(SlotPool pool, NodeData data, java.util.Map<Slot, SlotMeters> meters) {
        return Behaviors.setup(ctx -> {
            Optional<Slot> slot = pool.acquire();
            if (slot.isPresent()) {
                return active(slot.get(), pool, data, meters.get(slot.get()));
            }
            ctx.getLog().info("{} has no free slot on this node; waiting", ctx.getSelf().path().name());
            return Behaviors.receive(EvaluatorActor.Command.class).onMessage(EvaluatorActor.Command.class, m -> {
                if (!(m instanceof EvaluatorActor.Lease)) {
                    return Behaviors.same();
                }
                Optional<Slot> s = pool.acquire();
                if (s.isEmpty()) {
                    return Behaviors.same();
                }
                ctx.getSelf().tell(m); // handled again once active
                return active(s.get(), pool, data, meters.get(s.get()));
            }).build();
        });
    }

    private static Behavior<EvaluatorActor.Command> active(Slot slot, SlotPool pool, NodeData data, SlotMeters meters) {
        return EvaluatorActor.create(attach -> meters.observe(data.backend(attach, slot, meters)), () -> pool.release(slot));
    }

    /** Shard id = entity id: every entity is its own shard, so the allocation strategy places entities one by one. */
    static final class OnePerShard extends ShardingMessageExtractor<ShardingEnvelope<EvaluatorActor.Command>, EvaluatorActor.Command> {
        @Override
        public String entityId(ShardingEnvelope<EvaluatorActor.Command> envelope) {
            return envelope.entityId();
        }

        @Override
        public String shardId(String entityId) {
            return entityId;
        }

        @Override
        public EvaluatorActor.Command unwrapMessage(ShardingEnvelope<EvaluatorActor.Command> envelope) {
            return envelope.message();
        }
    }
}
