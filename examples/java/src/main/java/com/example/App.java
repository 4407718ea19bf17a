package com.example;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** Logs through SLF4J; src/main/resources/logback.xml sends everything to the collector. */
public class App {
    private static final Logger log = LoggerFactory.getLogger(App.class);

    public static void main(String[] args) {
        log.info("service started on port {}", 8080);

        MDC.put("request_id", "r-42"); // MDC entries arrive as fields: %(request_id)s in a collector format
        try {
            // SLF4J 2 key-value pairs arrive as fields too; numbers stay numbers.
            log.atInfo().addKeyValue("user", "ada").addKeyValue("items", 3).log("order placed");
            try {
                charge();
            } catch (IllegalStateException e) {
                log.error("payment failed", e); // the stack trace, with its causes, arrives as exc_text
            }
        } finally {
            MDC.clear();
        }
        log.debug("shutting down");
        // Nothing else to do: the appender flushes when the JVM exits (or on LoggerContext.stop()).
    }

    private static void charge() {
        try {
            throw new java.io.IOException("card service unreachable");
        } catch (java.io.IOException e) {
            throw new IllegalStateException("charge failed", e);
        }
    }
}
