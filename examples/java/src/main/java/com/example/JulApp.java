package com.example;

import java.util.logging.Level;
import java.util.logging.Logger;

/** Logs through java.util.logging; logging.properties (-Djava.util.logging.config.file) adds the handler. */
public class JulApp {
    private static final Logger log = Logger.getLogger(JulApp.class.getName());

    public static void main(String[] args) {
        log.info("JUL example started");
        log.log(Level.WARNING, "disk {0} is {1}% full", new Object[] {"/var", 91});
        log.log(Level.SEVERE, "could not reach the database", new IllegalStateException("timeout after 5 s"));
        log.fine("details only a DEBUG sink shows");
        // LogManager closes the handler at JVM exit, which flushes what is still queued.
    }
}
