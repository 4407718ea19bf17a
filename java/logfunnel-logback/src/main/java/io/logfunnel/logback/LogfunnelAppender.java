package io.logfunnel.logback;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import io.logfunnel.Levels;
import io.logfunnel.LogEntry;
import io.logfunnel.LogfunnelException;
import io.logfunnel.LogfunnelSender;
import io.logfunnel.OverflowPolicy;
import io.logfunnel.SenderOptions;
import io.logfunnel.SocketMode;
import io.logfunnel.Throwables;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.event.KeyValuePair;

/**
 * A Logback appender that sends every event to a logfunnel collector.
 *
 * <pre>{@code
 * <appender name="LOGFUNNEL" class="io.logfunnel.logback.LogfunnelAppender">
 *   <endpoint>tcp://127.0.0.1:5555</endpoint>
 *   <includeCallerData>false</includeCallerData>
 *   <!-- optional: mode (xpub|push), queueCapacity, queueMaxBytes, overflow (block|drop_newest|drop_oldest),
 *        blockTimeoutMillis, closeTimeoutMillis, maxFrameBytes, host,
 *        curveServerKey and curveSecretKey (a file path or env:NAME) for a collector with [curve] -->
 * </appender>
 * }</pre>
 *
 * <p>What a record carries: the logger name; the level on Python's scale (TRACE 5, DEBUG 10, INFO 20,
 * WARN 30, ERROR 40); the formatted message; the event time; the thread name; MDC entries and SLF4J 2
 * key-value pairs as user fields (key-value numbers and booleans stay JSON numbers and booleans; a key
 * that names a schema field arrives as {@code extra.<key>}); the throwable as {@code exc_text} with
 * causes and suppressed exceptions, as {@code printStackTrace} prints it; and, only with
 * {@code includeCallerData} (it costs a stack walk per event), {@code pathname}/{@code filename},
 * {@code lineno} and {@code funcName} of the caller. {@code lang} is {@code java}.
 *
 * <p>The appender is thread-safe without Logback's appender lock; the native sender queues and sends on
 * its own thread, so wrapping it in an {@code AsyncAppender} buys nothing. {@code stop()} (and so
 * {@code LoggerContext.stop()}) and JVM exit flush with a wait of at most {@code closeTimeoutMillis}.
 */
