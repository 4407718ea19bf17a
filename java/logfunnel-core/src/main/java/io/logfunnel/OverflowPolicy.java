package io.logfunnel;

import java.util.Locale;

/** What a log call does when the sender's queue is full. */
public enum OverflowPolicy {
    /** Wait up to the block timeout for room, then drop the new record (the default). */
    BLOCK(0),
    /** Drop the new record at once. */
    DROP_NEWEST(1),
    /** Drop the oldest queued record to make room. */
    DROP_OLDEST(2);

    final int code;

    OverflowPolicy(int code) {
        this.code = code;
    }

    /**
     * Parses a configuration value: {@code block}, {@code drop_newest} / {@code drop-newest} /
     * {@code dropNewest}, {@code drop_oldest} (any case).
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static OverflowPolicy parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return switch (k) {
            case "block" -> BLOCK;
            case "dropnewest" -> DROP_NEWEST;
            case "dropoldest" -> DROP_OLDEST;
            default -> throw new IllegalArgumentException(
                    "unknown overflow policy '" + s + "' (expected block, drop_newest or drop_oldest)");
        };
    }
}
