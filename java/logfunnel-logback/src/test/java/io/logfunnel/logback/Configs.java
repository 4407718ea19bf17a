package io.logfunnel.logback;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.status.Status;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

/** Logback configured the way users do it: logback.xml text through Joran. */
final class Configs {
    private Configs() {}

    /** A logback.xml with one logfunnel appender named LF on the root logger (level TRACE). */
    static String xml(String endpoint, boolean includeCallerData) {
        return """
                <configuration>
                  <appender name="LF" class="io.logfunnel.logback.LogfunnelAppender">
                    <endpoint>%s</endpoint>
                    <mode>xpub</mode>
                    <queueCapacity>100000</queueCapacity>
                    <overflow>block</overflow>
                    <blockTimeoutMillis>5000</blockTimeoutMillis>
                    <closeTimeoutMillis>20000</closeTimeoutMillis>
                    <includeCallerData>%s</includeCallerData>
                  </appender>
                  <root level="TRACE">
                    <appender-ref ref="LF"/>
                  </root>
                </configuration>
                """.formatted(endpoint, includeCallerData);
    }

    /** A private LoggerContext (not SLF4J's global one), set up as Logback's own initializer would. */
    static LoggerContext newContext(String name) {
        LoggerContext c = new LoggerContext();
        c.setName(name);
        c.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        return c;
    }

    /** Resets {@code ctx} and configures it from {@code xml}. */
    static void configure(LoggerContext ctx, String xml) throws JoranException {
        ctx.reset();
        JoranConfigurator jc = new JoranConfigurator();
        jc.setContext(ctx);
        jc.doConfigure(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    /** Every status message (Logback's own log of errors and warnings) of {@code ctx}, one per line. */
    static String statuses(LoggerContext ctx) {
        StringBuilder b = new StringBuilder();
        for (Status s : ctx.getStatusManager().getCopyOfStatusList()) {
            String level = switch (s.getLevel()) {
                case Status.ERROR -> "ERROR";
                case Status.WARN -> "WARN";
                default -> "INFO";
            };
            b.append(level).append(' ').append(s.getMessage()).append('\n');
        }
        return b.toString();
    }

    /** The LF appender of {@code ctx}. */
    static LogfunnelAppender appender(LoggerContext ctx) {
        return (LogfunnelAppender) ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("LF");
    }
}
