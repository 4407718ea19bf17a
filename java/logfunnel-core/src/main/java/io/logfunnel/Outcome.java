package io.logfunnel;

/** What happened to one log call ({@code lf_result} codes 0 to 3). */
public enum Outcome {
    /** In the queue; the sender's thread will send it. */
    QUEUED,
    /** Below the sender's minimum level; not sent. */
    FILTERED,
    /** The queue was full (after the block timeout with {@link OverflowPolicy#BLOCK}); dropped and counted. */
    QUEUE_FULL,
    /** The sender is closed; dropped and counted. */
    CLOSED
}
