package io.logfunnel.logback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.logfunnel.SenderStats;
import io.logfunnel.testkit.ChildJvm;
import io.logfunnel.testkit.Collector;
import io.logfunnel.testkit.ExcText;
import io.logfunnel.testkit.WithCollector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** The Logback appender, configured by logback.xml, against a real collector. */
class LogfunnelAppenderTest extends WithCollector {
    static LoggerContext ctx;

    @BeforeAll
    static void setUp() throws Exception {
        ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        Configs.configure(ctx, Configs.xml(collector.endpoint(), true));
        assertTrue(Configs.appender(ctx).isStarted(), Configs.statuses(ctx));
    }

    @AfterAll
    static void tearDown() throws Exception {
        ctx.reset();
    }

    @Test
    void levelsMapToPythonNumbers() throws Exception {
        org.slf4j.Logger log = LoggerFactory.getLogger("lb.levels");
        log.trace("t");
        log.debug("d");
        log.info("i");
        log.warn("w");
        log.error("e");
        List<Map<String, Object>> rs = collector.awaitLogger("lb.levels", 5);
        long[] nums = {5, 10, 20, 30, 40};
        String[] names = {"Level 5", "DEBUG", "INFO", "WARNING", "ERROR"};
        for (int i = 0; i < 5; i++) {
            assertEquals(nums[i], rs.get(i).get("levelno"));
            assertEquals(names[i], rs.get(i).get("levelname"));
            assertEquals("java", rs.get(i).get("lang"));
        }
    }

    @Test
    void mdcAndKeyValuePairsBecomeUserFields() throws Exception {
        org.slf4j.Logger log = LoggerFactory.getLogger("lb.fields");
        double before = System.currentTimeMillis() / 1000.0;
        MDC.put("request_id", "r-1");
        MDC.put("levelno", "shadow");
        try {
            log.atInfo().addKeyValue("order", 42).addKeyValue("paid", true).addKeyValue("amount", 9.5)
                    .addKeyValue("note", "ü \"q\"").addKeyValue("none", (Object) null)
                    .log("order {} placed by {}", 42, "ada");
        } finally {
            MDC.clear();
        }
        double after = System.currentTimeMillis() / 1000.0;
        Map<String, Object> r = collector.awaitLogger("lb.fields", 1).get(0);
        assertEquals("order 42 placed by ada", r.get("msg"));
        assertEquals("r-1", r.get("request_id"));
        assertEquals("shadow", r.get("extra.levelno"));
        assertEquals(20L, r.get("levelno"));
        assertEquals(42L, r.get("order"));
        assertEquals(Boolean.TRUE, r.get("paid"));
        assertEquals(9.5, r.get("amount"));
        assertEquals("ü \"q\"", r.get("note"));
        assertTrue(r.containsKey("none"));
        assertEquals(Thread.currentThread().getName(), r.get("threadName"));
        assertEquals(Thread.currentThread().threadId(), r.get("thread"));
        double created = ((Number) r.get("created")).doubleValue();
        assertTrue(created >= before - 0.001 && created <= after + 0.001, before + " <= " + created + " <= " + after);
    }

    /** An event made on one thread and appended on another (as behind an AsyncAppender) keeps its
     * thread name and leaves the id out instead of sending the appending thread's. */
    @Test
    void eventsHandedOverFromAnotherThreadLeaveTheIdOut() throws Exception {
        Logger logger = ctx.getLogger("lb.handover");
        ch.qos.logback.classic.spi.LoggingEvent[] made = new ch.qos.logback.classic.spi.LoggingEvent[1];
        Thread origin = new Thread(() -> {
            made[0] = new ch.qos.logback.classic.spi.LoggingEvent(Logger.class.getName(), logger,
                    ch.qos.logback.classic.Level.INFO, "made elsewhere", null, null);
            made[0].prepareForDeferredProcessing();
        }, "origin-thread");
        origin.start();
        origin.join();
        Configs.appender(ctx).doAppend(made[0]);
        Map<String, Object> r = collector.awaitLogger("lb.handover", 1).get(0);
        assertEquals("made elsewhere", r.get("msg"));
        assertEquals("origin-thread", r.get("threadName"));
        assertFalse(r.containsKey("thread"), r.toString());
    }

