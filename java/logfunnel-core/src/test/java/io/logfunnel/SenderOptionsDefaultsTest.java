package io.logfunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logfunnel.testkit.Collector;
import io.logfunnel.testkit.Json;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The defaults table in {@link SenderOptions}' javadoc names the core's defaults ({@code spec/defaults.json},
 * from {@code SenderOptions::new}), so the Java docs cannot drift from what the native library does.
 */
class SenderOptionsDefaultsTest {
    private static final Pattern ROW = Pattern.compile("<tr><td>(\\w+)</td><td>([^<]*(?:\\{@link [^}]*}[^<]*)?)</td>");

    /** The spec key of a Java option name: {@code blockTimeoutMillis} is {@code block_timeout_ms}. */
    static String specKey(String javaName) {
        String snake = javaName.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
        return snake.endsWith("_millis") ? snake.substring(0, snake.length() - "_millis".length()) + "_ms" : snake;
    }

    /** A documented default as the spec spells it: a number, an enum constant's name, or null. */
    static Object specValue(String documented) {
        Matcher link = Pattern.compile("\\{@link \\w+#(\\w+)}").matcher(documented);
        if (link.find()) {
            return link.group(1).toLowerCase(java.util.Locale.ROOT);
        }
        if (documented.startsWith("the machine's host name") || documented.startsWith("none")) {
            return null;
        }
        return Long.parseLong(documented.split(" ")[0]);
    }

    @Test
    @SuppressWarnings("unchecked")
    void javadocTableNamesTheCoreDefaults() throws Exception {
        Map<String, Object> spec = (Map<String, Object>) Json.object(
                Files.readString(Collector.repo().resolve("spec/defaults.json"))).get("sender");
        String source = Files.readString(
                Collector.repo().resolve("java/logfunnel-core/src/main/java/io/logfunnel/SenderOptions.java"));
        Map<String, String> documented = new HashMap<>();
        Matcher m = ROW.matcher(source);
        while (m.find()) {
            documented.put(m.group(1), m.group(2).trim());
        }
        int checked = 0;
        for (Map.Entry<String, String> row : documented.entrySet()) {
            String key = specKey(row.getKey());
            if (!spec.containsKey(key)) {
                continue; // a Java-only option (endpoint, defaultLogger, shutdownHook)
            }
            Object expected = spec.get(key);
            Object actual = specValue(row.getValue());
            if (expected instanceof Number n) {
                expected = n.longValue();
            }
            assertEquals(expected, actual, row.getKey() + " documents " + row.getValue());
            checked++;
        }
        assertTrue(checked >= 10, "only " + checked + " rows matched spec/defaults.json: " + documented.keySet());
        assertEquals(((Number) spec.get("close_timeout_ms")).longValue(), SenderOptions.DEFAULT_CLOSE_TIMEOUT_MILLIS);
    }

    /** The same for the options table of {@code java/README.md} (the Logback and JUL keys). */
    @Test
    @SuppressWarnings("unchecked")
    void readmeTableNamesTheCoreDefaults() throws Exception {
        Map<String, Object> spec = (Map<String, Object>) Json.object(
                Files.readString(Collector.repo().resolve("spec/defaults.json"))).get("sender");
        Matcher m = Pattern.compile("^\\| `(\\w+)` \\| ([^|]+) \\|", Pattern.MULTILINE)
                .matcher(Files.readString(Collector.repo().resolve("java/README.md")));
        int checked = 0;
        while (m.find()) {
            String key = specKey(m.group(1));
            if (!spec.containsKey(key)) {
                continue;
            }
            String documented = m.group(2).trim();
            Object actual = documented.startsWith("`")
                    ? documented.replace("`", "")
                    : specValue(documented);
            Object expected = spec.get(key) instanceof Number n ? (Object) n.longValue() : spec.get(key);
            assertEquals(expected, actual, m.group(1) + " documents " + documented);
            checked++;
        }
        assertTrue(checked >= 7, "only " + checked + " README rows matched spec/defaults.json");
    }
}
