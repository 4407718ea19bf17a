package io.logfunnel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A connection to a logfunnel collector: the native sender of {@code include/logfunnel.h}, a bounded
 * queue with its own I/O thread. Thread-safe: share one sender between all threads (the bundled JUL
 * handler and Logback appender each own one).
 *
 * <pre>{@code
 * try (LogfunnelSender s = LogfunnelSender.open(new SenderOptions().endpoint("tcp://127.0.0.1:5555"))) {
 *     s.log(new LogEntry(Levels.INFO, "app", "started").field("user", "ada"));
 * } // close() flushes, waiting at most closeTimeoutMillis
 * }</pre>
 *
 * <p>Unless {@link SenderOptions#shutdownHook(boolean)} is off, a JVM shutdown hook closes every sender
 * still open, so records logged before a normal exit are not lost. After {@link #close()} log calls return
 * {@link Outcome#CLOSED}; the native sender is freed only once no call is using it any more.
 */
public final class LogfunnelSender implements AutoCloseable {
    private static final Set<LogfunnelSender> OPEN = ConcurrentHashMap.newKeySet();
    private static final Object HOOK_LOCK = new Object();
    private static boolean hookInstalled;

    /** Per-platform-thread encoders (with their native buffers); virtual threads use one per call instead. */
    private static final ThreadLocal<RecordEncoder> ENCODER =
            ThreadLocal.withInitial(() -> new RecordEncoder(2048));

    private final SenderOptions options;
    private final MemorySegment handle;
    /** Log/flush/stats calls inside the native library right now; {@link #close} waits for zero. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean closing;
    private boolean freed;
    /** What the first {@link #close} returned (guarded by {@code this}). */
    private boolean closedInTime;
    /** Counters read just before the native sender was freed (guarded by {@code this}). */
    private SenderStats finalStats;

    private LogfunnelSender(SenderOptions options, MemorySegment handle) {
        this.options = options;
        this.handle = handle;
    }

    /**
     * Opens a sender. A collector that is not running yet is not an error: records wait in the queue.
     *
     * @throws LogfunnelException if the native library cannot be loaded or an option is refused (the
     *     message names it)
     * @throws IllegalArgumentException if no endpoint is set
     */
    public static LogfunnelSender open(SenderOptions options) {
        SenderOptions o = new SenderOptions(options);
        if (o.endpoint() == null || o.endpoint().isBlank()) {
            throw new IllegalArgumentException("logfunnel: no endpoint set (e.g. tcp://127.0.0.1:5555)");
        }
        NativeLibrary.lookup(); // a clear error before Native's initializer runs
        MemorySegment opts;
        try {
            opts = (MemorySegment) Native.OPTIONS_NEW.invokeExact();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (opts.equals(MemorySegment.NULL)) {
            throw new LogfunnelException("logfunnel: lf_options_new failed");
        }
        boolean consumed = false;
        try (Arena arena = Arena.ofConfined()) {
            setOption(opts, "endpoint", arena.allocateFrom(o.endpoint()));
            setOption(opts, "lang", arena.allocateFrom("java"));
            // lf_sender_free (without lf_close) waits this long too.
            setOption(opts, "close_timeout_ms", (int) o.closeTimeoutMillis());
            o.forEachSet((name, value) ->
                    setOption(opts, name, value instanceof String text ? arena.allocateFrom(text) : value));
            MemorySegment out = arena.allocate(ADDRESS);
            consumed = true; // lf_sender_new takes the options over whatever it returns
            check("lf_sender_new", (int) Native.SENDER_NEW.invokeExact(opts, out));
            LogfunnelSender s = new LogfunnelSender(o, out.get(ADDRESS, 0));
            if (o.shutdownHook()) {
                installHook();
                OPEN.add(s);
            }
            return s;
        } catch (LogfunnelException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            if (!consumed) {
                try {
                    Native.OPTIONS_FREE.invokeExact(opts);
                } catch (Throwable t) {
                    throw Native.rethrow(t);
                }
            }
        }
    }

    private static void setOption(MemorySegment opts, String name, Object value) {
        check("lf_options_set_" + name, Native.setOption(opts, name, value));
    }

    private static void check(String what, int code) {
        if (code != Native.LF_OK) {
            throw Native.failure(what, code);
        }
    }

    /** The options this sender was opened with (a copy; changing it has no effect). */
    public SenderOptions options() {
        return new SenderOptions(options);
    }

    /**
     * Offers a record. Never throws for a full queue or a closed sender: the outcome says what happened.
     * Blocks only with {@link OverflowPolicy#BLOCK} and a full queue, at most the block timeout.
     */
    public Outcome log(LogEntry entry) {
        inFlight.incrementAndGet();
        try {
            if (closing) {
                return Outcome.CLOSED;
            }
            int code;
            if (Thread.currentThread().isVirtual()) {
                // A virtual thread may be one of millions: no per-thread buffer, one confined arena per call.
                try (Arena arena = Arena.ofConfined()) {
                    code = new RecordEncoder(arena, 1024).log(handle, entry);
                }
            } else {
                code = ENCODER.get().log(handle, entry);
            }
            return outcome(code);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Offers a record with a level, logger and message only (time and thread: now, this thread). */
    public Outcome log(int level, String logger, String message) {
        Thread t = Thread.currentThread();
        return log(new LogEntry(level, logger, message).thread(t.getName(), t.threadId()));
    }

    private static Outcome outcome(int code) {
        return switch (code) {
            case Native.LF_OK -> Outcome.QUEUED;
            case Native.LF_FILTERED -> Outcome.FILTERED;
            case Native.LF_QUEUE_FULL -> Outcome.QUEUE_FULL;
            case Native.LF_CLOSED -> Outcome.CLOSED;
            default -> throw Native.failure("lf_log_record", code);
        };
    }

    /**
     * Waits until every record queued so far has been handed to ZeroMQ, at most {@code timeout}.
     *
     * @return true if everything was handed over, false if the timeout passed first (for example while
     *     no collector is there)
     */
    public boolean flush(Duration timeout) {
        inFlight.incrementAndGet();
        try {
            if (closing) {
                return true; // close() already flushed what it could
            }
            int code = (int) Native.FLUSH.invokeExact(handle, millis(timeout));
            return flushed("lf_flush", code);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private static boolean flushed(String what, int code) {
        if (code == Native.LF_OK) {
            return true;
        }
        if (code == Native.LF_TIMED_OUT) {
            return false;
        }
        throw Native.failure(what, code);
    }

    private static int millis(Duration d) {
        long ms = Math.max(0, Math.min(d.toMillis(), 0xFFFF_FFFFL));
        return (int) ms;
    }

    /** Closes with the options' close timeout (default 5 s). */
    @Override
    public void close() {
        close(Duration.ofMillis(options.closeTimeoutMillis()));
    }

    /**
     * Flushes and closes, waiting at most {@code timeout}; records still unsent then are dropped and
     * counted. Later log calls return {@link Outcome#CLOSED}. Calling it again does nothing but return
     * the first call's answer.
     *
     * @return true if every record was sent, false if the timeout passed first
     */
    public boolean close(Duration timeout) {
        synchronized (this) {
            if (freed) {
                return closedInTime;
            }
            closing = true;
            OPEN.remove(this);
            try {
                // Calls that saw closing == false may still be running; lf_close makes them return at once
                // (a blocked log call gives up), then the handle is freed when the last one is out.
                int code = (int) Native.CLOSE.invokeExact(handle, millis(timeout));
                while (inFlight.get() != 0) {
                    LockSupport.parkNanos(50_000);
                }
                finalStats = readStats(handle);
                Native.SENDER_FREE.invokeExact(handle);
                freed = true;
                closedInTime = code == Native.LF_OK;
                return flushed("lf_close", code);
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
        }
    }

    /** Whether {@link #close} was called. */
    public boolean isClosed() {
        return closing;
    }

    /** The sender's counters; after {@link #close} the counters as they were when it closed. */
    public SenderStats stats() {
        if (!closing) {
            inFlight.incrementAndGet();
            try {
                if (!closing) {
                    return readStats(handle);
                }
            } finally {
                inFlight.decrementAndGet();
            }
        }
        synchronized (this) { // waits for a close in progress, never while counted in inFlight
            return finalStats;
        }
    }

    private static SenderStats readStats(MemorySegment handle) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(Native.STATS);
            int code = (int) Native.STATS_FN.invokeExact(handle, m);
            if (code != Native.LF_OK) {
                throw Native.failure("lf_get_stats", code);
            }
            long[] v = new long[10];
            for (int i = 0; i < 10; i++) {
                v[i] = m.get(JAVA_LONG, i * 8L);
            }
            return new SenderStats(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                    m.get(JAVA_INT, Native.S_CONNECTED) != 0,
                    m.get(JAVA_INT, Native.S_ACKNOWLEDGING) != 0,
                    m.get(JAVA_LONG, Native.S_ACKNOWLEDGED),
                    m.get(JAVA_LONG, Native.S_UNACKNOWLEDGED),
                    m.get(JAVA_LONG, Native.S_RESENT));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The native library's version ({@code lf_version()}), e.g. "0.1.0". */
    public static String nativeVersion() {
        NativeLibrary.lookup();
        try {
            return Native.string((MemorySegment) Native.VERSION.invokeExact());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static void installHook() {
        synchronized (HOOK_LOCK) {
            if (hookInstalled) {
                return;
            }
            hookInstalled = true;
            Thread hook = new Thread(LogfunnelSender::closeAllAtExit, "logfunnel-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
        }
    }

    /** The shutdown hook: closes every open sender, each with its own close timeout. */
    private static void closeAllAtExit() {
        for (LogfunnelSender s : OPEN.toArray(new LogfunnelSender[0])) {
            try {
                s.close();
            } catch (RuntimeException e) {
                System.err.println("logfunnel: closing a sender at exit failed: " + e.getMessage());
            }
        }
    }
}
