package io.logfunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logfunnel.testkit.WithCollector;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link SenderStats} against the C layout of {@code lf_stats} and against a real collector. */
class SenderStatsTest extends WithCollector {

    /** The FFM layout declared by hand must agree with the C struct (ffi/src/stats.rs checks the same). */
    @Test
    void theLayoutIsLfStats() {
        assertEquals(112, Native.STATS.byteSize());
        assertEquals(80, Native.S_CONNECTED);
        assertEquals(84, Native.S_ACKNOWLEDGING);
        assertEquals(88, Native.S_ACKNOWLEDGED);
        assertEquals(96, Native.S_UNACKNOWLEDGED);
        assertEquals(104, Native.S_RESENT);
    }

    @Test
    void deliveryCountersAgreeWithWhatTheCollectorGot() throws Exception {
        int n = 50;
        try (LogfunnelSender s = LogfunnelSender.open(
                new SenderOptions().endpoint(collector.endpoint()).closeTimeoutMillis(10_000))) {
            for (int i = 0; i < n; i++) {
                assertEquals(Outcome.QUEUED, s.log(Levels.INFO, "stats.delivery", "m" + i));
            }
            assertTrue(s.flush(Duration.ofSeconds(10)));
            assertEquals(n, collector.awaitLogger("stats.delivery", n).size());
            SenderStats st = s.stats();
            assertEquals(n, st.enqueued());
            assertEquals(n, st.sent());
            assertTrue(st.connected());
            // A default collector announces acknowledged delivery, and a flush succeeds on that path
            // only once everything is acknowledged.
            assertTrue(st.acknowledging(), st.toString());
            assertEquals(n, st.acknowledged(), st.toString());
            assertEquals(0, st.unacknowledged(), st.toString());
        }
    }
}
