package io.logfunnel.logback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import io.logfunnel.LogfunnelSender;
import io.logfunnel.SenderStats;
import io.logfunnel.Throwables;
import io.logfunnel.testkit.Collector;
import io.logfunnel.testkit.Otelcol;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * Records from Logback reach a real OpenTelemetry Collector through the real collector binary with an
 * otlp sink (spec/otlp.md): logged while the peer is down they are not acknowledged (flush times out),
 * and once the peer is up flush returns true only after it accepted them; every mapped field is checked
 * in the Collector's file-exporter output.
 */
class OtlpForwardingTest {
    private static Map<String, Object> str(String v) {
        return Map.of("stringValue", v);
    }

    private static Map<String, Object> integer(long v) {
        return Map.of("intValue", Long.toString(v));
    }

    @Test
    void recordsArriveAtARealOtelCollectorWithEveryMappedFieldOnceItAcceptedThem(@TempDir Path tmp)
            throws Exception {
        Otelcol.binary(); // built (or found in the cache) before any timing starts
        int port = Otelcol.freePort(); // the peer starts later
        String sink = """

                [[sink]]
                kind = "otlp"
                name = "otel"
                endpoint = "http://127.0.0.1:%d/v1/logs"
                service_name = "java-service"
                batch_timeout_ms = 20
                retry_initial_ms = 20
                retry_max_ms = 300
                """.formatted(port);
        try (Collector collector = Collector.start(tmp, sink)) {
            LoggerContext ctx = Configs.newContext("otlp");
            Configs.configure(ctx, """
                    <configuration>
                      <appender name="LF" class="io.logfunnel.logback.LogfunnelAppender">
                        <endpoint>%s</endpoint>
                        <host>java-host</host>
                        <closeTimeoutMillis>20000</closeTimeoutMillis>
                        <includeCallerData>true</includeCallerData>
                      </appender>
                      <root level="TRACE">
                        <appender-ref ref="LF"/>
                      </root>
                    </configuration>
                    """.formatted(collector.endpoint()));
            LogfunnelAppender appender = Configs.appender(ctx);
            assertTrue(appender.isStarted(), Configs.statuses(ctx));
            LogfunnelSender sender = appender.getSender();

            Logger log = ctx.getLogger("lb.otlp.orders");
            IllegalStateException ex = new IllegalStateException("payment refused", new IOException("gateway down"));
            long before = System.currentTimeMillis();
            int errorLine;
            ctx.getMDCAdapter().put("request_id", "r-7"); // this context's MDC, not SLF4J's global one
            try {
                org.slf4j.spi.LoggingEventBuilder event = log.atError().addKeyValue("order", 42)
                        .addKeyValue("paid", false).addKeyValue("amount", 9.5).setCause(ex);
                errorLine = new Throwable().getStackTrace()[0].getLineNumber() + 1;
                event.log("order {} failed", 42);
            } finally {
                ctx.getMDCAdapter().clear();
            }
            int infoLine = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            ctx.getLogger("lb.otlp").info("plain");
            long after = System.currentTimeMillis();

            // The peer is down: nothing is acknowledged, so a flush cannot succeed.
            assertFalse(sender.flush(Duration.ofMillis(300)), "flushed with the OTLP peer down");
            assertEquals(0, sender.stats().acknowledged(), sender.stats().toString());

            try (Otelcol otelcol = Otelcol.start(tmp, port)) {
                assertTrue(sender.flush(Duration.ofSeconds(60)), "not flushed with the peer up: " + sender.stats()
                        + "\ncollector: " + collector.output());
                SenderStats st = sender.stats();
                assertTrue(st.acknowledging(), st.toString());
                assertEquals(2, st.acknowledged(), st.toString());
                assertEquals(0, st.unacknowledged(), st.toString());

                // Acknowledged means accepted by the peer; its file exporter writes every 50 ms.
                List<Otelcol.Exported> records = otelcol.await(2);
                assertEquals(2, records.size(), records.toString());
                for (Otelcol.Exported e : records) {
                    Map<String, Object> res = Otelcol.attributes(e.resourceAttributes());
                    assertEquals(str("java-service"), res.get("service.name"), res.toString());
                    assertEquals(str("java-host"), res.get("host.name"), res.toString());
                    assertEquals(integer(ProcessHandle.current().pid()), res.get("process.pid"), res.toString());
                    assertEquals(3, res.size(), res.toString());
                }
                checkError(records.get(0).record(), ex, errorLine, before, after);
                checkInfo(records.get(1).record(), infoLine, records.get(0).record());
            }
            ctx.stop();
            assertFalse(Configs.statuses(ctx).contains("WARN"), Configs.statuses(ctx));
            assertFalse(collector.output().contains("not accepted by"), collector.output());
        }
    }

