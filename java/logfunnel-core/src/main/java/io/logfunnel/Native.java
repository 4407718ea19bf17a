package io.logfunnel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.Map;

/**
 * The C functions and structs of {@code include/logfunnel.h}, as FFM method handles and layouts. Loaded on
 * first use of the class; a missing library surfaces as the {@link LogfunnelException} of
 * {@link NativeLibrary#lookup()}.
 */
final class Native {
    private Native() {}

    /** {@code size_t}; the binding supports 64-bit platforms only (checked below). */
    static final ValueLayout SIZE_T = JAVA_LONG;

    /** {@code lf_field}. */
    static final StructLayout FIELD = MemoryLayout.structLayout(
            ADDRESS.withName("key"),
            SIZE_T.withName("key_len"),
            ADDRESS.withName("str_value"),
            SIZE_T.withName("str_len"),
            JAVA_LONG.withName("int_value"),
            JAVA_DOUBLE.withName("float_value"),
            JAVA_INT.withName("kind"),
            MemoryLayout.paddingLayout(4)).withName("lf_field");

    /** {@code lf_record}. */
    static final StructLayout RECORD = MemoryLayout.structLayout(
            JAVA_INT.withName("level"),
            JAVA_INT.withName("line"),
            ADDRESS.withName("logger"),
            SIZE_T.withName("logger_len"),
            ADDRESS.withName("msg"),
            SIZE_T.withName("msg_len"),
            ADDRESS.withName("file"),
            SIZE_T.withName("file_len"),
            ADDRESS.withName("func"),
            SIZE_T.withName("func_len"),
            ADDRESS.withName("fields"),
            SIZE_T.withName("field_count"),
            ADDRESS.withName("exc_text"),
            SIZE_T.withName("exc_text_len"),
            ADDRESS.withName("stack_info"),
            SIZE_T.withName("stack_info_len"),
            ADDRESS.withName("thread_name"),
            SIZE_T.withName("thread_name_len"),
            JAVA_LONG.withName("thread_id"),
            JAVA_DOUBLE.withName("created")).withName("lf_record");

    /** {@code lf_stats}. */
    static final StructLayout STATS = MemoryLayout.structLayout(
            JAVA_LONG.withName("enqueued"),
            JAVA_LONG.withName("sent"),
            JAVA_LONG.withName("dropped_queue_full"),
            JAVA_LONG.withName("dropped_closed"),
            JAVA_LONG.withName("dropped_at_close"),
            JAVA_LONG.withName("dropped_oversized"),
            JAVA_LONG.withName("truncated"),
            JAVA_LONG.withName("filtered"),
            JAVA_LONG.withName("depth"),
            JAVA_LONG.withName("dropped"),
            JAVA_INT.withName("connected"),
            JAVA_INT.withName("acknowledging"),
            JAVA_LONG.withName("acknowledged"),
            JAVA_LONG.withName("unacknowledged"),
            JAVA_LONG.withName("resent")).withName("lf_stats");

    // Byte offsets, so the hot path writes plain longs and ints.
    static final long F_KEY = off(FIELD, "key");
    static final long F_KEY_LEN = off(FIELD, "key_len");
    static final long F_STR = off(FIELD, "str_value");
    static final long F_STR_LEN = off(FIELD, "str_len");
    static final long F_INT = off(FIELD, "int_value");
    static final long F_FLOAT = off(FIELD, "float_value");
    static final long F_KIND = off(FIELD, "kind");

    static final long R_LEVEL = off(RECORD, "level");
    static final long R_LINE = off(RECORD, "line");
    static final long R_LOGGER = off(RECORD, "logger");
    static final long R_MSG = off(RECORD, "msg");
    static final long R_FILE = off(RECORD, "file");
    static final long R_FUNC = off(RECORD, "func");
    static final long R_FIELDS = off(RECORD, "fields");
    static final long R_FIELD_COUNT = off(RECORD, "field_count");
    static final long R_EXC_TEXT = off(RECORD, "exc_text");
    static final long R_STACK_INFO = off(RECORD, "stack_info");
    static final long R_THREAD_NAME = off(RECORD, "thread_name");
    static final long R_THREAD_ID = off(RECORD, "thread_id");
    static final long R_CREATED = off(RECORD, "created");

    static final long S_CONNECTED = off(STATS, "connected");
    static final long S_ACKNOWLEDGING = off(STATS, "acknowledging");
    static final long S_ACKNOWLEDGED = off(STATS, "acknowledged");
    static final long S_UNACKNOWLEDGED = off(STATS, "unacknowledged");
    static final long S_RESENT = off(STATS, "resent");

    /** {@code lf_field_kind} values. */
    static final int FIELD_STRING = 0;
    static final int FIELD_INT = 1;
    static final int FIELD_FLOAT = 2;
    static final int FIELD_BOOL = 3;
    static final int FIELD_NULL = 5;

