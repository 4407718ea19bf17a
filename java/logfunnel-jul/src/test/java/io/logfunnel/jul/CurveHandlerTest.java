package io.logfunnel.jul;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.logfunnel.testkit.Collector;
import java.nio.file.Path;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JUL handler with CURVE keys from {@code logging.properties}, to a collector with {@code [curve]}. */
class CurveHandlerTest {
    @Test
    void keysFromLoggingPropertiesGetRecordsThrough(@TempDir Path dir) throws Exception {
        try (Collector c = Collector.startWithCurve(dir)) {
            Path server = dir.resolve("collector.key");
            String props = """
                    io.logfunnel.jul.LogfunnelHandler.endpoint = %s
                    io.logfunnel.jul.LogfunnelHandler.curveServerKey = %s
                    io.logfunnel.jul.LogfunnelHandler.curveSecretKey = %s
                    """.formatted(c.endpoint(), server, dir.resolve("client.key_secret"));
            Logger l = Logger.getLogger("jul.curve");
            LogfunnelHandler h = JulProperties.attachConfigured(props, l);
            for (int i = 0; i < 10; i++) {
                l.info("record " + i);
            }
            h.close();
            l.removeHandler(h);
            assertEquals(10, c.awaitLogger("jul.curve", 10).size());
        }
    }
}