    private static void checkError(Map<String, Object> r, Throwable ex, int line, long before, long after) {
        long created = Long.parseLong((String) r.get("timeUnixNano"));
        assertTrue(created >= before * 1_000_000 && created <= (after + 1) * 1_000_000,
                before + " ms <= " + created + " ns <= " + after + " ms");
        assertTrue(Long.parseLong((String) r.get("observedTimeUnixNano")) >= created, r.toString());
        assertEquals(17L, r.get("severityNumber"));
        assertEquals("ERROR", r.get("severityText"));
        assertEquals(str("order 42 failed"), r.get("body"));
        Map<String, Object> a = Otelcol.attributes(r.get("attributes"));
        Map<String, Object> want = new java.util.LinkedHashMap<>();
        want.put("logger.name", str("lb.otlp.orders"));
        want.put("code.file.path", str("io/logfunnel/logback/OtlpForwardingTest.java"));
        want.put("code.line.number", integer(line));
        want.put("code.function.name",
                str("recordsArriveAtARealOtelCollectorWithEveryMappedFieldOnceItAcceptedThem"));
        want.put("thread.id", integer(Thread.currentThread().threadId()));
        want.put("thread.name", str(Thread.currentThread().getName()));
        want.put("exception.stacktrace", str(Throwables.format(ex)));
        want.put("logfunnel.lang", str("java"));
        want.put("logfunnel.seq", integer(0));
        want.put("request_id", str("r-7"));
        want.put("order", integer(42));
        want.put("paid", Map.of("boolValue", false));
        want.put("amount", Map.of("doubleValue", 9.5));
        for (Map.Entry<String, Object> w : want.entrySet()) {
            assertEquals(w.getValue(), a.get(w.getKey()), "attribute " + w.getKey() + " in " + a);
        }
        assertTrue(a.get("logfunnel.sid") instanceof Map<?, ?> sid && sid.get("stringValue") instanceof String,
                a.toString());
        // A Java trace ends in "\tat ..." lines, not Python's "Type: message" line, which is all the
        // mapping reads exception.type and exception.message from.
        assertFalse(a.containsKey("exception.type"), a.toString());
        assertFalse(a.containsKey("exception.message"), a.toString());
        assertEquals(want.size() + 1, a.size(), a.toString());
    }

    private static void checkInfo(Map<String, Object> r, int line, Map<String, Object> first) {
        assertEquals(9L, r.get("severityNumber"));
        assertEquals("INFO", r.get("severityText"));
        assertEquals(str("plain"), r.get("body"));
        Map<String, Object> a = Otelcol.attributes(r.get("attributes"));
        assertEquals(str("lb.otlp"), a.get("logger.name"));
        assertEquals(integer(line), a.get("code.line.number"));
        assertEquals(integer(1), a.get("logfunnel.seq"));
        assertEquals(Otelcol.attributes(first.get("attributes")).get("logfunnel.sid"), a.get("logfunnel.sid"));
        assertFalse(a.containsKey("exception.stacktrace"), a.toString());
        assertFalse(a.containsKey("request_id"), "the MDC was cleared: " + a);
    }
}
