package dev.nps.service;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/** Bearer tokens: 32 random bytes, URL-safe base64; only their SHA-256 is ever stored. */
public final class Tokens {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {
    }

    public static String newToken() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Lower-case hex SHA-256 of the token's UTF-8 bytes. */
    public static String sha256(String token) {
        return HexFormat.of().formatHex(digest().digest(token.getBytes(StandardCharsets.UTF_8)));
    }

    static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A run id: 20 random hex digits (unguessable, so ids say nothing about other tenants' runs). */
    static String newRunId() {
        byte[] b = new byte[10];
        RANDOM.nextBytes(b);
        return "r" + HexFormat.of().formatHex(b);
    }
}
