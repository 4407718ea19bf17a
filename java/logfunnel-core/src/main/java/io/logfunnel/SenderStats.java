package io.logfunnel;

/**
 * A sender's counters ({@code lf_stats}), all since the sender was opened.
 *
 * @param enqueued records accepted into the queue
 * @param sent records handed to ZeroMQ
 * @param droppedQueueFull records dropped because the queue was full
 * @param droppedClosed records dropped because the sender was closed
 * @param droppedAtClose records still unsent when close timed out
 * @param droppedOversized records too large even after truncation
 * @param truncated records shortened to fit the maximum frame size
 * @param filtered records below the minimum level
 * @param depth records waiting to be sent now
 * @param dropped all dropped records (the four {@code dropped*} counters added up)
 * @param connected XPUB mode: whether the collector has subscribed; always false in PUSH mode
 * @param acknowledging whether the sender speaks the acknowledged protocol (it heard a collector
 *     announce itself, and keeps each record until the collector acknowledges it); false against an
 *     older collector, a plain {@code SUB} listener, and in PUSH mode
 * @param acknowledged records the collector acknowledged (every sink taking them wrote them)
 * @param unacknowledged records sent and kept until an acknowledgement covers them, now
 * @param resent records sent again (after a resend request, a collector restart or the ack timeout)
 */
public record SenderStats(
        long enqueued,
        long sent,
        long droppedQueueFull,
        long droppedClosed,
        long droppedAtClose,
        long droppedOversized,
        long truncated,
        long filtered,
        long depth,
        long dropped,
        boolean connected,
        boolean acknowledging,
        long acknowledged,
        long unacknowledged,
        long resent) {}