    /** {@code lf_result} values the binding acts on. */
    static final int LF_OK = 0;
    static final int LF_FILTERED = 1;
    static final int LF_QUEUE_FULL = 2;
    static final int LF_CLOSED = 3;
    static final int LF_TIMED_OUT = 4;

    static final MethodHandle OPTIONS_NEW;
    static final MethodHandle OPTIONS_FREE;
    /** {@code lf_options_set_<name>} by {@code <name>}; each takes the options and one value. */
    private static final Map<String, MethodHandle> OPTION_SETTERS = new HashMap<>();
    static final MethodHandle SENDER_NEW;
    static final MethodHandle SENDER_FREE;
    static final MethodHandle LOG_RECORD;
    static final MethodHandle FLUSH;
    static final MethodHandle CLOSE;
    static final MethodHandle STATS_FN;
    static final MethodHandle RESULT_MESSAGE;
    static final MethodHandle LAST_ERROR;
    static final MethodHandle VERSION;

    static {
        // NativeLibrary.lookup() has already checked the platform and that every symbol below exists.
        SymbolLookup lib = NativeLibrary.lookup();
        OPTIONS_NEW = fn(lib, "lf_options_new", FunctionDescriptor.of(ADDRESS));
        OPTIONS_FREE = fn(lib, "lf_options_free", FunctionDescriptor.ofVoid(ADDRESS));
        for (String name : new String[] {"endpoint", "lang", "host", "default_logger", "curve_server_key", "curve_secret_key"}) {
            setter(lib, name, ADDRESS);
        }
        for (String name : new String[] {"mode", "overflow", "block_timeout_ms", "min_level", "sndhwm",
                "close_timeout_ms"}) {
            setter(lib, name, JAVA_INT);
        }
        for (String name : new String[] {"queue_capacity", "queue_max_bytes", "max_frame_bytes"}) {
            setter(lib, name, SIZE_T);
        }
        SENDER_NEW = fn(lib, "lf_sender_new", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        SENDER_FREE = fn(lib, "lf_sender_free", FunctionDescriptor.ofVoid(ADDRESS));
        LOG_RECORD = fn(lib, "lf_log_record", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        FLUSH = fn(lib, "lf_flush", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        CLOSE = fn(lib, "lf_close", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        STATS_FN = fn(lib, "lf_get_stats", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        RESULT_MESSAGE = fn(lib, "lf_result_message", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        LAST_ERROR = fn(lib, "lf_last_error", FunctionDescriptor.of(ADDRESS));
        VERSION = fn(lib, "lf_version", FunctionDescriptor.of(ADDRESS));
    }

    private static void setter(SymbolLookup lib, String name, ValueLayout value) {
        OPTION_SETTERS.put(name, fn(lib, "lf_options_set_" + name, FunctionDescriptor.of(JAVA_INT, ADDRESS, value)));
    }

    /**
     * Calls {@code lf_options_set_<name>(options, value)}: {@code value} is an {@code Integer} for C
     * {@code int32_t}/{@code uint32_t}/enum parameters, a {@code Long} for {@code size_t}, a
     * {@code MemorySegment} for strings. Returns the {@code lf_result}.
     */
    static int setOption(MemorySegment options, String name, Object value) {
        MethodHandle h = OPTION_SETTERS.get(name);
        if (h == null) {
            throw new IllegalArgumentException("no lf_options_set_" + name);
        }
        try {
            return (int) h.invoke(options, value);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static long off(StructLayout layout, String name) {
        return layout.byteOffset(PathElement.groupElement(name));
    }

    private static MethodHandle fn(SymbolLookup lib, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lib.find(name).orElseThrow();
        return Linker.nativeLinker().downcallHandle(symbol, fd);
    }

    /** A NUL-terminated string returned by the library (static or thread-local: copied at once). */
    static String string(MemorySegment cstr) {
        if (cstr.equals(MemorySegment.NULL)) {
            return "";
        }
        return cstr.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** {@code lf_result_message(code)}. */
    static String resultMessage(int code) {
        try {
            return string((MemorySegment) RESULT_MESSAGE.invokeExact(code));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code lf_last_error()} for the calling thread. */
    static String lastError() {
        try {
            return string((MemorySegment) LAST_ERROR.invokeExact());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An exception for a failed call: the code's message plus the thread's last error detail. */
    static LogfunnelException failure(String what, int code) {
        String detail = code >= 100 ? lastError() : "";
        String msg = "logfunnel: " + what + " failed: " + resultMessage(code) + (detail.isEmpty() ? "" : " (" + detail + ")");
        return new LogfunnelException(msg, code);
    }

    /** Method handles declare Throwable; nothing checked can come out of these downcalls. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new LogfunnelException("logfunnel: unexpected failure of a native call", t);
    }
}
