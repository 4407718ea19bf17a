package io.logfunnel.jul;

import io.logfunnel.Levels;
import io.logfunnel.LogEntry;
import io.logfunnel.LogfunnelSender;
import io.logfunnel.OverflowPolicy;
import io.logfunnel.SenderOptions;
import io.logfunnel.SocketMode;
import io.logfunnel.Throwables;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.ObjLongConsumer;
import java.util.logging.ErrorManager;
import java.util.logging.Filter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;

/**
 * A {@code java.util.logging} handler that sends every record to a logfunnel collector.
 *
 * <p>Configured from {@code logging.properties} (keys prefixed with this class's name):
 * <pre>
 * handlers = io.logfunnel.jul.LogfunnelHandler
 * io.logfunnel.jul.LogfunnelHandler.endpoint = tcp://127.0.0.1:5555
 * io.logfunnel.jul.LogfunnelHandler.level = ALL
 * io.logfunnel.jul.LogfunnelHandler.mode = xpub
 * io.logfunnel.jul.LogfunnelHandler.queueCapacity = 65536
 * io.logfunnel.jul.LogfunnelHandler.overflow = block
 * io.logfunnel.jul.LogfunnelHandler.blockTimeoutMillis = 500
 * io.logfunnel.jul.LogfunnelHandler.closeTimeoutMillis = 5000
 * io.logfunnel.jul.LogfunnelHandler.includeCallerData = false
 * io.logfunnel.jul.LogfunnelHandler.curveServerKey = /etc/logfunnel/collector.key
 * io.logfunnel.jul.LogfunnelHandler.curveSecretKey = env:LOGFUNNEL_SECRET_KEY
 * io.logfunnel.jul.LogfunnelHandler.formatter = java.util.logging.SimpleFormatter
 * io.logfunnel.jul.LogfunnelHandler.filter = com.example.MyFilter
 * </pre>
 * Every key is optional; the endpoint defaults to the collector's default {@code tcp://127.0.0.1:5555}.
 *
 * <p>What a record carries: logger name; level on Python's scale ({@link #levelNumber(Level)}: SEVERE 40,
 * WARNING 30, INFO 20, CONFIG 15, FINE 10, FINER and FINEST 5); the message with its parameters merged by
 * the formatter's {@link Formatter#formatMessage(LogRecord)} (so {@code {0}} placeholders and resource
 * bundles work; the formatter's {@code format} layout is not used, the collector formats); the event
 * time; the thread id and, when published on the logging thread, its name; the thrown exception as
 * {@code exc_text} (stack trace with causes and suppressed); with {@code includeCallerData = true} the
 * source class and method ({@code pathname} {@code com/example/Foo.java} guessed from the class,
 * {@code funcName} the method; JUL has no line numbers). {@code lang} is {@code java}.
 *
 * <p>{@link #close()} (called by {@code LogManager.reset()}, also at JVM exit) flushes with a bounded wait
 * of {@code closeTimeoutMillis}.
 */
public class LogfunnelHandler extends Handler {
    /** The collector's default endpoint, used when none is configured. */
    public static final String DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555";

    private final LogfunnelSender sender;
    private final boolean includeCallerData;

    /** The numeric sender options read from properties, each with its {@link SenderOptions} setter. */
    private static final List<Map.Entry<String, ObjLongConsumer<SenderOptions>>> NUMBER_OPTIONS = List.of(
            Map.entry("queueCapacity", SenderOptions::queueCapacity),
            Map.entry("queueMaxBytes", SenderOptions::queueMaxBytes),
            Map.entry("blockTimeoutMillis", SenderOptions::blockTimeoutMillis),
            Map.entry("closeTimeoutMillis", SenderOptions::closeTimeoutMillis),
            Map.entry("maxFrameBytes", SenderOptions::maxFrameBytes));

    /**
     * A handler configured from the {@link LogManager} properties named in the class comment.
     *
     * @throws io.logfunnel.LogfunnelException if the native library cannot be loaded or an option is
     *     refused
     * @throws IllegalArgumentException for a value that cannot be parsed (the message names the key)
     */
    @SuppressWarnings("this-escape") // Handler's own setters, as every JDK handler calls them
    public LogfunnelHandler() {
        String prefix = LogfunnelHandler.class.getName() + ".";
        if (getClass() != LogfunnelHandler.class) {
            prefix = getClass().getName() + ".";
        }
        LogManager m = LogManager.getLogManager();
        SenderOptions o = new SenderOptions().endpoint(prop(m, prefix, "endpoint", DEFAULT_ENDPOINT));
        String v;
        if ((v = prop(m, prefix, "mode", null)) != null) {
            o.mode(SocketMode.parse(v));
        }
        if ((v = prop(m, prefix, "overflow", null)) != null) {
            o.overflow(OverflowPolicy.parse(v));
        }
        for (Map.Entry<String, ObjLongConsumer<SenderOptions>> option : NUMBER_OPTIONS) {
            if ((v = prop(m, prefix, option.getKey(), null)) != null) {
                option.getValue().accept(o, number(prefix, option.getKey(), v));
            }
        }
        if ((v = prop(m, prefix, "host", null)) != null) {
            o.host(v);
        }
        if ((v = prop(m, prefix, "curveServerKey", null)) != null) {
            o.curveServerKey(v);
        }
        if ((v = prop(m, prefix, "curveSecretKey", null)) != null) {
            o.curveSecretKey(v);
        }
        includeCallerData = Boolean.parseBoolean(prop(m, prefix, "includeCallerData", "false"));
        setLevel(Level.parse(prop(m, prefix, "level", "ALL")));
        if ((v = prop(m, prefix, "filter", null)) != null) {
            setFilter((Filter) instantiate(prefix + "filter", v));
        }
        if ((v = prop(m, prefix, "formatter", null)) != null) {
            setFormatter((Formatter) instantiate(prefix + "formatter", v));
        } else {
            setFormatter(new MessageOnlyFormatter());
        }
        sender = LogfunnelSender.open(o);
    }

