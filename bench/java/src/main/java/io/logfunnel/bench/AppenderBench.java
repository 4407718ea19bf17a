package io.logfunnel.bench;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.FileAppender;
import io.logfunnel.LogfunnelSender;
import io.logfunnel.logback.LogfunnelAppender;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Cost of one {@code logger.info("order {} placed by {}", id, user)} call (with one MDC entry) on the
 * calling thread, through three appenders in the same run:
 * <ul>
 *   <li>{@code file}: Logback's {@code FileAppender} with a pattern layout (its defaults: immediate flush);</li>
 *   <li>{@code async}: Logback's {@code AsyncAppender} (queue 65536, never discards, blocks when full)
 *       in front of that same FileAppender;</li>
 *   <li>{@code logfunnel}: {@code LogfunnelAppender} to a real collector (release build) that writes the
 *       same lines to a file.</li>
 * </ul>
 * Two shapes: {@code call} times single calls (JMH sample mode: median and tail), draining the queue
 * (untimed) every 1000 calls, so it shows what the calling thread pays while the appender keeps up;
 * {@code sustained} logs without pause (average time), so the asynchronous appenders end up paced by
 * whatever drains them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AppenderBench {
    /** Calls between two drains in {@code call}; well below every queue's capacity. */
    public static final int BURST = 1000;
    static final String PATTERN = "%d %-5level [%thread] %logger %X{request_id}: %msg%n";
    static final String COLLECTOR_FORMAT =
            "%(asctime)s %(levelname)-5s [%(threadName)s] %(name)s %(request_id)s: %(message)s";

    @Param({"file", "async", "logfunnel"})
    public String appender;

    private Path dir;
    private LoggerContext ctx;
    Logger log;
    private Process collector;
    private AsyncAppender async;
    private LogfunnelAppender logfunnel;
    private final Long orderId = 123456L;
    private final String user = "ada";

    @Setup
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("logfunnel-bench-");
        ctx = new LoggerContext();
        ctx.setName("bench");
        ctx.setMDCAdapter(new LogbackMDCAdapter());
        ctx.start();
        Appender<ILoggingEvent> a = switch (appender) {
            case "file" -> fileAppender("file");
            case "async" -> {
                async = new AsyncAppender();
                async.setContext(ctx);
                async.setName("async");
                async.setQueueSize(65536);
                async.setDiscardingThreshold(0);
                async.setNeverBlock(false);
                async.addAppender(fileAppender("file-behind-async"));
                async.start();
                yield async;
            }
            case "logfunnel" -> {
                int port = freePort();
                collector = startCollector(port);
                logfunnel = new LogfunnelAppender();
                logfunnel.setContext(ctx);
                logfunnel.setName("logfunnel");
                logfunnel.setEndpoint("tcp://127.0.0.1:" + port);
                logfunnel.setCloseTimeoutMillis(30_000);
                logfunnel.start();
                if (!logfunnel.isStarted()) {
                    throw new IllegalStateException("appender did not start: "
                            + ctx.getStatusManager().getCopyOfStatusList());
                }
                awaitConnected(logfunnel.getSender());
                yield logfunnel;
            }
            default -> throw new IllegalArgumentException(appender);
        };
        Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(a);
        log = ctx.getLogger("bench.orders");
    }

    private FileAppender<ILoggingEvent> fileAppender(String name) {
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern(PATTERN);
        enc.start();
        FileAppender<ILoggingEvent> f = new FileAppender<>();
        f.setContext(ctx);
        f.setName(name);
        f.setFile(dir.resolve(name + ".log").toString());
        f.setEncoder(enc);
        f.start();
        return f;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Process startCollector(int port) throws Exception {
        String bin = System.getProperty("logfunnel.bench.collector");
        if (bin == null) {
            throw new IllegalStateException("set -Dlogfunnel.bench.collector (bench/java/run.sh does)");
        }
        return new ProcessBuilder(bin, "--bind", "tcp://127.0.0.1:" + port, "--no-console",
                "--file", dir.resolve("collector.log").toString(), "--format", COLLECTOR_FORMAT)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("collector.out").toFile())
                .start();
    }

    private static void awaitConnected(LogfunnelSender s) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!s.stats().connected()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the collector did not subscribe within 20 s");
            }
            Thread.sleep(10);
        }
    }

    /** Empties the asynchronous queue (not measured: called between invocations). */
    void drain() throws InterruptedException {
        if (async != null) {
            while (async.getNumberOfElementsInQueue() > 0) {
                Thread.sleep(1);
            }
        } else if (logfunnel != null) {
            while (logfunnel.getSender().stats().depth() > 0) {
                Thread.sleep(1);
            }
        }
    }

    @TearDown
    public void tearDown() throws Exception {
        if (logfunnel != null) {
            var before = logfunnel.getSender().stats();
            ctx.stop();
            var st = logfunnel.getSender().stats();
            System.out.println("\nlogfunnel sender: enqueued=" + st.enqueued() + " sent=" + st.sent() + " dropped="
                    + st.dropped() + " (before close: depth " + before.depth() + ")");
        } else {
            ctx.stop();
        }
        if (collector != null) {
            collector.destroy();
            collector.waitFor(30, TimeUnit.SECONDS);
            System.out.println("collector: " + Files.readString(dir.resolve("collector.out")).lines()
                    .filter(l -> l.contains("stopped")).findFirst().orElse("(no summary)"));
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    /** The calling thread's MDC, set once per benchmark thread. */
    @State(Scope.Thread)
    public static class Mdc {
        @Setup
        public void put(AppenderBench b) {
            b.ctx.getMDCAdapter().put("request_id", "r-42");
        }
    }

    /** Every {@link #BURST} calls, waits (untimed) for the queue to drain, as between pieces of work. */
    @State(Scope.Thread)
    public static class EveryBurst {
        private int calls;

        @Setup(org.openjdk.jmh.annotations.Level.Invocation)
        public void drainSometimes(AppenderBench b) throws InterruptedException {
            if (++calls % BURST == 0) {
                b.drain();
            }
        }
    }

    /** Logs without pause: asynchronous appenders end up paced by whatever drains them. */
    @Benchmark
    public void sustained(Mdc mdc) {
        log.info("order {} placed by {}", orderId, user);
    }

    /**
     * One call timed on its own (sampled), with the queue drained every {@link #BURST} calls: what the
     * calling thread pays while the appender keeps up.
     */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public void call(Mdc mdc, EveryBurst every) {
        log.info("order {} placed by {}", orderId, user);
    }
}
