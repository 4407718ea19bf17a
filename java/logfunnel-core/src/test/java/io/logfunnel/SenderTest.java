package io.logfunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logfunnel.testkit.WithCollector;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The binding itself against a real collector: every field of lf_record, outcomes, close, stats. */
class SenderTest extends WithCollector {

    private static LogfunnelSender open() {
        return LogfunnelSender.open(new SenderOptions().endpoint(collector.endpoint()).closeTimeoutMillis(10_000));
    }

    @Test
    void everyFieldArrives() throws Exception {
        Instant t = Instant.parse("2025-01-02T03:04:05.678901Z");
        try (LogfunnelSender s = open()) {
            LogEntry e = new LogEntry(Levels.WARNING, "sender.full", "hello wörld")
                    .source("com/example/Foo.java", 42, "doWork")
                    .thread("worker-1", 77)
                    .excText("java.lang.IllegalStateException: boom\n\tat com.example.Foo.doWork(Foo.java:42)")
                    .stackInfo("Stack (most recent call last):\n  here")
                    .time(t)
                    .field("user", "ada")
                    .field("n", 5)
                    .field("big", Long.MIN_VALUE)
                    .field("ratio", 1.5)
                    .field("ok", true)
                    .field("nothing", null)
                    .field("msg", "shadowed")
                    .field("obj", List.of(1, 2));
            assertEquals(Outcome.QUEUED, s.log(e));
            assertTrue(s.flush(Duration.ofSeconds(10)));
        }
        Map<String, Object> r = collector.awaitLogger("sender.full", 1).get(0);
        assertEquals("java", r.get("lang"));
        assertEquals(30L, r.get("levelno"));
        assertEquals("WARNING", r.get("levelname"));
        assertEquals("hello wörld", r.get("msg"));
        assertEquals("com/example/Foo.java", r.get("pathname"));
        assertEquals("Foo.java", r.get("filename"));
        assertEquals("Foo", r.get("module"));
        assertEquals(42L, r.get("lineno"));
        assertEquals("doWork", r.get("funcName"));
        assertEquals("worker-1", r.get("threadName"));
        assertEquals(77L, r.get("thread"));
        assertEquals("java.lang.IllegalStateException: boom\n\tat com.example.Foo.doWork(Foo.java:42)",
                r.get("exc_text"));
        assertEquals("Stack (most recent call last):\n  here", r.get("stack_info"));
        assertEquals(1735787045.678901, ((Number) r.get("created")).doubleValue(), 1e-6);
        assertEquals("ada", r.get("user"));
        assertEquals(5L, r.get("n"));
        assertEquals(Long.MIN_VALUE, r.get("big"));
        assertEquals(1.5, r.get("ratio"));
        assertEquals(Boolean.TRUE, r.get("ok"));
        assertTrue(r.containsKey("nothing"));
        assertNull(r.get("nothing"));
        assertEquals("shadowed", r.get("extra.msg"));
        assertEquals("[1, 2]", r.get("obj"));
        assertEquals(ProcessHandle.current().pid(), r.get("process"));
        assertNotNull(r.get("host"));
        assertNotNull(r.get("sid"));
        assertEquals(0L, r.get("seq"));
    }

    @Test
    void theShortFormTakesTheCallingThreadAndNow() throws Exception {
        double before = System.currentTimeMillis() / 1000.0;
        try (LogfunnelSender s = open()) {
            assertEquals(Outcome.QUEUED, s.log(Levels.INFO, "sender.short", "plain"));
        }
        Map<String, Object> r = collector.awaitLogger("sender.short", 1).get(0);
        assertEquals(Thread.currentThread().getName(), r.get("threadName"));
        assertEquals(Thread.currentThread().threadId(), r.get("thread"));
        double created = ((Number) r.get("created")).doubleValue();
        assertTrue(created >= before - 1 && created <= System.currentTimeMillis() / 1000.0 + 1, "created " + created);
        assertFalse(r.containsKey("exc_text") && r.get("exc_text") != null, "no exception: " + r);
    }

    @Test
    void largeRecordsAndManyFieldsArriveWhole() throws Exception {
        String big = "x".repeat(300_000) + "ü";
        try (LogfunnelSender s = open()) {
            LogEntry e = new LogEntry(Levels.INFO, "sender.big", big);
            for (int i = 0; i < 40; i++) {
                e.field("k" + i, "v" + i);
            }
            assertEquals(Outcome.QUEUED, s.log(e));
            // The same thread again, with a small record: the encoder's buffer is still right.
            assertEquals(Outcome.QUEUED, s.log(new LogEntry(Levels.INFO, "sender.big", "small").field("k", "v")));
        }
        List<Map<String, Object>> rs = collector.awaitLogger("sender.big", 2);
        assertEquals(big, rs.get(0).get("msg"));
        for (int i = 0; i < 40; i++) {
            assertEquals("v" + i, rs.get(0).get("k" + i));
        }
        assertEquals("small", rs.get(1).get("msg"));
        assertEquals("v", rs.get(1).get("k"));
        assertFalse(rs.get(1).containsKey("k1"));
    }

