package io.logfunnel.jul;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.logfunnel.testkit.Collector;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JUL handler with CURVE keys from {@code logging.properties}, to a collector with {@code [curve]}. */
class CurveHandlerTest {
    @Test
    void keysFromLoggingPropertiesGetRecordsThrough(@TempDir Path dir) throws Exception {
        Path server = Collector.keygen(dir, "collector");
        Path client = Collector.keygen(dir, "client");
        String toml = """

                [curve]
                secret_key_file = "%s"
                allow = ["%s"]
                """.formatted(dir.resolve("collector.key_secret"), Files.readString(client).strip());
        try (Collector c = Collector.start(dir, toml)) {
            String props = """
                    io.logfunnel.jul.LogfunnelHandler.endpoint = %s
                    io.logfunnel.jul.LogfunnelHandler.curveServerKey = %s
                    io.logfunnel.jul.LogfunnelHandler.curveSecretKey = %s
                    """.formatted(c.endpoint(), server, dir.resolve("client.key_secret"));
            LogManager.getLogManager().updateConfiguration(
                    new ByteArrayInputStream(props.getBytes(StandardCharsets.UTF_8)), k -> (o, n) -> n);
            LogfunnelHandler h = new LogfunnelHandler();
            Logger l = Logger.getLogger("jul.curve");
            l.setUseParentHandlers(false);
            l.addHandler(h);
            for (int i = 0; i < 10; i++) {
                l.info("record " + i);
            }
            h.close();
            l.removeHandler(h);
            assertEquals(10, c.awaitLogger("jul.curve", 10).size());
        }
    }
}
