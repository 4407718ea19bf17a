package io.logfunnel.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logfunnel.Throwables;

/** Checks on the {@code exc_text} a binding sent for a {@link Throwable}. */
public final class ExcText {
    private ExcText() {}

    /**
     * {@code text} is what {@link Throwables#format} makes of {@code ex}: the exception and its stack,
     * then every cause ({@code Caused by: }) and every suppressed exception ({@code Suppressed: }).
     */
    public static void assertFullTrace(Throwable ex, String text) {
        assertEquals(Throwables.format(ex), text);
        assertTrue(text.startsWith(ex + "\n\tat "), text);
        for (Throwable c = ex.getCause(); c != null; c = c.getCause()) {
            assertTrue(text.contains("\nCaused by: " + c), text);
        }
        for (Throwable s : ex.getSuppressed()) {
            assertTrue(text.contains("\tSuppressed: " + s), text);
        }
    }
}
