package dev.nps.evaluator.actor;

import com.google.protobuf.GeneratedMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import java.io.NotSerializableException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Pekko serializer for the NPS protobuf messages: the bytes are the message itself and the
 * manifest its class name. Pekko's own protobuf serializer lives in pekko-remote, which a
 * single-node search does not need; this one keeps Java serialization out of the picture.
 * Only classes of {@value #PACKAGE} are ever loaded from a manifest. An evaluator's commands
 * ({@link EvaluatorActor.Command}, records inside the JVM) travel as one {@code EvaluatorMessage}.
 */
public final class ProtoSerializer extends SerializerWithStringManifest {
    /** Pekko reserves identifiers 0..40. */
    public static final int IDENTIFIER = 5_771_201;
    private static final String PACKAGE = "dev.nps.protocol.";
    private static final String EVALUATOR_COMMAND = "nps.evaluator-command";

    /** Pekko settings that route every protobuf message through this serializer, with Java serialization off. */
    public static final String CONFIG = """
            pekko.actor {
              allow-java-serialization = off
              serializers.nps-proto = "dev.nps.evaluator.actor.ProtoSerializer"
              serialization-bindings {
                "com.google.protobuf.GeneratedMessage" = nps-proto
                "dev.nps.evaluator.actor.EvaluatorActor$Command" = nps-proto
              }
            }
            """;

    private final Map<String, Parser<?>> parsers = new ConcurrentHashMap<>();

    @Override
    public int identifier() {
        return IDENTIFIER;
    }

    @Override
    public String manifest(Object o) {
        return o instanceof EvaluatorActor.Command ? EVALUATOR_COMMAND : o.getClass().getName();
    }

    @Override
    public byte[] toBinary(Object o) {
        if (o instanceof EvaluatorActor.Command c) {
            return EvaluatorActor.toWire(c).toByteArray();
        }
        if (o instanceof GeneratedMessage m) {
            return m.toByteArray();
        }
        throw new IllegalArgumentException("not a protobuf message: " + o.getClass().getName());
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        try {
            if (manifest.equals(EVALUATOR_COMMAND)) {
                return EvaluatorActor.fromWire(dev.nps.protocol.EvaluatorMessage.parseFrom(bytes));
            }
            return parser(manifest).parseFrom(bytes);
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new NotSerializableException("corrupt " + manifest + ": " + e.getMessage());
        }
    }

    private Parser<?> parser(String manifest) throws NotSerializableException {
        Parser<?> p = parsers.get(manifest);
        if (p != null) {
            return p;
        }
        if (!manifest.startsWith(PACKAGE)) {
            throw new NotSerializableException("refusing to deserialize " + manifest + ": not an NPS protocol message");
        }
        try {
            Class<?> c = Class.forName(manifest, false, ProtoSerializer.class.getClassLoader());
            if (!GeneratedMessage.class.isAssignableFrom(c)) {
                throw new NotSerializableException(manifest + " is not a protobuf message");
            }
            p = ((GeneratedMessage) c.getMethod("getDefaultInstance").invoke(null)).getParserForType();
        } catch (ReflectiveOperationException e) {
            throw new NotSerializableException("unknown protocol message " + manifest);
        }
        parsers.put(manifest, p);
        return p;
    }
}
