package io.logfunnel;

import java.util.Locale;

/** The ZeroMQ socket type the sender connects with; the collector must listen for the same kind. */
public enum SocketMode {
    /**
     * XPUB with {@code ZMQ_XPUB_NODROP}, connecting to the collector's {@code bind} (SUB) endpoints (the
     * default): nothing is sent before the collector subscribed and nothing is dropped by ZeroMQ.
     */
    XPUB(0),
    /** PUSH, connecting to the collector's {@code pull} endpoints. */
    PUSH(1);

    final int code;

    SocketMode(int code) {
        this.code = code;
    }

    /**
     * Parses a configuration value ({@code xpub} or {@code push}, any case).
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static SocketMode parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "xpub" -> XPUB;
            case "push" -> PUSH;
            default -> throw new IllegalArgumentException("unknown mode '" + s + "' (expected xpub or push)");
        };
    }
}
