package io.logfunnel.logback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import io.logfunnel.testkit.Collector;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Logback appender with CURVE keys from {@code logback.xml}, to a collector with {@code [curve]}. */
class CurveAppenderTest {
    static String xml(String endpoint, String serverKey, String secretKey) {
        return """
                <configuration>
                  <appender name="LF" class="io.logfunnel.logback.LogfunnelAppender">
                    <endpoint>%s</endpoint>
                    <closeTimeoutMillis>20000</closeTimeoutMillis>
                    <curveServerKey>%s</curveServerKey>
                    <curveSecretKey>%s</curveSecretKey>
                  </appender>
                  <root level="INFO"><appender-ref ref="LF"/></root>
                </configuration>
                """.formatted(endpoint, serverKey, secretKey);
    }

    @Test
    void keysFromLogbackXmlGetRecordsThroughAndABadOneStopsTheStart(@TempDir Path dir) throws Exception {
        try (Collector c = Collector.startWithCurve(dir)) {
            Path server = dir.resolve("collector.key");
            LoggerContext ctx = Configs.newContext("curve");
            Configs.configure(ctx, xml(c.endpoint(), server.toString(), dir.resolve("client.key_secret").toString()));
            assertTrue(Configs.appender(ctx).isStarted(), Configs.statuses(ctx));
            for (int i = 0; i < 10; i++) {
                ctx.getLogger("logback.curve").info("record {}", i);
            }
            ctx.stop();
            assertEquals(10, c.awaitLogger("logback.curve", 10).size());

            LoggerContext bad = Configs.newContext("curve-bad");
            Configs.configure(bad, xml(c.endpoint(), dir.resolve("absent.key").toString(),
                    dir.resolve("client.key_secret").toString()));
            assertFalse(Configs.appender(bad).isStarted());
            assertTrue(Configs.statuses(bad).contains("curve_server_key"), Configs.statuses(bad));
            bad.stop();
        }
    }
}