    /**
     * A handler with explicit options (level ALL, no filter, message-only formatter).
     *
     * @param includeCallerData whether to send the source class and method
     */
    @SuppressWarnings("this-escape") // Handler's own setters, as every JDK handler calls them
    public LogfunnelHandler(SenderOptions options, boolean includeCallerData) {
        this.includeCallerData = includeCallerData;
        setLevel(Level.ALL);
        setFormatter(new MessageOnlyFormatter());
        sender = LogfunnelSender.open(options);
    }

    /** The sender this handler owns (for its {@link LogfunnelSender#stats()}). */
    public LogfunnelSender sender() {
        return sender;
    }

    /**
     * Python's level number for a JUL level: SEVERE and above 40, WARNING 30, INFO 20, CONFIG 15, FINE 10,
     * FINER and FINEST (and anything below FINE) 5. Custom levels fall into the band of the standard level
     * at or below them.
     */
    public static int levelNumber(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return Levels.ERROR;
        }
        if (v >= Level.WARNING.intValue()) {
            return Levels.WARNING;
        }
        if (v >= Level.INFO.intValue()) {
            return Levels.INFO;
        }
        if (v >= Level.CONFIG.intValue()) {
            return Levels.CONFIG;
        }
        if (v >= Level.FINE.intValue()) {
            return Levels.DEBUG;
        }
        return Levels.TRACE;
    }

    @Override
    public void publish(LogRecord record) {
        if (record == null || !isLoggable(record)) {
            return;
        }
        try {
            Formatter f = getFormatter();
            String message = f != null ? f.formatMessage(record) : record.getMessage();
            LogEntry e = new LogEntry(levelNumber(record.getLevel()), record.getLoggerName(), message);
            e.time(record.getInstant());
            long tid = record.getLongThreadID();
            Thread current = Thread.currentThread();
            e.thread(current.threadId() == tid ? current.getName() : "", tid);
            if (record.getThrown() != null) {
                e.excText(Throwables.format(record.getThrown()));
            }
            if (includeCallerData) {
                String cls = record.getSourceClassName();
                if (cls != null) {
                    e.source(sourceFile(cls), 0, record.getSourceMethodName());
                }
            }
            sender.log(e);
        } catch (RuntimeException ex) {
            reportError("logfunnel: could not send a record", ex, ErrorManager.WRITE_FAILURE);
        }
    }

    /** {@code com.example.Foo$Inner} -> {@code com/example/Foo.java} (the usual source layout). */
    static String sourceFile(String className) {
        int dollar = className.indexOf('$');
        String top = dollar > 0 ? className.substring(0, dollar) : className;
        return top.replace('.', '/') + ".java";
    }

    /** Waits (at most {@code closeTimeoutMillis}) until the records published so far are sent. */
    @Override
    public void flush() {
        try {
            sender.flush(Duration.ofMillis(sender.options().closeTimeoutMillis()));
        } catch (RuntimeException ex) {
            reportError("logfunnel: flush failed", ex, ErrorManager.FLUSH_FAILURE);
        }
    }

    /** Flushes and closes the sender, waiting at most {@code closeTimeoutMillis}. */
    @Override
    public void close() {
        try {
            sender.close();
        } catch (RuntimeException ex) {
            reportError("logfunnel: close failed", ex, ErrorManager.CLOSE_FAILURE);
        }
    }

    private static String prop(LogManager m, String prefix, String key, String dflt) {
        String v = m.getProperty(prefix + key);
        return v == null || v.isBlank() ? dflt : v.trim();
    }

    private static long number(String prefix, String key, String v) {
        try {
            return Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(prefix + key + ": not a number: " + v, e);
        }
    }

    private static Object instantiate(String key, String className) {
        try {
            ClassLoader cl = Thread.currentThread().getContextClassLoader();
            Class<?> c = Class.forName(className, true, cl != null ? cl : ClassLoader.getSystemClassLoader());
            return c.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalArgumentException(key + ": cannot create " + className + ": " + e, e);
        }
    }

    /** Used when no formatter is configured: only {@link #formatMessage}, which {@code publish} calls. */
    static final class MessageOnlyFormatter extends Formatter {
        @Override
        public String format(LogRecord record) {
            return formatMessage(record);
        }
    }
}