    @Test
    void closeFlushesThenLaterCallsAreClosedAndCounted() throws Exception {
        LogfunnelSender s = open();
        for (int i = 0; i < 100; i++) {
            s.log(Levels.INFO, "sender.close", "m" + i);
        }
        assertTrue(s.close(Duration.ofSeconds(10)));
        assertTrue(s.isClosed());
        assertEquals(Outcome.CLOSED, s.log(Levels.INFO, "sender.close", "late"));
        assertTrue(s.close(Duration.ofSeconds(1)), "closing twice is harmless");
        assertTrue(s.flush(Duration.ofSeconds(1)));
        SenderStats st = s.stats();
        assertEquals(100, st.enqueued());
        assertEquals(100, st.sent());
        assertEquals(0, st.dropped());
        List<Map<String, Object>> rs = collector.awaitLogger("sender.close", 100);
        for (int i = 0; i < 100; i++) {
            assertEquals("m" + i, rs.get(i).get("msg"));
            assertEquals((long) i, rs.get(i).get("seq"));
        }
    }

    @Test
    void belowMinLevelIsFilteredAndCounted() {
        try (LogfunnelSender s = LogfunnelSender.open(
                new SenderOptions().endpoint(collector.endpoint()).minLevel(Levels.INFO))) {
            assertEquals(Outcome.FILTERED, s.log(Levels.DEBUG, "sender.filtered", "no"));
            assertEquals(1, s.stats().filtered());
        }
    }

    @Test
    void refusedOptionsNameTheProblem() {
        assertThrows(IllegalArgumentException.class, () -> LogfunnelSender.open(new SenderOptions()));
        LogfunnelException e = assertThrows(LogfunnelException.class, () -> LogfunnelSender.open(
                new SenderOptions().endpoint(collector.endpoint()).maxFrameBytes(100)));
        assertTrue(e.getMessage().contains("max_frame_bytes"), e.getMessage());
        assertEquals(101, e.code());
        LogfunnelException bad = assertThrows(LogfunnelException.class,
                () -> LogfunnelSender.open(new SenderOptions().endpoint("nonsense")));
        assertTrue(bad.code() >= 100, bad.getMessage());
    }

    @Test
    void virtualThreadsLogToo() throws Exception {
        try (LogfunnelSender s = open(); ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 50; t++) {
                int id = t;
                fs.add(ex.submit(() -> {
                    for (int i = 0; i < 10; i++) {
                        s.log(new LogEntry(Levels.INFO, "sender.virtual", "v" + id + "-" + i).field("t", id));
                    }
                }));
            }
            for (var f : fs) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
        assertEquals(500, collector.awaitLogger("sender.virtual", 500).size());
    }

    @Test
    void pushModeReachesThePullEndpoint() throws Exception {
        try (LogfunnelSender s = LogfunnelSender.open(new SenderOptions().endpoint(collector.pullEndpoint())
                .mode(SocketMode.PUSH).closeTimeoutMillis(10_000))) {
            for (int i = 0; i < 50; i++) {
                assertEquals(Outcome.QUEUED, s.log(Levels.INFO, "sender.push", "p" + i));
            }
        }
        List<Map<String, Object>> rs = collector.awaitLogger("sender.push", 50);
        assertEquals("p49", rs.get(49).get("msg"));
    }

    @Test
    void aFullQueueDropsTheNewestAndCountsIt() {
        LogfunnelSender s = LogfunnelSender.open(new SenderOptions().endpoint("tcp://127.0.0.1:9")
                .queueCapacity(10).overflow(OverflowPolicy.DROP_NEWEST).shutdownHook(false));
        int queued = 0;
        int full = 0;
        for (int i = 0; i < 25; i++) {
            Outcome o = s.log(Levels.INFO, "sender.full-queue", "m" + i);
            if (o == Outcome.QUEUED) {
                queued++;
            } else if (o == Outcome.QUEUE_FULL) {
                full++;
            }
        }
        assertEquals(10, queued);
        assertEquals(15, full);
        assertEquals(15, s.stats().droppedQueueFull());
        s.close(Duration.ZERO);
    }

    @Test
    void withoutACollectorFlushAndCloseGiveUpInTime() {
        LogfunnelSender s = LogfunnelSender.open(new SenderOptions().endpoint("tcp://127.0.0.1:9")
                .shutdownHook(false));
        for (int i = 0; i < 10; i++) {
            assertEquals(Outcome.QUEUED, s.log(Levels.INFO, "sender.nobody", "m" + i));
        }
        assertFalse(s.flush(Duration.ofMillis(200)));
        assertFalse(s.close(Duration.ofMillis(200)));
        assertFalse(s.close(Duration.ofMillis(200)), "a second close reports the first one's result");
        SenderStats st = s.stats();
        assertEquals(10, st.droppedAtClose());
        assertFalse(st.acknowledging(), "nobody announced itself");
        assertEquals(0, st.acknowledged());
        assertEquals(0, st.resent());
    }
}
