package io.logfunnel.logback;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.logfunnel.testkit.Json;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * The shared decoder vectors (spec/vectors/decode.json) turned into Logback events: every case that
 * decodes to a record with a string name and message gives its name, message, time, thread name and
 * scalar user fields; the test sends them through the appender and expects them back unchanged.
 */
final class VectorCases {
    private VectorCases() {}

    /** Keys of the v1 schema (spec/wire-format.md); everything else in a record is a user field. */
    private static final Set<String> SCHEMA = Set.of("v", "host", "lang", "sid", "seq", "name", "msg", "args",
            "levelno", "levelname", "created", "msecs", "relativeCreated", "pathname", "filename", "module",
            "lineno", "funcName", "process", "processName", "thread", "threadName", "taskName", "exc_info",
            "exc_text", "stack_info", "message", "asctime");

    /** One usable case: what to send and what must arrive (key -> value). */
    record Case(String name, Map<String, Object> record, Map<String, Object> expected,
            Map<String, Object> userFields) {
        LoggingEvent event(Logger fallback, LoggerContext ctx) {
            Logger logger = ctx.getLogger((String) record.get("name"));
            LoggingEvent e = new LoggingEvent(Logger.class.getName(), logger, level(), (String) record.get("msg"),
                    null, null);
            double created = ((Number) record.get("created")).doubleValue();
            long secs = (long) Math.floor(created);
            e.setInstant(Instant.ofEpochSecond(secs, Math.round((created - secs) * 1e9)));
            if (record.get("threadName") instanceof String tn) {
                e.setThreadName(tn);
            }
            e.addKeyValuePair(new KeyValuePair("vector_case", name));
            for (Map.Entry<String, Object> f : userFields.entrySet()) {
                e.addKeyValuePair(new KeyValuePair(f.getKey(), f.getValue()));
            }
            return e;
        }

        Level level() {
            return switch (((Number) record.get("levelno")).intValue()) {
                case 5 -> Level.TRACE;
                case 10 -> Level.DEBUG;
                case 30 -> Level.WARN;
                case 40 -> Level.ERROR;
                default -> Level.INFO;
            };
        }
    }

    @SuppressWarnings("unchecked")
    static List<Case> load(Path file) throws IOException {
        Map<String, Object> root = Json.object(Files.readString(file));
        List<Case> out = new ArrayList<>();
        for (Object o : (List<Object>) root.get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            Map<String, Object> expect = (Map<String, Object>) c.get("expect");
            if (!(expect.get("record") instanceof Map<?, ?> rec)) {
                continue;
            }
            Map<String, Object> record = (Map<String, Object>) rec;
            if (!(record.get("name") instanceof String) || !(record.get("msg") instanceof String)
                    || !(record.get("levelno") instanceof Number) || !(record.get("created") instanceof Number)) {
                continue;
            }
            Map<String, Object> expected = new LinkedHashMap<>();
            expected.put("name", record.get("name"));
            expected.put("msg", record.get("msg"));
            expected.put("created", record.get("created"));
            expected.put("lang", "java");
            int levelno = ((Number) record.get("levelno")).intValue();
            if (levelno == 5 || levelno == 10 || levelno == 20 || levelno == 30 || levelno == 40) {
                expected.put("levelno", (long) levelno);
            }
            if (record.get("threadName") instanceof String tn) {
                expected.put("threadName", tn);
            }
            Map<String, Object> fields = new LinkedHashMap<>();
            for (Map.Entry<String, Object> f : record.entrySet()) {
                String key = f.getKey();
                Object v = f.getValue();
                if (SCHEMA.contains(key) || v instanceof Map || v instanceof List || v instanceof BigInteger) {
                    continue; // nested values and integers beyond 64 bits are not Java scalars
                }
                // A user field named like a schema key arrives as extra.<key>: send the bare name.
                String send = key.startsWith("extra.") ? key.substring("extra.".length()) : key;
                fields.put(send, v);
                expected.put(key, v);
            }
            out.add(new Case((String) c.get("name"), record, expected, fields));
        }
        return out;
    }
}
