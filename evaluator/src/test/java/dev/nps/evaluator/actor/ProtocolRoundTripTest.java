package dev.nps.evaluator.actor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.GeneratedMessage;
import com.typesafe.config.ConfigFactory;
import dev.nps.protocol.AbortCandidate;
import dev.nps.protocol.Attach;
import dev.nps.protocol.BatchRef;
import dev.nps.protocol.BatchScored;
import dev.nps.protocol.CandidateSpec;
import dev.nps.protocol.CoordinatorMessage;
import dev.nps.protocol.EvaluatorFailed;
import dev.nps.protocol.EvaluatorMessage;
import dev.nps.protocol.TaskMask;
import dev.nps.protocol.WorkRequest;
import dev.nps.protocol.WorkUnit;
import java.io.NotSerializableException;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every protocol message survives Pekko's serialization unchanged, through ProtoSerializer and never Java's. */
class ProtocolRoundTripTest {
    private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.parseString(ProtoSerializer.CONFIG)
            .withFallback(ConfigFactory.load()));

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    static List<GeneratedMessage> samples() {
        BatchRef ref = BatchRef.newBuilder().setPosition(9).setTask(3).setBatch(1).setSamples(50).build();
        dev.nps.protocol.RunSpec run = dev.nps.protocol.RunSpec.newBuilder().setSpec("examples/digits/spec.conf")
                .setSpecSha256("ab12").setUnshared("CARRY").setFeed("AUTO").setThreads(1).addPartitionTasks(3)
                .addEvalTasks(0).addEvalTasks(3).setSubspaces(8).setKeep(0.1).setPartition("BAND").setBandFactor(2)
                .setMinBatchMicros(10).setWeight(3).setCap(2).build();
        CandidateSpec spec = CandidateSpec.newBuilder()
                .addTasks(TaskMask.newBuilder().setTask(3).addKept(0).addKept(17).addKept(1_000_000_000_000L)
                        .addScales(1.0).addScales(0.3).addScales(Double.MIN_VALUE).setLambda(-0.0))
                .addTasks(TaskMask.newBuilder().setTask(0).addKept(5).setLambda(0.1 + 0.2))
                .build();
        return List.of(
                EvaluatorMessage.newBuilder().setAttach(Attach.newBuilder().setCoordinator("pekko://s/user/c#1").setRun("r")).build(),
                EvaluatorMessage.newBuilder().setAttach(Attach.newBuilder().setCoordinator("pekko://s@h:1/user/c#1").setRun("r")
                        .setSpec(run)).build(),
                EvaluatorMessage.newBuilder().setWork(WorkUnit.newBuilder().setCandidate(1L << 40).setSpec(spec).addBatches(ref)).build(),
                EvaluatorMessage.newBuilder().setAbort(AbortCandidate.newBuilder().setCandidate(7)).build(),
                CoordinatorMessage.newBuilder().setRequest(WorkRequest.newBuilder().setEvaluator("pekko://s/user/e#2").setRun("r")).build(),
                CoordinatorMessage.newBuilder().setScored(BatchScored.newBuilder().setEvaluator("e").setCandidate(3)
                        .setBatch(ref).setCorrect(48).setCount(50)).build(),
                CoordinatorMessage.newBuilder().setFailed(EvaluatorFailed.newBuilder().setEvaluator("e").setCandidate(3)
                        .setMessage("bad shape")).build(),
                // several runs per slot: leases, epochs, the scheduler's messages
                EvaluatorMessage.newBuilder().setAttach(Attach.newBuilder().setCoordinator("c").setRun("r").setSpec(run)
                        .setScheduler("pekko://s@h:1/system/sch#3").setSlot("slot-2").addActive("r").addActive("q")).build(),
                EvaluatorMessage.newBuilder().setWork(WorkUnit.newBuilder().setCandidate(4).setSpec(spec).addBatches(ref)
                        .setRun("r").setEpoch(3)).build(),
                EvaluatorMessage.newBuilder().setRelease(dev.nps.protocol.ReleaseRun.newBuilder().setRun("r")).build(),
                CoordinatorMessage.newBuilder().setRequest(WorkRequest.newBuilder().setEvaluator("e").setRun("r").setEpoch(3)).build(),
                CoordinatorMessage.newBuilder().setLeft(dev.nps.protocol.EvaluatorLeft.newBuilder().setEvaluator("e").setRun("r")).build(),
                CoordinatorMessage.newBuilder().setSubscribe(dev.nps.protocol.DemandSubscription.newBuilder().setScheduler("s")
                        .setLimit(4)).build(),
                CoordinatorMessage.newBuilder().setCancel(dev.nps.protocol.CancelSearch.newBuilder().setReason("why")).build(),
                dev.nps.protocol.SchedulerMessage.newBuilder().setRegister(dev.nps.protocol.RegisterRun.newBuilder().setRun("r")
                        .setCoordinator("c").setSpec(run)).build(),
                dev.nps.protocol.SchedulerMessage.newBuilder().setDemand(dev.nps.protocol.RunDemand.newBuilder().setRun("r")
                        .setSlots(3).addIdle("e")).build(),
                dev.nps.protocol.SchedulerMessage.newBuilder().setServing(dev.nps.protocol.SlotServing.newBuilder().setSlot("slot-2")
                        .setRun("r").setEvaluator("e")).build(),
                dev.nps.protocol.SchedulerMessage.newBuilder().setQuery(dev.nps.protocol.UsageQuery.newBuilder().setReplyTo("t")).build(),
                dev.nps.protocol.SchedulerMessage.newBuilder().setEnded(dev.nps.protocol.RunEnded.newBuilder().setRun("r")).build(),
                dev.nps.protocol.SlotUsage.newBuilder().addRuns(dev.nps.protocol.RunUsage.newBuilder().setRun("r").setWeight(1)
                        .setSlotNanos(5L << 40).setFairNanos(7)).addSlots(dev.nps.protocol.SlotLease.newBuilder().setSlot("slot-0")
                        .setLeased("r")).setMoves(9).build(),
                spec);
    }

    @Test
    void everyEvaluatorCommandTravelsAsItsWireMessage() throws Exception {
        Serialization serialization = SerializationExtension.get(KIT.system().classicSystem());
        for (GeneratedMessage m : samples()) {
            if (!(m instanceof EvaluatorMessage wire)) {
                continue;
            }
            EvaluatorActor.Command c = EvaluatorActor.fromWire(wire);
            Serializer ser = serialization.findSerializerFor(c);
            assertEquals(ProtoSerializer.IDENTIFIER, ser.identifier(), c.getClass().getName());
            byte[] bytes = serialization.serialize(c).get();
            assertArrayEquals(wire.toByteArray(), bytes, "a command is its wire message, byte for byte");
            assertEquals(c, serialization.deserialize(bytes, ser.identifier(), Serializers.manifestFor(ser, c)).get());
        }
        assertThrows(IllegalArgumentException.class, () -> EvaluatorActor.fromWire(EvaluatorMessage.getDefaultInstance()));
    }

    @Test
    void everyMessageRoundTripsThroughPekkoSerialization() throws Exception {
        Serialization serialization = SerializationExtension.get(KIT.system().classicSystem());
        for (GeneratedMessage m : samples()) {
            Serializer ser = serialization.findSerializerFor(m);
            assertEquals(ProtoSerializer.IDENTIFIER, ser.identifier(), m.getClass().getName());
            byte[] bytes = serialization.serialize(m).get();
            Object back = serialization.deserialize(bytes, ser.identifier(), Serializers.manifestFor(ser, m)).get();
            assertEquals(m, back);
            assertEquals(m.getClass(), back.getClass());
        }
    }

    @Test
    void refusesClassesOutsideTheProtocolPackage() {
        ProtoSerializer s = new ProtoSerializer();
        var e = assertThrows(NotSerializableException.class, () -> s.fromBinary(new byte[0], "java.lang.Runtime"));
        assertTrue(e.getMessage().contains("not an NPS protocol message"), e.getMessage());
        assertThrows(NotSerializableException.class, () -> s.fromBinary(new byte[0], "dev.nps.protocol.Nope"));
    }

    @Test
    void javaSerializationIsOff() {
        Serialization serialization = SerializationExtension.get(KIT.system().classicSystem());
        assertTrue(serialization.serialize(new java.util.ArrayList<>(List.of(1))).isFailure());
    }
}
