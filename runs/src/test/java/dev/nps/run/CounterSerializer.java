package dev.nps.run;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Test-only binary serializer for {@link Counter}'s event and state (Java serialization is off in
 * NPS; the real run events will be protobuf). Payload bytes are written raw, so a journal row's
 * size is the payload plus a few bytes.
 */
public final class CounterSerializer extends SerializerWithStringManifest {
    static final String CONFIG = """
            pekko.actor {
              allow-java-serialization = off
              serializers.nps-journal-test = "dev.nps.run.CounterSerializer"
              serialization-bindings {
                "dev.nps.run.Counter$Added" = nps-journal-test
                "dev.nps.run.Counter$Tally" = nps-journal-test
              }
            }
            """;

    @Override
    public int identifier() {
        return 917_301;
    }

    @Override
    public String manifest(Object o) {
        return switch (o) {
            case Counter.Added a -> "A";
            case Counter.Tally t -> "T";
            default -> throw new IllegalArgumentException("not a Counter message: " + o.getClass());
        };
    }

    @Override
    public byte[] toBinary(Object o) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            switch (o) {
                case Counter.Added a -> {
                    out.writeLong(a.n());
                    byte[] p = a.payload().getBytes(StandardCharsets.UTF_8);
                    out.writeInt(p.length);
                    out.write(p);
                }
                case Counter.Tally t -> {
                    out.writeLong(t.count());
                    out.writeLong(t.checksum());
                }
                default -> throw new IllegalArgumentException("not a Counter message: " + o.getClass());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            return switch (manifest) {
                case "A" -> {
                    long n = in.readLong();
                    byte[] p = new byte[in.readInt()];
                    in.readFully(p);
                    yield new Counter.Added(n, new String(p, StandardCharsets.UTF_8));
                }
                case "T" -> new Counter.Tally(in.readLong(), in.readLong());
                default -> throw new IllegalArgumentException("unknown Counter manifest " + manifest);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