    @Test
    void throwablesArriveAsFullStackTraces() throws Exception {
        IllegalStateException ex = new IllegalStateException("outer", new IOException("middle",
                new IllegalArgumentException("root cause")));
        ex.addSuppressed(new RuntimeException("while closing"));
        LoggerFactory.getLogger("lb.exc").error("request failed", ex);
        Map<String, Object> r = collector.awaitLogger("lb.exc", 1).get(0);
        assertEquals("request failed", r.get("msg"));
        String text = (String) r.get("exc_text");
        ExcText.assertFullTrace(ex, text);
        assertTrue(text.contains("outer\n\tat io.logfunnel.logback."), text);
        assertTrue(text.contains("\nCaused by: java.lang.IllegalArgumentException: root cause"), text);
    }

    @Test
    void callerDataWhenAskedFor() throws Exception {
        int line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
        LoggerFactory.getLogger("lb.caller").info("where am I");
        Map<String, Object> r = collector.awaitLogger("lb.caller", 1).get(0);
        assertEquals("io/logfunnel/logback/LogfunnelAppenderTest.java", r.get("pathname"));
        assertEquals("LogfunnelAppenderTest.java", r.get("filename"));
        assertEquals("LogfunnelAppenderTest", r.get("module"));
        assertEquals((long) line, r.get("lineno"));
        assertEquals("callerDataWhenAskedFor", r.get("funcName"));
    }

    @Test
    void noCallerDataByDefault(@TempDir Path tmp) throws Exception {
        LoggerContext own = Configs.newContext("no-caller");
        Configs.configure(own, Configs.xml(collector.endpoint(), false));
        own.getLogger("lb.nocaller").info("anonymous");
        own.stop();
        Map<String, Object> r = collector.awaitLogger("lb.nocaller", 1).get(0);
        assertFalse(r.containsKey("pathname"), r.toString());
        assertFalse(r.containsKey("lineno"), r.toString());
        assertFalse(r.containsKey("funcName"), r.toString());
    }

