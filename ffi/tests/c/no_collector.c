/* Nothing listens at ENDPOINT: log calls must not hang and lf_close must return within its timeout.
 * Usage: no_collector ENDPOINT xpub|push N. Prints outcome counts, close time and counters. */
#include <string.h>
#include <time.h>

#include "test_util.h"

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
    lf_options *o;
    lf_sender *s = NULL;
    long counts[5] = {0, 0, 0, 0, 0};
    long started;
    int n, i;
    lf_result flush_rc, close_rc;
    CHECK(argc == 4);
    n = atoi(argv[3]);

    o = lf_options_new();
    CHECK_RC(lf_options_set_endpoint(o, argv[1]), LF_OK);
    CHECK_RC(lf_options_set_mode(o, strcmp(argv[2], "push") == 0 ? LF_MODE_PUSH : LF_MODE_XPUB),
             LF_OK);
    CHECK_RC(lf_options_set_queue_capacity(o, 100), LF_OK);
    CHECK_RC(lf_options_set_overflow(o, LF_OVERFLOW_BLOCK), LF_OK);
    CHECK_RC(lf_options_set_block_timeout_ms(o, 50), LF_OK);
    CHECK_RC(lf_sender_new(o, &s), LF_OK);

    for (i = 0; i < n; i++) {
        lf_result rc = LF_INFOF(s, "app.nocollector", "lost %d", i);
        CHECK(rc <= LF_CLOSED);
        counts[rc]++;
    }
    printf("ok=%ld filtered=%ld queue_full=%ld closed=%ld\n", counts[LF_OK], counts[LF_FILTERED],
           counts[LF_QUEUE_FULL], counts[LF_CLOSED]);

    flush_rc = lf_flush(s, 100);
    started = now_ms();
    close_rc = lf_close(s, 300);
    printf("flush_rc=%u close_rc=%u close_ms=%ld\n", (unsigned)flush_rc, (unsigned)close_rc,
           now_ms() - started);
    print_stats("stats", s);
    CHECK_RC(LF_INFO(s, "app.nocollector", "after close"), LF_CLOSED);
    CHECK_RC(lf_close(s, 300), LF_OK);
    lf_sender_free(s);
    return 0;
}
