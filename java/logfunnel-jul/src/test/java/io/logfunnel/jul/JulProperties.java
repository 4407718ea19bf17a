package io.logfunnel.jul;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/** Configuring the handler the way users do: from {@code logging.properties} text. */
final class JulProperties {
    private JulProperties() {}

    /**
     * Applies {@code props} to the LogManager, then gives {@code logger} a new handler configured from
     * them as its only output (no parent handlers). {@code updateConfiguration}, unlike
     * {@code readConfiguration}, leaves the other loggers and handlers alone.
     */
    static LogfunnelHandler attachConfigured(String props, Logger logger) throws IOException {
        LogManager.getLogManager().updateConfiguration(
                new ByteArrayInputStream(props.getBytes(StandardCharsets.UTF_8)), k -> (o, n) -> n);
        LogfunnelHandler h = new LogfunnelHandler();
        logger.setUseParentHandlers(false);
        logger.addHandler(h);
        return h;
    }
}