    @Test
    void eightThreadsOfFiveThousandAllArriveInOrder() throws Exception {
        int threads = 8;
        int each = 5000;
        org.slf4j.Logger log = LoggerFactory.getLogger("lb.threads");
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    log.atInfo().addKeyValue("t", id).addKeyValue("i", i).log("m");
                }
            }, "lb-worker-" + t);
            th.start();
            ts.add(th);
        }
        go.countDown();
        for (Thread th : ts) {
            th.join();
        }
        List<Map<String, Object>> rs = collector.awaitLogger("lb.threads", threads * each);
        assertEquals(threads * each, rs.size());
        Set<Object> sids = new HashSet<>();
        List<Long> seqs = new ArrayList<>();
        Map<Long, Long> nextPerThread = new HashMap<>();
        for (Map<String, Object> r : rs) {
            sids.add(r.get("sid"));
            seqs.add((Long) r.get("seq"));
            long t = (Long) r.get("t");
            long i = (Long) r.get("i");
            assertEquals(nextPerThread.getOrDefault(t, 0L), i, "thread " + t + " out of order");
            nextPerThread.put(t, i + 1);
            assertEquals("lb-worker-" + t, r.get("threadName"));
        }
        assertEquals(1, sids.size(), "one sender");
        seqs.sort(null);
        long first = seqs.get(0);
        for (int k = 0; k < seqs.size(); k++) {
            assertEquals(first + k, seqs.get(k), "seq continuous");
        }
    }

    @Test
    void stoppingTheContextFlushesBeforeItReturns() throws Exception {
        LoggerContext own = Configs.newContext("stop-flush");
        Configs.configure(own, Configs.xml(collector.endpoint(), false));
        LogfunnelAppender appender = Configs.appender(own);
        Logger log = own.getLogger("lb.stop");
        for (int i = 0; i < 2000; i++) {
            log.info("s{}", i);
        }
        own.stop();
        assertFalse(appender.isStarted());
        SenderStats st = appender.getSender().stats();
        assertEquals(2000, st.enqueued());
        assertEquals(2000, st.sent(), st.toString());
        assertEquals(0, st.dropped(), st.toString());
        List<Map<String, Object>> rs = collector.awaitLogger("lb.stop", 2000);
        assertEquals("s1999", rs.get(1999).get("msg"));
    }

    @Test
    void aJvmThatReturnsFromMainLosesNothing(@TempDir Path tmp) throws Exception {
        Path xml = Files.writeString(tmp.resolve("logback.xml"), Configs.xml(collector.endpoint(), false));
        ChildJvm.Result r = ChildJvm.run(List.of("-Dlogback.configurationFile=" + xml), LogThenReturn.class, "5000");
        assertEquals(0, r.exitCode(), r.output());
        List<Map<String, Object>> rs = collector.awaitLogger("lb.child", 5000);
        for (int i = 0; i < 5000; i++) {
            assertEquals("c" + i, rs.get(i).get("msg"));
            assertEquals((long) i, rs.get(i).get("seq"));
        }
    }

    @Test
    void aMissingNativeLibraryIsReportedAndTheAppenderStaysStopped(@TempDir Path tmp) throws Exception {
        Path xml = Files.writeString(tmp.resolve("logback.xml"), Configs.xml("tcp://127.0.0.1:9", false));
        ChildJvm.Result r = ChildJvm.run(List.of("-Dlogback.configurationFile=" + xml,
                "-Dlogfunnel.library.path=/bogus/liblogfunnel.so"), ReportStatus.class);
        assertEquals(0, r.exitCode(), r.output());
        String out = r.output();
        assertTrue(out.contains("ERROR logfunnel appender [LF] not started: logfunnel: the native library "
                + "liblogfunnel.so could not be loaded"), out);
        assertTrue(out.contains("logfunnel.library.path=/bogus/liblogfunnel.so: no such file"), out);
        assertTrue(out.contains("How to fix"), out);
        assertTrue(out.contains("started=false"), out);
    }

    @Test
    void badSettingsAreReportedByName() throws Exception {
        LoggerContext own = Configs.newContext("bad-settings");
        String xml = Configs.xml(collector.endpoint(), false).replace("<overflow>block</overflow>",
                "<overflow>sometimes</overflow>");
        Configs.configure(own, xml);
        assertFalse(Configs.appender(own).isStarted());
        assertTrue(Configs.statuses(own).contains("unknown overflow policy 'sometimes'"), Configs.statuses(own));
        own.stop();
    }

    @Test
    void unicodeAndEdgeCaseStringsFromTheSharedVectorsArriveByteIdentical() throws Exception {
        List<VectorCases.Case> cases = VectorCases.load(Collector.repo().resolve("spec/vectors/decode.json"));
        assertTrue(cases.size() >= 10, "too few usable vector cases: " + cases.size());
        Logger log = ctx.getLogger("lb.vectors");
        for (VectorCases.Case c : cases) {
            log.callAppenders(c.event(log, ctx));
        }
        List<Map<String, Object>> rs = collector.await(r -> r.get("vector_case") != null, cases.size());
        Map<Object, Map<String, Object>> byCase = new HashMap<>();
        for (Map<String, Object> r : rs) {
            byCase.put(r.get("vector_case"), r);
        }
        int checked = 0;
        for (VectorCases.Case c : cases) {
            Map<String, Object> r = byCase.get(c.name());
            assertNotNull(r, "case " + c.name() + " did not arrive");
            for (Map.Entry<String, Object> e : c.expected().entrySet()) {
                Object want = e.getValue();
                Object got = r.get(e.getKey());
                assertTrue(r.containsKey(e.getKey()), c.name() + ": missing " + e.getKey() + " in " + r);
                if (want instanceof String ws) {
                    assertArrayEquals(ws.getBytes(StandardCharsets.UTF_8),
                            ((String) got).getBytes(StandardCharsets.UTF_8), c.name() + "." + e.getKey());
                } else if (want instanceof Number wn) {
                    assertEquals(wn.doubleValue(), ((Number) got).doubleValue(), 0.0, c.name() + "." + e.getKey());
                } else {
                    assertEquals(want, got, c.name() + "." + e.getKey());
                }
                checked++;
            }
        }
        assertTrue(checked > cases.size() * 2, "checked " + checked);
    }

    /** Child main: logs N records through logback.xml and returns from main without stopping Logback. */
    public static final class LogThenReturn {
        public static void main(String[] args) {
            org.slf4j.Logger log = LoggerFactory.getLogger("lb.child");
            int n = Integer.parseInt(args[0]);
            for (int i = 0; i < n; i++) {
                log.info("c{}", i);
            }
        }
    }

    /** Child main: prints Logback's status list and whether the appender started. */
    public static final class ReportStatus {
        public static void main(String[] args) {
            LoggerContext c = (LoggerContext) LoggerFactory.getILoggerFactory();
            System.out.println(Configs.statuses(c));
            LogfunnelAppender a = Configs.appender(c);
            System.out.println("started=" + (a != null && a.isStarted()));
            LoggerFactory.getLogger("x").info("dropped quietly");
        }
    }
}
