package io.logfunnel;

import java.time.Instant;
import java.util.Arrays;

/**
 * One record to send, filled by a handler and passed to {@link LogfunnelSender#log(LogEntry)}. Mutable and
 * reusable ({@link #clear()}); not thread-safe: use one per call or per thread. Strings are copied during
 * the log call, so the entry can be reused as soon as it returns.
 *
 * <p>Absent values are left out of the record (the collector fills Python's defaults); an absent thread
 * is the calling thread, an absent time is "now".
 */
public final class LogEntry {
    int level;
    String logger;
    String message = "";
    String file;
    int line;
    String function;
    String threadName;
    long threadId;
    String excText;
    String stackInfo;
    long epochSecond;
    int nanos;
    boolean hasTime;
    String[] keys;
    Object[] values;
    int fieldCount;

    /** An empty entry (level 0, empty message). */
    public LogEntry() {}

    /** An entry with a level (Python's numbers, see {@link Levels}), a logger name and a message. */
    public LogEntry(int level, String logger, String message) {
        level(level).logger(logger).message(message);
    }

    /** Level on Python's scale (see {@link Levels}). */
    public LogEntry level(int level) {
        this.level = level;
        return this;
    }

    /** Logger name, e.g. {@code com.example.db}; null means the sender's default logger. */
    public LogEntry logger(String logger) {
        this.logger = logger;
        return this;
    }

    /** The final message text (null is sent as empty). */
    public LogEntry message(String message) {
        this.message = message == null ? "" : message;
        return this;
    }

    /**
     * Source location: file ({@code pathname}/{@code filename}; {@code module} is derived from it), line
     * ({@code lineno}, 0 for none) and function ({@code funcName}); null values are left out.
     */
    public LogEntry source(String file, int line, String function) {
        this.file = file;
        this.line = Math.max(line, 0);
        this.function = function;
        return this;
    }

    /**
     * Thread name ({@code threadName}) and id ({@code thread}): 0 means the calling thread's native
     * id, a negative id leaves {@code thread} out (for an event made on another thread).
     */
    public LogEntry thread(String name, long id) {
        this.threadName = name;
        this.threadId = id;
        return this;
    }

    /** Formatted exception ({@code exc_text}), e.g. {@link Throwables#format(Throwable)}; null for none. */
    public LogEntry excText(String text) {
        this.excText = text;
        return this;
    }

    /** Formatted stack ({@code stack_info}); null for none. */
    public LogEntry stackInfo(String text) {
        this.stackInfo = text;
        return this;
    }

    /** Event time ({@code created}); null means the time of the log call. */
    public LogEntry time(Instant time) {
        if (time == null) {
            hasTime = false;
        } else {
            hasTime = true;
            epochSecond = time.getEpochSecond();
            nanos = time.getNano();
        }
        return this;
    }

    /** Event time in milliseconds since the Unix epoch. */
    public LogEntry timeMillis(long epochMillis) {
        hasTime = true;
        epochSecond = Math.floorDiv(epochMillis, 1000);
        nanos = Math.floorMod(epochMillis, 1000) * 1_000_000;
        return this;
    }

    /**
     * Adds a user field, sent as a top-level key (Python's {@code extra=}). Integers ({@code Long},
     * {@code Integer}, {@code Short}, {@code Byte}) are sent as JSON numbers, {@code Double} and
     * {@code Float} as numbers (NaN and infinities as null), {@code Boolean} as true/false, null as null,
     * anything else as its {@code toString()}. A key that names a schema field ({@code msg}, {@code seq},
     * ...) arrives as {@code extra.<key>}.
     */
    public LogEntry field(String key, Object value) {
        if (key == null) {
            return this;
        }
        if (keys == null) {
            keys = new String[4];
            values = new Object[4];
        } else if (fieldCount == keys.length) {
            keys = Arrays.copyOf(keys, fieldCount * 2);
            values = Arrays.copyOf(values, fieldCount * 2);
        }
        keys[fieldCount] = key;
        values[fieldCount] = value;
        fieldCount++;
        return this;
    }

    /** Number of user fields added. */
    public int fieldCount() {
        return fieldCount;
    }

    /** Resets every value, keeping the allocated field arrays. */
    public LogEntry clear() {
        level = 0;
        logger = null;
        message = "";
        file = null;
        line = 0;
        function = null;
        threadName = null;
        threadId = 0;
        excText = null;
        stackInfo = null;
        hasTime = false;
        if (keys != null) {
            Arrays.fill(keys, 0, fieldCount, null);
            Arrays.fill(values, 0, fieldCount, null);
        }
        fieldCount = 0;
        return this;
    }
}