public class LogfunnelAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    /** The collector's default endpoint, used when none is configured. */
    public static final String DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555";

    private String endpoint = DEFAULT_ENDPOINT;
    private String mode;
    private Long queueCapacity;
    private Long queueMaxBytes;
    private String overflow;
    private Long blockTimeoutMillis;
    private long closeTimeoutMillis = SenderOptions.DEFAULT_CLOSE_TIMEOUT_MILLIS;
    private Long maxFrameBytes;
    private String host;
    private String curveServerKey;
    private String curveSecretKey;
    private boolean includeCallerData;

    private volatile LogfunnelSender sender;
    private final AtomicLong errors = new AtomicLong();

    /** Collector endpoint, {@code tcp://host:port} or {@code ipc://path} (default tcp://127.0.0.1:5555). */
    public void setEndpoint(String endpoint) {
        this.endpoint = endpoint;
    }

    /** Socket type: {@code xpub} (default) or {@code push}. */
    public void setMode(String mode) {
        this.mode = mode;
    }

    /** Most records waiting in memory (default: see {@link SenderOptions}). */
    public void setQueueCapacity(long queueCapacity) {
        this.queueCapacity = queueCapacity;
    }

    /** Most bytes waiting in memory (default: see {@link SenderOptions}). */
    public void setQueueMaxBytes(long queueMaxBytes) {
        this.queueMaxBytes = queueMaxBytes;
    }

    /** When the queue is full: {@code block} (default), {@code drop_newest} or {@code drop_oldest}. */
    public void setOverflow(String overflow) {
        this.overflow = overflow;
    }

    /** Longest wait for room with {@code block}, milliseconds (default: see {@link SenderOptions}). */
    public void setBlockTimeoutMillis(long blockTimeoutMillis) {
        this.blockTimeoutMillis = blockTimeoutMillis;
    }

    /** Longest wait of {@code stop()} and of the JVM-exit flush, milliseconds (default {@link SenderOptions#DEFAULT_CLOSE_TIMEOUT_MILLIS}). */
    public void setCloseTimeoutMillis(long closeTimeoutMillis) {
        this.closeTimeoutMillis = closeTimeoutMillis;
    }

    /** Largest record in bytes (default: see {@link SenderOptions}); larger ones are truncated. */
    public void setMaxFrameBytes(long maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    /** The {@code host} field (default: the machine's host name). */
    public void setHost(String host) {
        this.host = host;
    }

    /** The collector's CURVE public key: a file path or {@code env:NAME} (default: none, plaintext). */
    public void setCurveServerKey(String curveServerKey) {
        this.curveServerKey = curveServerKey;
    }

    /** This sender's CURVE secret key: a file path or {@code env:NAME} (default: none, plaintext). */
    public void setCurveSecretKey(String curveSecretKey) {
        this.curveSecretKey = curveSecretKey;
    }

    /** Whether to send the caller's file, line and method (default false: it costs a stack walk). */
    public void setIncludeCallerData(boolean includeCallerData) {
        this.includeCallerData = includeCallerData;
    }

    /** Whether caller data is sent. */
    public boolean isIncludeCallerData() {
        return includeCallerData;
    }

    /** The sender, or null while the appender is not started (for its {@link LogfunnelSender#stats()}). */
    public LogfunnelSender getSender() {
        return sender;
    }

    @Override
    public void start() {
        if (isStarted()) {
            return;
        }
        SenderOptions o;
        try {
            SenderOptions set = new SenderOptions().endpoint(endpoint).closeTimeoutMillis(closeTimeoutMillis);
            ifSet(mode, v -> set.mode(SocketMode.parse(v)));
            ifSet(queueCapacity, set::queueCapacity);
            ifSet(queueMaxBytes, set::queueMaxBytes);
            ifSet(overflow, v -> set.overflow(OverflowPolicy.parse(v)));
            ifSet(blockTimeoutMillis, set::blockTimeoutMillis);
            ifSet(maxFrameBytes, set::maxFrameBytes);
            ifSet(host, set::host);
            ifSet(curveServerKey, set::curveServerKey);
            ifSet(curveSecretKey, set::curveSecretKey);
            o = set;
        } catch (IllegalArgumentException | NullPointerException e) {
            addError("logfunnel appender [" + name + "] not started: invalid setting: " + e.getMessage());
            return;
        }
        try {
            sender = LogfunnelSender.open(o);
        } catch (LogfunnelException | IllegalArgumentException e) {
            // The message says what went wrong and how to fix it; a stack trace would only bury it.
            addError("logfunnel appender [" + name + "] not started: " + e.getMessage());
            return;
        }
        super.start();
    }

    /** Hands a configured value to its option; an unset one (null) leaves the native default. */
    private static <T> void ifSet(T value, Consumer<T> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }

    /** Flushes and closes the sender, waiting at most {@code closeTimeoutMillis}. */
    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        LogfunnelSender s = sender;
        if (s != null) {
            try {
                if (!s.close(Duration.ofMillis(closeTimeoutMillis))) {
                    addWarn("logfunnel appender [" + name + "]: close timed out after " + closeTimeoutMillis
                            + " ms; " + s.stats().droppedAtClose() + " records were not sent");
                }
            } catch (RuntimeException e) {
                addError("logfunnel appender [" + name + "]: close failed: " + e.getMessage(), e);
            }
        }
    }

    /** Python's level number for a Logback level: TRACE 5, DEBUG 10, INFO 20, WARN 30, ERROR 40. */
    public static int levelNumber(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> Levels.ERROR;
            case Level.WARN_INT -> Levels.WARNING;
            case Level.INFO_INT -> Levels.INFO;
            case Level.DEBUG_INT -> Levels.DEBUG;
            case Level.TRACE_INT -> Levels.TRACE;
            default -> level.toInt() >= Level.ERROR_INT ? Levels.ERROR : Levels.NOTSET;
        };
    }

    @Override
    protected void append(ILoggingEvent event) {
        LogfunnelSender s = sender;
        if (s == null) {
            return;
        }
        try {
            s.log(toEntry(event));
        } catch (RuntimeException e) {
            long n = errors.incrementAndGet();
            if (n <= 5 || n % 1000 == 0) {
                addError("logfunnel appender [" + name + "]: could not send a record (" + n + " so far)", e);
            }
        }
    }

    /** The record for one event (visible for tests and benchmarks). */
    LogEntry toEntry(ILoggingEvent event) {
        LogEntry e = new LogEntry(levelNumber(event.getLevel()), event.getLoggerName(),
                event.getFormattedMessage());
        e.time(event.getInstant());
        String threadName = event.getThreadName();
        Thread current = Thread.currentThread();
        // The event has no thread id; the current thread is the logging one unless an AsyncAppender (or
        // similar) hands events over, which shows as a different name: then the id is left out (-1)
        // rather than the handing-over thread's.
        e.thread(threadName, current.getName().equals(threadName) ? current.threadId() : -1);
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null && !mdc.isEmpty()) {
            for (Map.Entry<String, String> m : mdc.entrySet()) {
                e.field(m.getKey(), m.getValue());
            }
        }
        List<KeyValuePair> kvs = event.getKeyValuePairs();
        if (kvs != null) {
            for (KeyValuePair kv : kvs) {
                e.field(kv.key, kv.value);
            }
        }
        IThrowableProxy tp = event.getThrowableProxy();
        if (tp != null) {
            e.excText(tp instanceof ThrowableProxy p && p.getThrowable() != null
                    ? Throwables.format(p.getThrowable())
                    : ThrowableProxyUtil.asString(tp).stripTrailing());
        }
        if (includeCallerData) {
            StackTraceElement[] caller = event.getCallerData();
            if (caller != null && caller.length > 0) {
                StackTraceElement c = caller[0];
                e.source(pathname(c), Math.max(c.getLineNumber(), 0), c.getMethodName());
            }
        }
        return e;
    }

    /** {@code com/example/Foo.java}: the package as folders plus the source file name. */
    static String pathname(StackTraceElement c) {
        String cls = c.getClassName();
        int dot = cls.lastIndexOf('.');
        String pkg = dot > 0 ? cls.substring(0, dot).replace('.', '/') + "/" : "";
        String file = c.getFileName();
        if (file == null) {
            int dollar = cls.indexOf('$', dot + 1);
            file = cls.substring(dot + 1, dollar > 0 ? dollar : cls.length()) + ".java";
        }
        return pkg + file;
    }
}
