package io.logfunnel;

/**
 * Level numbers on Python's {@code logging} scale, which every logfunnel record uses, so one collector
 * format and one sink {@code level} work for Java, Python and C alike.
 *
 * <table>
 *   <caption>Mapping used by the bundled handlers</caption>
 *   <tr><th>number</th><th>Python</th><th>SLF4J / Logback</th><th>java.util.logging</th></tr>
 *   <tr><td>50</td><td>CRITICAL</td><td>-</td><td>-</td></tr>
 *   <tr><td>40</td><td>ERROR</td><td>ERROR</td><td>SEVERE (and above)</td></tr>
 *   <tr><td>30</td><td>WARNING</td><td>WARN</td><td>WARNING</td></tr>
 *   <tr><td>20</td><td>INFO</td><td>INFO</td><td>INFO</td></tr>
 *   <tr><td>15</td><td>Level 15</td><td>-</td><td>CONFIG</td></tr>
 *   <tr><td>10</td><td>DEBUG</td><td>DEBUG</td><td>FINE</td></tr>
 *   <tr><td>5</td><td>Level 5</td><td>TRACE</td><td>FINER, FINEST</td></tr>
 * </table>
 */
public final class Levels {
    private Levels() {}

    /** Python's {@code CRITICAL}. */
    public static final int CRITICAL = 50;
    /** Python's {@code ERROR}. */
    public static final int ERROR = 40;
    /** Python's {@code WARNING}. */
    public static final int WARNING = 30;
    /** Python's {@code INFO}. */
    public static final int INFO = 20;
    /** Between INFO and DEBUG; JUL's {@code CONFIG}. */
    public static final int CONFIG = 15;
    /** Python's {@code DEBUG}. */
    public static final int DEBUG = 10;
    /** Finer than DEBUG: SLF4J's {@code TRACE}, JUL's {@code FINER} and {@code FINEST}. */
    public static final int TRACE = 5;
    /** Python's {@code NOTSET}. */
    public static final int NOTSET = 0;
}
