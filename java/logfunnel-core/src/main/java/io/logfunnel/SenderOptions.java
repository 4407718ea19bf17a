package io.logfunnel;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * Settings for {@link LogfunnelSender#open(SenderOptions)}. Only the options set here are passed to the
 * native library; the others keep the core's defaults (listed below; {@code spec/defaults.json}, checked
 * by {@code SenderOptionsDefaultsTest}). {@link LogfunnelSender#open} takes a copy, so one instance can be
 * reused.
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>endpoint</td><td>none (required)</td><td>{@code tcp://host:port} or {@code ipc://path} of the
 *       collector</td></tr>
 *   <tr><td>mode</td><td>{@link SocketMode#XPUB}</td><td>socket type; the collector's {@code bind}
 *       (XPUB) or {@code pull} (PUSH) list must hold the endpoint</td></tr>
 *   <tr><td>queueCapacity</td><td>65536 (records)</td><td>records waiting in memory at most</td></tr>
 *   <tr><td>queueMaxBytes</td><td>67108864 (64 MiB)</td><td>bytes waiting in memory at most (approximate)</td></tr>
 *   <tr><td>overflow</td><td>{@link OverflowPolicy#BLOCK}</td><td>what a log call does when the queue is
 *       full</td></tr>
 *   <tr><td>blockTimeoutMillis</td><td>1000</td><td>longest wait for room with BLOCK</td></tr>
 *   <tr><td>maxFrameBytes</td><td>1048576 (1 MiB)</td><td>larger records are truncated</td></tr>
 *   <tr><td>minLevel</td><td>0</td><td>records below it are counted as filtered, not sent</td></tr>
 *   <tr><td>sndhwm</td><td>1000</td><td>ZeroMQ's send high-water mark, frames</td></tr>
 *   <tr><td>closeTimeoutMillis</td><td>5000</td><td>longest wait of {@link LogfunnelSender#close()},
 *       of the shutdown hook, and of appender/handler close</td></tr>
 *   <tr><td>host</td><td>the machine's host name</td><td>{@code host} field of every record</td></tr>
 *   <tr><td>curveServerKey</td><td>none (plaintext)</td><td>the collector's CURVE public key, for a
 *       collector with {@code [curve]}: a file path (its {@code .key}) or {@code env:NAME}</td></tr>
 *   <tr><td>curveSecretKey</td><td>none (plaintext)</td><td>this sender's CURVE secret key (a
 *       {@code .key_secret} file from {@code logfunnel-collector keygen}, or {@code env:NAME}); its
 *       public half must be in the collector's allowlist</td></tr>
 *   <tr><td>defaultLogger</td><td>"root"</td><td>logger name for records that have none</td></tr>
 *   <tr><td>shutdownHook</td><td>true</td><td>close (flush) the sender when the JVM exits</td></tr>
 * </table>
 * Every record carries {@code lang = "java"}.
 */
public final class SenderOptions {
    /** Default of {@link #closeTimeoutMillis(long)}. */
    public static final long DEFAULT_CLOSE_TIMEOUT_MILLIS = 5000;

    private String endpoint;
    private SocketMode mode;
    private Long queueCapacity;
    private Long queueMaxBytes;
    private OverflowPolicy overflow;
    private Long blockTimeoutMillis;
    private Long maxFrameBytes;
    private Integer minLevel;
    private Integer sndhwm;
    private long closeTimeoutMillis = DEFAULT_CLOSE_TIMEOUT_MILLIS;
    private String host;
    private String curveServerKey;
    private String curveSecretKey;
    private String defaultLogger;
    private boolean shutdownHook = true;

    /** Options with every default; {@link #endpoint(String)} must still be set. */
    public SenderOptions() {}

    /** A copy of {@code other}. */
    public SenderOptions(SenderOptions other) {
        endpoint = other.endpoint;
        mode = other.mode;
        queueCapacity = other.queueCapacity;
        queueMaxBytes = other.queueMaxBytes;
        overflow = other.overflow;
        blockTimeoutMillis = other.blockTimeoutMillis;
        maxFrameBytes = other.maxFrameBytes;
        minLevel = other.minLevel;
        sndhwm = other.sndhwm;
        closeTimeoutMillis = other.closeTimeoutMillis;
        host = other.host;
        curveServerKey = other.curveServerKey;
        curveSecretKey = other.curveSecretKey;
        defaultLogger = other.defaultLogger;
        shutdownHook = other.shutdownHook;
    }

    /** Where the collector listens: {@code tcp://127.0.0.1:5555} or {@code ipc:///run/app/log.sock}. */
    public SenderOptions endpoint(String endpoint) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        return this;
    }

    /** The socket type (default XPUB). */
    public SenderOptions mode(SocketMode mode) {
        this.mode = Objects.requireNonNull(mode, "mode");
        return this;
    }

    /** Most records queued (at least 1). */
    public SenderOptions queueCapacity(long records) {
        this.queueCapacity = positive(records, "queueCapacity");
        return this;
    }

    /** Most bytes queued (at least 1). */
    public SenderOptions queueMaxBytes(long bytes) {
        this.queueMaxBytes = positive(bytes, "queueMaxBytes");
        return this;
    }

    /** What a log call does when the queue is full (default BLOCK). */
    public SenderOptions overflow(OverflowPolicy overflow) {
        this.overflow = Objects.requireNonNull(overflow, "overflow");
        return this;
    }

    /** Longest wait for room with {@link OverflowPolicy#BLOCK}, in milliseconds. */
    public SenderOptions blockTimeoutMillis(long millis) {
        this.blockTimeoutMillis = millis(millis, "blockTimeoutMillis");
        return this;
    }

    /** Largest frame sent, in bytes (at least 1024); larger records are truncated. */
    public SenderOptions maxFrameBytes(long bytes) {
        this.maxFrameBytes = positive(bytes, "maxFrameBytes");
        return this;
    }

    /** Lowest level sent (Python's numbers, see {@link Levels}). */
    public SenderOptions minLevel(int level) {
        this.minLevel = level;
        return this;
    }

    /** ZeroMQ's send high-water mark, in frames. */
    public SenderOptions sndhwm(int frames) {
        if (frames < 0) {
            throw new IllegalArgumentException("sndhwm must not be negative: " + frames);
        }
        this.sndhwm = frames;
        return this;
    }

    /** Longest wait when closing (appender stop, handler close, JVM exit), in milliseconds. */
    public SenderOptions closeTimeoutMillis(long millis) {
        this.closeTimeoutMillis = millis(millis, "closeTimeoutMillis");
        return this;
    }

    /** The {@code host} field of every record (default: the machine's host name). */
    public SenderOptions host(String host) {
        this.host = Objects.requireNonNull(host, "host");
        return this;
    }

    /**
     * The collector's CURVE public key: a file path or {@code env:NAME} (an environment variable
     * holding the key). With {@link #curveSecretKey(String)}, records are encrypted and the collector
     * checks who sends. Read when the sender opens, which fails naming {@code curve_server_key} if
     * it cannot be read or parsed.
     */
    public SenderOptions curveServerKey(String key) {
        this.curveServerKey = Objects.requireNonNull(key, "curveServerKey");
        return this;
    }

    /** This sender's CURVE secret key: a file path or {@code env:NAME}; see {@link #curveServerKey}. */
    public SenderOptions curveSecretKey(String key) {
        this.curveSecretKey = Objects.requireNonNull(key, "curveSecretKey");
        return this;
    }

    /** Logger name used for records without one (default "root"). */
    public SenderOptions defaultLogger(String name) {
        this.defaultLogger = Objects.requireNonNull(name, "defaultLogger");
        return this;
    }

    /** Whether a JVM shutdown hook closes (flushes) the sender (default true). */
    public SenderOptions shutdownHook(boolean enabled) {
        this.shutdownHook = enabled;
        return this;
    }

    /** The endpoint, or null if not set. */
    public String endpoint() {
        return endpoint;
    }

    /** The close timeout in milliseconds. */
    public long closeTimeoutMillis() {
        return closeTimeoutMillis;
    }

    /** Whether the shutdown hook closes this sender. */
    public boolean shutdownHook() {
        return shutdownHook;
    }

    /**
     * Hands each option that was set to {@code setter} as the name of its C setter
     * ({@code lf_options_set_<name>}) and its value in that setter's Java type ({@link
     * Native#setOption}); options not set are left out, so the native defaults apply.
     */
    void forEachSet(BiConsumer<String, Object> setter) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("mode", mode == null ? null : mode.code);
        values.put("queue_capacity", queueCapacity);
        values.put("queue_max_bytes", queueMaxBytes);
        values.put("overflow", overflow == null ? null : overflow.code);
        values.put("block_timeout_ms", blockTimeoutMillis == null ? null : (int) (long) blockTimeoutMillis);
        values.put("max_frame_bytes", maxFrameBytes);
        values.put("min_level", minLevel);
        values.put("sndhwm", sndhwm);
        values.put("host", host);
        values.put("curve_server_key", curveServerKey);
        values.put("curve_secret_key", curveSecretKey);
        values.put("default_logger", defaultLogger);
        values.forEach((name, value) -> {
            if (value != null) {
                setter.accept(name, value);
            }
        });
    }

    private static long positive(long v, String name) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be at least 1: " + v);
        }
        return v;
    }

    private static long millis(long v, String name) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(name + " must be between 0 and 4294967295 ms: " + v);
        }
        return v;
    }

    @Override
    public String toString() {
        return "SenderOptions[endpoint=" + endpoint + ", mode=" + mode + ", queueCapacity=" + queueCapacity
                + ", overflow=" + overflow + ", blockTimeoutMillis=" + blockTimeoutMillis
                + ", closeTimeoutMillis=" + closeTimeoutMillis + "]";
    }
}
