/* Logs N records, waits until the collector acknowledged all of them, prints the delivery counters.
 * Usage: acked ENDPOINT N. Prints "flush=<lf_result> acknowledging=.. acknowledged=.. unacknowledged=..
 * resent=.. sent=.. dropped=..". */
#include "test_util.h"

int main(int argc, char **argv) {
    lf_sender *s;
    lf_stats st;
    lf_result flushed;
    CHECK(argc == 3);
    s = test_sender(argv[1]);
    LOG_NUMBERED(s, "app.acked", "record", atoi(argv[2]));
    /* Returns LF_OK only when every record is acknowledged. */
    flushed = lf_flush(s, 60000);
    CHECK_RC(lf_get_stats(s, &st), LF_OK);
    printf("flush=%u acknowledging=%u acknowledged=%" PRIu64 " unacknowledged=%" PRIu64
           " resent=%" PRIu64 " sent=%" PRIu64 " dropped=%" PRIu64 "\n",
           (unsigned)flushed, (unsigned)st.acknowledging, st.acknowledged, st.unacknowledged,
           st.resent, st.sent, st.dropped);
    fflush(stdout);
    CHECK_RC(lf_close(s, 10000), LF_OK);
    lf_sender_free(s);
    return 0;
}
