package io.logfunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logfunnel.testkit.Collector;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CURVE from Java against a real collector with {@code [curve]}: keys as files or {@code env:NAME}. */
class CurveTest {
    @Test
    void aListedSenderGetsEveryRecordThrough(@TempDir Path dir) throws Exception {
        try (Collector c = Collector.startWithCurve(dir)) {
            Path server = dir.resolve("collector.key");
            SenderOptions o = new SenderOptions().endpoint(c.endpoint()).closeTimeoutMillis(20_000)
                    .curveServerKey(server.toString())
                    .curveSecretKey(dir.resolve("client.key_secret").toString());
            try (LogfunnelSender s = LogfunnelSender.open(o)) {
                for (int i = 0; i < 20; i++) {
                    assertEquals(Outcome.QUEUED, s.log(new LogEntry(Levels.INFO, "java.curve", "record " + i)));
                }
                assertTrue(s.flush(Duration.ofSeconds(20)), c.output());
            }
            assertEquals(20, c.awaitLogger("java.curve", 20).size());
        }
    }

    @Test
    void aKeyThatCannotBeReadFailsTheOpenNamingTheOption(@TempDir Path dir) throws Exception {
        Collector.keygen(dir, "client");
        SenderOptions o = new SenderOptions().endpoint("tcp://127.0.0.1:1")
                .curveServerKey(dir.resolve("absent.key").toString())
                .curveSecretKey(dir.resolve("client.key_secret").toString());
        LogfunnelException e = assertThrows(LogfunnelException.class, () -> LogfunnelSender.open(o));
        assertTrue(e.getMessage().contains("curve_server_key: key file " + dir.resolve("absent.key")
                + " does not exist"), e.getMessage());
        SenderOptions env = new SenderOptions().endpoint("tcp://127.0.0.1:1")
                .curveServerKey(dir.resolve("client.key").toString())
                .curveSecretKey("env:LOGFUNNEL_TEST_UNSET_SECRET");
        e = assertThrows(LogfunnelException.class, () -> LogfunnelSender.open(env));
        assertTrue(e.getMessage().contains(
                "curve_secret_key: environment variable LOGFUNNEL_TEST_UNSET_SECRET is not set"), e.getMessage());
    }
}
