package io.logfunnel;

/**
 * A failure of the logfunnel binding: the native library could not be found or loaded, an option was
 * refused, or the native library reported an error. Unchecked, so logging set-up code can let it
 * propagate to the framework, which reports it (Logback status messages, JUL's {@code ErrorManager}).
 */
public class LogfunnelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The native result code ({@code lf_result}), or -1 when the failure did not come from a call. */
    private final int code;

    /** A failure with a message only. */
    public LogfunnelException(String message) {
        this(message, -1, null);
    }

    /** A failure caused by another exception. */
    public LogfunnelException(String message, Throwable cause) {
        this(message, -1, cause);
    }

    /** A failure reported by the native library with result code {@code code}. */
    public LogfunnelException(String message, int code) {
        this(message, code, null);
    }

    private LogfunnelException(String message, int code, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The native result code ({@code lf_result} from {@code logfunnel.h}), or -1. */
    public int code() {
        return code;
    }
}
