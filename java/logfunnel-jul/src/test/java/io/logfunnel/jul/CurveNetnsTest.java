package io.logfunnel.jul;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logfunnel.testkit.ChildJvm;
import io.logfunnel.testkit.Collector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two hosts (network namespaces joined by a veth pair, {@code tools/netns.sh}; needs root, skipped
 * otherwise): the real collector binary with {@code [curve]} bound to host B's address, JVMs on host A
 * logging through the JUL handler configured by {@code logging.properties}. The listed sender's records
 * all arrive; one with no keys, the wrong server key or an unlisted key gets none through, and each is
 * counted in the collector's stats line.
 */
class CurveNetnsTest {
    private static final Pattern REJECTED = Pattern.compile("auth_rejected=(\\d+)");

    @Test
    void onlyTheListedJvmGetsRecordsAcrossHosts(@TempDir Path dir) throws Exception {
        Path script = Collector.repo().resolve("tools/netns.sh");
        Process up = new ProcessBuilder("bash", script.toString(), "up", "lfjava", "10.231.11")
                .redirectErrorStream(true).start();
        String upOut = new String(up.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int upCode = up.waitFor();
        Assumptions.assumeTrue(upCode != 77, "SKIPPED: " + upOut.strip());
        assertEquals(0, upCode, upOut);
        Map<String, String> hosts = new HashMap<>();
        for (String pair : upOut.strip().split("\\s+")) {
            String[] kv = pair.split("=", 2);
            if (kv.length == 2) {
                hosts.put(kv[0], kv[1]);
            }
        }
        Process collector = null;
        try {
            Path serverPub = Collector.keygen(dir, "collector");
            Path impostorPub = Collector.keygen(dir, "impostor");
            Path clientPub = Collector.keygen(dir, "client");
            Collector.keygen(dir, "unlisted");
            Path out = dir.resolve("out.jsonl");
            Path log = dir.resolve("collector.log");
            String endpoint = "tcp://" + hosts.get("ADDR_B") + ":5595";
            Path config = dir.resolve("collector.toml");
            Files.writeString(config, """
                    bind = ["%s"]
                    stats_interval_s = 1
                    flush_interval_ms = 20
                    [curve]
                    secret_key_file = "%s"
                    allow = ["%s"]
                    [[sink]]
                    kind = "jsonl"
                    path = "%s"
                    """.formatted(endpoint, dir.resolve("collector.key_secret"), Files.readString(clientPub).strip(),
                    out));
            collector = new ProcessBuilder("ip", "netns", "exec", hosts.get("NETNS_B"),
                    Collector.binary().toString(), "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertTrue(waitFor(() -> read(log).contains(": ready")), read(log));

            String[][] refused = {
                {"no-keys", null, null},
                {"wrong-server-key", impostorPub.toString(), dir.resolve("client.key_secret").toString()},
                {"unlisted-key", serverPub.toString(), dir.resolve("unlisted.key_secret").toString()},
            };
            for (String[] c : refused) {
                long before = rejected(log);
                ChildJvm.Result r = sender(dir, hosts, endpoint, c[0], c[1], c[2], 1000);
                assertEquals(0, r.exitCode(), r.output());
                assertTrue(waitFor(() -> rejected(log) > before), c[0] + " not counted: " + read(log));
            }
            ChildJvm.Result r = sender(dir, hosts, endpoint, "listed", serverPub.toString(),
                    dir.resolve("client.key_secret").toString(), 20000);
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(waitFor(() -> read(out).lines().count() >= 50), read(log));
            List<String> msgs = read(out).lines()
                    .map(l -> (String) io.logfunnel.testkit.Json.object(l).get("msg")).toList();
            assertEquals(50, msgs.size());
            for (int i = 0; i < 50; i++) {
                assertEquals("listed " + i, msgs.get(i));
            }
        } finally {
            if (collector != null) {
                collector.destroy();
                collector.waitFor(30, TimeUnit.SECONDS);
            }
            new ProcessBuilder("bash", script.toString(), "down", "lfjava").start().waitFor();
        }
    }

    /** A JVM on host A whose logging.properties configure the handler (with keys unless null). */
    private static ChildJvm.Result sender(Path dir, Map<String, String> hosts, String endpoint, String tag,
            String serverKey, String secretKey, long closeMillis) throws Exception {
        String p = "io.logfunnel.jul.LogfunnelHandler.";
        StringBuilder props = new StringBuilder("handlers = io.logfunnel.jul.LogfunnelHandler\n.level = INFO\n")
                .append(p).append("endpoint = ").append(endpoint).append('\n')
                .append(p).append("closeTimeoutMillis = ").append(closeMillis).append('\n');
        if (serverKey != null) {
            props.append(p).append("curveServerKey = ").append(serverKey).append('\n')
                    .append(p).append("curveSecretKey = ").append(secretKey).append('\n');
        }
        Path file = dir.resolve(tag + ".properties");
        Files.writeString(file, props);
        return ChildJvm.run(List.of("ip", "netns", "exec", hosts.get("NETNS_A")),
                List.of("-Djava.util.logging.config.file=" + file), LogTagged.class, tag, "50");
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** The latest auth_rejected count of the collector's stats line (0 before the first). */
    private static long rejected(Path log) {
        Matcher m = REJECTED.matcher(read(log));
        long last = 0;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        return last;
    }

    private static boolean waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    /** Child main: logs N records "TAG i" through the handler from logging.properties. */
    public static final class LogTagged {
        public static void main(String[] args) {
            Logger l = Logger.getLogger("jul.across");
            for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                l.info(args[0] + " " + i);
            }
        }
    }
}
