package io.logfunnel;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;

/**
 * Lays one {@link LogEntry} out as an {@code lf_record} (plus its {@code lf_field}s and string bytes) in
 * native memory and calls {@code lf_log_record}. One encoder belongs to one platform thread and reuses
 * its buffer, so a log call allocates no native memory; names that repeat (logger, thread, field keys)
 * are encoded once.
 */
final class RecordEncoder {
    /** Buffers up to this size are kept for the next call; a larger record uses a one-call arena. */
    private static final long RETAIN_MAX = 256 * 1024;
    private static final long RECORD_SIZE = Native.RECORD.byteSize();
    private static final long FIELD_SIZE = Native.FIELD.byteSize();
    private static final int KEY_CACHE_MAX = 256;

    /** Where buffers come from: a confined arena for a one-call encoder, else GC-managed memory. */
    private final Arena arena;
    private MemorySegment buf;
    private String lastLogger;
    private byte[] lastLoggerBytes;
    private String lastThread;
    private byte[] lastThreadBytes;
    private final HashMap<String, byte[]> keyCache = new HashMap<>();
    private byte[][] keyBytes = new byte[4][];
    private byte[][] valueBytes = new byte[4][];

    /** An encoder for one platform thread, kept across calls. */
    RecordEncoder(long initialBytes) {
        this.arena = null;
        buf = Arena.ofAuto().allocate(initialBytes, 8);
    }

    /** An encoder for one call (virtual threads), all of whose memory is freed when {@code arena} closes. */
    RecordEncoder(Arena arena, long initialBytes) {
        this.arena = arena;
        buf = arena.allocate(initialBytes, 8);
    }

    /** Encodes {@code e} and passes it to {@code lf_log_record(sender, record)}; returns the result code. */
    int log(MemorySegment sender, LogEntry e) {
        byte[] logger = loggerBytes(e.logger);
        byte[] msg = utf8(e.message);
        byte[] file = utf8(e.file);
        byte[] func = utf8(e.function);
        byte[] thread = threadBytes(e.threadName);
        byte[] exc = utf8(e.excText);
        byte[] stack = utf8(e.stackInfo);
        int n = e.fieldCount;
        if (keyBytes.length < n) {
            keyBytes = new byte[n][];
            valueBytes = new byte[n][];
        }
        long strings = len(logger) + len(msg) + len(file) + len(func) + len(thread) + len(exc) + len(stack);
        for (int i = 0; i < n; i++) {
            byte[] k = keyBytes(e.keys[i]);
            Object v = e.values[i];
            byte[] vb = kind(v) == Native.FIELD_STRING ? utf8(String.valueOf(v)) : null;
            keyBytes[i] = k;
            valueBytes[i] = vb;
            strings += k.length + len(vb);
        }
        long total = RECORD_SIZE + n * FIELD_SIZE + strings;
        Arena oneCall = null;
        MemorySegment seg = buf;
        if (total > seg.byteSize()) {
            if (arena != null) {
                buf = arena.allocate(total, 8);
                seg = buf;
            } else if (total <= RETAIN_MAX) {
                buf = Arena.ofAuto().allocate(Math.min(RETAIN_MAX, Math.max(total, 2 * seg.byteSize())), 8);
                seg = buf;
            } else {
                oneCall = Arena.ofConfined();
                seg = oneCall.allocate(total, 8);
            }
        }
        try {
            long base = seg.address();
            long pos = RECORD_SIZE + n * FIELD_SIZE;
            seg.set(JAVA_INT, Native.R_LEVEL, e.level);
            seg.set(JAVA_INT, Native.R_LINE, e.line);
            pos = string(seg, base, Native.R_LOGGER, logger, pos);
            pos = string(seg, base, Native.R_MSG, msg, pos);
            pos = string(seg, base, Native.R_FILE, file, pos);
            pos = string(seg, base, Native.R_FUNC, func, pos);
            pos = string(seg, base, Native.R_EXC_TEXT, exc, pos);
            pos = string(seg, base, Native.R_STACK_INFO, stack, pos);
            pos = string(seg, base, Native.R_THREAD_NAME, thread, pos);
            seg.set(JAVA_LONG, Native.R_THREAD_ID, e.threadId);
            seg.set(JAVA_DOUBLE, Native.R_CREATED, e.hasTime ? e.epochSecond + e.nanos / 1e9 : 0.0);
            seg.set(JAVA_LONG, Native.R_FIELDS, n == 0 ? 0L : base + RECORD_SIZE);
            seg.set(JAVA_LONG, Native.R_FIELD_COUNT, n);
            for (int i = 0; i < n; i++) {
                long f = RECORD_SIZE + i * FIELD_SIZE;
                Object v = e.values[i];
                int kind = kind(v);
                pos = string(seg, base, f + Native.F_KEY, keyBytes[i], pos);
                pos = string(seg, base, f + Native.F_STR, valueBytes[i], pos);
                long iv = 0;
                double dv = 0;
                if (kind == Native.FIELD_INT) {
                    iv = ((Number) v).longValue();
                } else if (kind == Native.FIELD_BOOL) {
                    iv = ((Boolean) v) ? 1 : 0;
                } else if (kind == Native.FIELD_FLOAT) {
                    dv = ((Number) v).doubleValue();
                }
                seg.set(JAVA_LONG, f + Native.F_INT, iv);
                seg.set(JAVA_DOUBLE, f + Native.F_FLOAT, dv);
                seg.set(JAVA_INT, f + Native.F_KIND, kind);
                keyBytes[i] = null;
                valueBytes[i] = null;
            }
            return (int) Native.LOG_RECORD.invokeExact(sender, seg);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            if (oneCall != null) {
                oneCall.close();
            }
        }
    }

    /**
     * Writes a (pointer, length) pair at {@code at} and the bytes at {@code pos}; returns the next free
     * position. Null bytes give (NULL, 0), "absent"; an empty string gives a non-NULL pointer, "empty".
     */
    private static long string(MemorySegment seg, long base, long at, byte[] bytes, long pos) {
        if (bytes == null) {
            seg.set(JAVA_LONG, at, 0L);
            seg.set(JAVA_LONG, at + 8, 0L);
            return pos;
        }
        MemorySegment.copy(bytes, 0, seg, JAVA_BYTE, pos, bytes.length);
        seg.set(JAVA_LONG, at, base + pos);
        seg.set(JAVA_LONG, at + 8, bytes.length);
        return pos + bytes.length;
    }

    private static int kind(Object v) {
        if (v == null) {
            return Native.FIELD_NULL;
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return Native.FIELD_INT;
        }
        if (v instanceof Double || v instanceof Float) {
            return Native.FIELD_FLOAT;
        }
        if (v instanceof Boolean) {
            return Native.FIELD_BOOL;
        }
        return Native.FIELD_STRING;
    }

    private static long len(byte[] b) {
        return b == null ? 0 : b.length;
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private byte[] loggerBytes(String s) {
        if (s != lastLogger) {
            lastLoggerBytes = utf8(s);
            lastLogger = s;
        }
        return lastLoggerBytes;
    }

    private byte[] threadBytes(String s) {
        if (s != lastThread) {
            lastThreadBytes = utf8(s);
            lastThread = s;
        }
        return lastThreadBytes;
    }

    private byte[] keyBytes(String key) {
        byte[] b = keyCache.get(key);
        if (b == null) {
            if (keyCache.size() >= KEY_CACHE_MAX) {
                keyCache.clear();
            }
            b = utf8(key);
            keyCache.put(key, b);
        }
        return b;
    }
}
