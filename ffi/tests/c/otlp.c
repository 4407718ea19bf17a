/* Logs three records for the OTLP end-to-end test (collector/tests/otlp_c.rs): one with every field
 * the mapping takes (location, user fields, exception, thread, time), one through LF_WARNINGF and one
 * plain. Then, with the OTLP peer still down, a short lf_flush that must time out; after a line on
 * stdin (the test has started the peer), a long one that must succeed.
 * Usage: otlp ENDPOINT. Prints "pid=.. record_line=.. macro_line=..", then
 * "held=<lf_result> acknowledged=..", then "flushed=<lf_result> acknowledged=..". */
#include <unistd.h>

#include "test_util.h"

static void print_flush(const char *tag, lf_result rc, const lf_sender *s) {
    lf_stats st;
    CHECK_RC(lf_get_stats(s, &st), LF_OK);
    printf("%s=%u acknowledging=%u acknowledged=%" PRIu64 " unacknowledged=%" PRIu64 "\n", tag,
           (unsigned)rc, (unsigned)st.acknowledging, st.acknowledged, st.unacknowledged);
    fflush(stdout);
}

int main(int argc, char **argv) {
    static const char exc[] =
        "Traceback (most recent call last):\n  File \"otlp.c\", line 1, in main\nOSError: disk gone\n";
    lf_options *o;
    lf_sender *s = NULL;
    lf_record r;
    lf_field fields[4];
    lf_field f_user = LF_FIELD_STR("user", "carol");
    lf_field f_tries = LF_FIELD_I64("tries", 3);
    lf_field f_ratio = LF_FIELD_F64("ratio", 0.5);
    lf_field f_ok = LF_FIELD_BOOLEAN("ok", false);
    int record_line, macro_line;
    char line[16];
    CHECK(argc == 2);

    o = lf_options_new();
    CHECK_RC(lf_options_set_endpoint(o, argv[1]), LF_OK);
    CHECK_RC(lf_options_set_host(o, "c-host"), LF_OK);
    CHECK_RC(lf_sender_new(o, &s), LF_OK);

    fields[0] = f_user;
    fields[1] = f_tries;
    fields[2] = f_ratio;
    fields[3] = f_ok;
    memset(&r, 0, sizeof r);
    r.level = LF_LEVEL_ERROR;
    r.logger = "app.c.db";
    r.logger_len = strlen(r.logger);
    r.msg = "write failed";
    r.msg_len = strlen(r.msg);
    r.file = __FILE__;
    r.file_len = strlen(__FILE__);
    r.func = __func__;
    r.func_len = strlen(__func__);
    r.fields = fields;
    r.field_count = 4;
    r.exc_text = exc;
    r.exc_text_len = strlen(exc);
    r.thread_name = "c-worker";
    r.thread_name_len = strlen(r.thread_name);
    r.thread_id = 4242;
    r.created = 1764172693.25;
    r.line = record_line = __LINE__;
    CHECK_RC(lf_log_record(s, &r), LF_OK);

    macro_line = __LINE__; CHECK_RC(LF_WARNINGF(s, "app.c", "disk at %d%%", 93), LF_OK);

    CHECK_RC(lf_log(s, LF_LEVEL_INFO, NULL, 0, "plain", 5), LF_OK);
    printf("pid=%ld record_line=%d macro_line=%d\n", (long)getpid(), record_line, macro_line);

    /* The peer is down: nothing is acknowledged, so the flush cannot succeed. */
    print_flush("held", lf_flush(s, 300), s);
    CHECK(fgets(line, sizeof line, stdin) != NULL);
    /* The peer is up: the flush returns LF_OK once it has accepted all three. */
    print_flush("flushed", lf_flush(s, 60000), s);
    CHECK_RC(lf_close(s, 10000), LF_OK);
    lf_sender_free(s);
    return 0;
}
