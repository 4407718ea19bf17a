package io.logfunnel.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenTelemetry Collector (tools/otelcol: OTLP/HTTP receiver, file exporter) in a child process,
 * the Java side of collector/tests/otlp_support/otelcol.rs. The binary is built by
 * {@code tools/otelcol/build.sh} on first use (cached under ~/.cache/logfunnel); without Go the build
 * fails and so does the test, it never skips.
 */
public final class Otelcol implements AutoCloseable {
    private static Path binary;

    private final Process process;
    private final Path output;
    private final Path log;

    /** The port the Collector listens on, 127.0.0.1. */
    public final int port;

    private Otelcol(Process process, int port, Path output, Path log) {
        this.process = process;
        this.port = port;
        this.output = output;
        this.log = log;
    }

    /** The Collector binary: {@code tools/otelcol/build.sh} builds it unless cached and prints its path. */
    public static synchronized Path binary() throws IOException, InterruptedException {
        if (binary == null) {
            Path script = Collector.repo().resolve("tools/otelcol/build.sh");
            Process p = new ProcessBuilder("bash", script.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0 || out.isEmpty()) {
                throw new IllegalStateException(script + " failed (exit " + p.exitValue()
                        + "): it needs Go and the module proxy to build the test Collector");
            }
            binary = Path.of(out);
        }
        return binary;
    }

    /** A loopback port nobody listens on just now. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts a Collector in {@code dir} on {@code port} and waits until it accepts connections. */
    public static Otelcol start(Path dir, int port) throws IOException, InterruptedException {
        Path output = dir.resolve("otelcol-" + port + ".json");
        String config = Files.readString(Collector.repo().resolve("tools/otelcol/config.yaml.in"))
                .replace("@PORT@", Integer.toString(port))
                .replace("@OUTPUT@", output.toAbsolutePath().toString());
        Path configPath = dir.resolve("otelcol-" + port + ".yaml");
        Files.writeString(configPath, config);
        Path log = dir.resolve("otelcol-" + port + ".log");
        Process p = new ProcessBuilder(binary().toString(), "--config", configPath.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        Otelcol c = new Otelcol(p, port, output, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("otelcol exited with " + p.exitValue() + ": " + c.output());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return c;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    c.close();
                    throw new IllegalStateException("otelcol did not listen on " + port + " within 60 s: "
                            + c.output());
                }
                Thread.sleep(20);
            }
        }
    }

    /** The Collector's OTLP/HTTP logs endpoint. */
    public String endpoint() {
        return "http://127.0.0.1:" + port + "/v1/logs";
    }

    /** What the Collector printed so far. */
    public String output() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** One log record as the file exporter wrote it (OTLP JSON) with its resource's attributes. */
    public record Exported(List<Object> resourceAttributes, Map<String, Object> record) {}

    /** Every record written so far; a last line still being written is left for later. */
    @SuppressWarnings("unchecked")
    public List<Exported> records() {
        List<Exported> out = new ArrayList<>();
        String text;
        try {
            text = Files.exists(output) ? Files.readString(output) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int end = text.lastIndexOf('\n');
        for (String line : text.substring(0, end + 1).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            for (Object rl : (List<Object>) Json.object(line).get("resourceLogs")) {
                Map<String, Object> resourceLogs = (Map<String, Object>) rl;
                Map<String, Object> resource = (Map<String, Object>) resourceLogs.get("resource");
                List<Object> attrs = (List<Object>) resource.getOrDefault("attributes", List.of());
                for (Object sl : (List<Object>) resourceLogs.get("scopeLogs")) {
                    for (Object r : (List<Object>) ((Map<String, Object>) sl).get("logRecords")) {
                        out.add(new Exported(attrs, (Map<String, Object>) r));
                    }
                }
            }
        }
        return out;
    }

    /** The records once there are at least {@code count} (fails after 60 s). */
    public List<Exported> await(int count) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<Exported> got = records();
        while (got.size() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " records at otelcol, got " + got.size()
                        + " after 60 s; otelcol said: " + output());
            }
            Thread.sleep(20);
            got = records();
        }
        return got;
    }

    /**
     * An OTLP JSON attribute list ({@code [{"key": k, "value": {...}}]}) as a map from key to value,
     * failing on a key that is there twice.
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> attributes(Object list) {
        Map<String, Object> map = new java.util.LinkedHashMap<>();
        for (Object o : list == null ? List.of() : (List<Object>) list) {
            Map<String, Object> kv = (Map<String, Object>) o;
            String key = (String) kv.get("key");
            if (map.put(key, kv.getOrDefault("value", Map.of())) != null) {
                throw new AssertionError("attribute " + key + " twice in " + list);
            }
        }
        return map;
    }

    /** Stops the Collector (SIGTERM, so the file exporter flushes) and waits for it. */
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
