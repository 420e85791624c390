package dev.nps.spec;

import com.typesafe.config.ConfigObject;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses keys a HOCON file may not hold. A typo ({@code batch_size} for {@code batch-size}) would
 * otherwise be ignored and the default used without a word; every config file NPS reads checks
 * its blocks here, and the message names the closest known key.
 */
public final class ConfigKeys {
    private ConfigKeys() {
    }

    /**
     * The first key of {@code block} not in {@code known}, as a one-line message ("unknown key 'x' in
     * WHERE (did you mean 'y'?; known: ...)"); empty when every key is known.
     */
    public static Optional<String> unknownKey(ConfigObject block, Set<String> known, String where) {
        for (String key : new TreeSet<>(block.keySet())) {
            if (!known.contains(key)) {
                String hint = suggestion(key, known).map(s -> "did you mean '" + s + "'? ").orElse("");
                return Optional.of("unknown key '" + key + "' in " + where + " (" + hint + "known keys: "
                        + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
        return Optional.empty();
    }

    /** The known key closest to {@code key}: equal up to case and '_'/'-'/'.', or within edit distance 1 (short keys) or 2. */
    static Optional<String> suggestion(String key, Set<String> known) {
        String k = normalized(key);
        for (String candidate : known) {
            if (normalized(candidate).equals(k)) {
                return Optional.of(candidate);
            }
        }
        return known.stream()
                .filter(c -> distance(normalized(c), k) <= (k.length() <= 4 ? 1 : 2))
                .min(Comparator.comparingInt((String c) -> distance(normalized(c), k)).thenComparing(Comparator.naturalOrder()));
    }

    private static String normalized(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[-_.\\s]", "");
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** Convenience for fixed key lists. */
    public static Set<String> of(String... keys) {
        return Set.copyOf(List.of(keys));
    }
}
