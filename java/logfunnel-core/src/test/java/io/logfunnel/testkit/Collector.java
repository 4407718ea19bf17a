package io.logfunnel.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real logfunnel collector process (target/debug/logfunnel-collector, built by java/run-tests.sh) on a
 * free loopback port, writing every record to a JSON-lines file that the tests read record by record.
 */
public final class Collector implements AutoCloseable {
    private final Process process;
    private final Path jsonl;
    private final Path log;
    private final int port;
    private final int pullPort;

    private Collector(Process process, Path jsonl, Path log, int port, int pullPort) {
        this.process = process;
        this.jsonl = jsonl;
        this.log = log;
        this.port = port;
        this.pullPort = pullPort;
    }

    /** The collector binary: system property {@code logfunnel.test.collector} (set by the pom). */
    public static Path binary() {
        String p = System.getProperty("logfunnel.test.collector");
        if (p == null) {
            throw new IllegalStateException("system property logfunnel.test.collector is not set (run through Maven)");
        }
        Path path = Path.of(p).toAbsolutePath().normalize();
        if (!Files.isExecutable(path)) {
            throw new IllegalStateException("collector binary not found at " + path
                    + ": build it with `cargo build -p logfunnel-collector` (java/run-tests.sh does)");
        }
        return path;
    }

    /** The repository root (system property {@code logfunnel.test.repo}). */
    public static Path repo() {
        return Path.of(System.getProperty("logfunnel.test.repo", "../..")).toAbsolutePath().normalize();
    }

    /**
     * Starts a collector in {@code dir} (a SUB endpoint for XPUB senders and a PULL endpoint for PUSH
     * senders) and waits until it accepts connections.
     */
    public static Collector start(Path dir) throws IOException, InterruptedException {
        return start(dir, "");
    }

    /** {@link #start(Path)} with {@code extraToml} (e.g. a {@code [curve]} table) after the sink. */
    public static Collector start(Path dir, String extraToml) throws IOException, InterruptedException {
        int port = freePort();
        int pullPort = freePort();
        Path jsonl = dir.resolve("records.jsonl");
        Path config = dir.resolve("collector.toml");
        Path log = dir.resolve("collector.log");
        Files.writeString(config, """
                bind = ["tcp://127.0.0.1:%d"]
                pull = ["tcp://127.0.0.1:%d"]
                flush_interval_ms = 50
                state_dir = "%s"

                [[sink]]
                kind = "jsonl"
                path = "%s"
                """.formatted(port, pullPort, toml(dir.resolve("state")), toml(jsonl)) + extraToml);
        Process p = new ProcessBuilder(binary().toString(), "--config", config.toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        Collector c = new Collector(p, jsonl, log, port, pullPort);
        c.awaitListening(port, Duration.ofSeconds(20));
        c.awaitListening(pullPort, Duration.ofSeconds(20));
        return c;
    }

    /** A path as the inside of a TOML basic string. */
    private static String toml(Path p) {
        return p.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitListening(int port, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("collector exited with " + process.exitValue() + ": " + output());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new IllegalStateException("collector did not listen on port " + port + " within " + timeout + ": "
                + output());
    }

    /**
     * {@code logfunnel-collector keygen --out dir/name}: returns {@code dir/name.key} (public); the
     * secret key is beside it as {@code name.key_secret}.
     */
    public static Path keygen(Path dir, String name) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(binary().toString(), "keygen", "--out", dir.resolve(name).toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("keygen failed: " + out);
        }
        return dir.resolve(name + ".key");
    }

    /**
     * {@link #start(Path)} with {@code [curve]}: makes the key pairs {@code dir/collector.key} (the
     * server's, whose public half senders name) and {@code dir/client.key} (the one sender key let in).
     */
    public static Collector startWithCurve(Path dir) throws IOException, InterruptedException {
        keygen(dir, "collector");
        Path client = keygen(dir, "client");
        return start(dir, """

                [curve]
                secret_key_file = "%s"
                allow = ["%s"]
                """.formatted(dir.resolve("collector.key_secret"), Files.readString(client).strip()));
    }

    /** The SUB endpoint, for XPUB senders (the default mode): {@code tcp://127.0.0.1:<port>}. */
    public String endpoint() {
        return "tcp://127.0.0.1:" + port;
    }

    /** The PULL endpoint, for PUSH senders. */
    public String pullEndpoint() {
        return "tcp://127.0.0.1:" + pullPort;
    }

    /** What the collector printed so far. */
    public String output() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** Every complete line of the JSON-lines file so far, parsed (read incrementally). */
    public synchronized List<Map<String, Object>> records() {
        if (!Files.exists(jsonl)) {
            return List.copyOf(parsed);
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(jsonl)) {
            long size = ch.size();
            if (size > readOffset) {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (size - readOffset));
                while (buf.hasRemaining() && ch.read(buf, readOffset + buf.position()) > 0) {
                    // read until the snapshot size
                }
                byte[] bytes = buf.array();
                int end = buf.position();
                while (end > 0 && bytes[end - 1] != '\n') {
                    end--;
                }
                if (end > 0) {
                    for (String line : new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n")) {
                        if (!line.isBlank()) {
                            parsed.add(Json.object(line));
                        }
                    }
                    readOffset += end;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(parsed);
    }

    private final List<Map<String, Object>> parsed = new ArrayList<>();
    private long readOffset;

    /** The records for which {@code filter} holds, once there are at least {@code count} (fails after 30 s). */
    public List<Map<String, Object>> await(Predicate<Map<String, Object>> filter, int count)
            throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<Map<String, Object>> got = List.of();
        while (System.nanoTime() < deadline) {
            got = records().stream().filter(filter).toList();
            if (got.size() >= count) {
                return got;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("expected " + count + " records, got " + got.size() + " after 30 s; collector said: "
                + output());
    }

    /** The records of one logger, once there are at least {@code count}. */
    public List<Map<String, Object>> awaitLogger(String logger, int count) throws InterruptedException, IOException {
        return await(r -> logger.equals(r.get("name")), count);
    }

    /** Stops the collector (SIGTERM: it drains and writes out what it has) and waits for it. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
