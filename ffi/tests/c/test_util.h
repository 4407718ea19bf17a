/* Helpers shared by the C test programs. A failed check prints where and exits with status 2. */
#ifndef LF_TEST_UTIL_H
#define LF_TEST_UTIL_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logfunnel.h"

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(2);                                                               \
        }                                                                          \
    } while (0)

#define CHECK_RC(expr, want)                                                            \
    do {                                                                                \
        lf_result rc_ = (expr);                                                         \
        if (rc_ != (want)) {                                                            \
            fprintf(stderr, "%s:%d: %s returned %u (%s), expected %s; last error: %s\n", \
                    __FILE__, __LINE__, #expr, (unsigned)rc_, lf_result_message(rc_),   \
                    #want, lf_last_error());                                            \
            exit(2);                                                                    \
        }                                                                               \
    } while (0)

/* A sender for `endpoint` with default options; exits on failure. */
static inline lf_sender *test_sender(const char *endpoint) {
    lf_options *o = lf_options_new();
    lf_sender *s = NULL;
    CHECK(o != NULL);
    CHECK_RC(lf_options_set_endpoint(o, endpoint), LF_OK);
    CHECK_RC(lf_sender_new(o, &s), LF_OK);
    CHECK(s != NULL);
    return s;
}

/* Logs `n` INFO records "<word> <i>" from `logger` to `s`, each queued. A macro, so the records
 * carry the caller's file, line and function. */
#define LOG_NUMBERED(s, logger, word, n)                                          \
    do {                                                                          \
        int log_numbered_i_;                                                      \
        for (log_numbered_i_ = 0; log_numbered_i_ < (n); log_numbered_i_++) {     \
            CHECK_RC(LF_INFOF((s), (logger), "%s %d", (word), log_numbered_i_), LF_OK); \
        }                                                                         \
    } while (0)

/* An INFO record from `logger` with `msg` (`msg_len` bytes) and `count` fields; nothing else set. */
static inline lf_record info_record(const char *logger, const char *msg, size_t msg_len,
                                    const lf_field *fields, size_t count) {
    lf_record r;
    memset(&r, 0, sizeof r);
    r.level = LF_LEVEL_INFO;
    r.logger = logger;
    r.logger_len = strlen(logger);
    r.msg = msg;
    r.msg_len = msg_len;
    r.fields = fields;
    r.field_count = count;
    return r;
}

/* Prints the counters as one line: "<tag> enqueued=N sent=N ..." for the Rust side to parse. */
static inline void print_stats(const char *tag, const lf_sender *s) {
    lf_stats st;
    CHECK_RC(lf_get_stats(s, &st), LF_OK);
    printf("%s enqueued=%" PRIu64 " sent=%" PRIu64 " dropped=%" PRIu64
           " dropped_queue_full=%" PRIu64 " dropped_closed=%" PRIu64
           " dropped_at_close=%" PRIu64 " filtered=%" PRIu64 " depth=%" PRIu64 " connected=%u"
           " acknowledging=%u acknowledged=%" PRIu64 " unacknowledged=%" PRIu64 " resent=%" PRIu64
           "\n",
           tag, st.enqueued, st.sent, st.dropped, st.dropped_queue_full, st.dropped_closed,
           st.dropped_at_close, st.filtered, st.depth, (unsigned)st.connected,
           (unsigned)st.acknowledging, st.acknowledged, st.unacknowledged, st.resent);
    fflush(stdout);
}

#endif
