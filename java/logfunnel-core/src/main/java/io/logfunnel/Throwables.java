package io.logfunnel;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Exception text for {@code exc_text}. */
public final class Throwables {
    private Throwables() {}

    /**
     * The full stack trace as {@link Throwable#printStackTrace()} prints it: causes ("Caused by:") and
     * suppressed exceptions ("Suppressed:") included, cycles cut. No trailing line break (as Python's
     * {@code exc_text}).
     */
    public static String format(Throwable t) {
        if (t == null) {
            return null;
        }
        StringWriter out = new StringWriter(1024);
        try (PrintWriter w = new PrintWriter(out)) {
            t.printStackTrace(w);
        }
        String s = out.toString();
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == '\n' || s.charAt(end - 1) == '\r')) {
            end--;
        }
        return s.substring(0, end);
    }
}
