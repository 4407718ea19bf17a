/* Invalid arguments get their documented codes and change nothing; odd but valid input is logged.
 * Usage: invalid_args ENDPOINT. Logs exactly 5 records (see the Rust test). Prints "ok" at the end. */
#include <string.h>

#include "test_util.h"

static lf_result try_options(const char *endpoint, size_t capacity, size_t max_frame) {
    lf_options *o = lf_options_new();
    static char marker;
    lf_sender *sentinel = (lf_sender *)(void *)&marker;
    lf_sender *s = sentinel;
    lf_result rc;
    CHECK(o != NULL);
    if (endpoint != NULL) {
        CHECK_RC(lf_options_set_endpoint(o, endpoint), LF_OK);
    }
    CHECK_RC(lf_options_set_queue_capacity(o, capacity), LF_OK);
    CHECK_RC(lf_options_set_max_frame_bytes(o, max_frame), LF_OK);
    rc = lf_sender_new(o, &s); /* takes over `o` whatever the result */
    if (rc == LF_OK) {
        lf_sender_free(s);
    } else {
        CHECK(s == sentinel); /* out-parameter untouched on failure */
        CHECK(strlen(lf_last_error()) > 0);
    }
    return rc;
}

int main(int argc, char **argv) {
    lf_sender *s, *filtered;
    lf_options *o;
    lf_stats st, st_before;
    lf_record r;
    lf_field bad_field;
    unsigned code;
    CHECK(argc == 2);

    /* Results and version. */
    for (code = 0; code < 300; code++) {
        CHECK(lf_result_message(code) != NULL);
    }
    CHECK(strcmp(lf_result_message(LF_OK), "ok") == 0);
    CHECK(strcmp(lf_result_message(12345), "unknown result code") == 0);
    CHECK(strcmp(lf_version(), LF_VERSION) == 0);

    /* NULL handles. */
    lf_sender_free(NULL);
    lf_options_free(NULL);
    CHECK_RC(lf_options_set_endpoint(NULL, "tcp://127.0.0.1:1"), LF_NULL_ARGUMENT);
    CHECK_RC(lf_options_set_queue_capacity(NULL, 1), LF_NULL_ARGUMENT);
    CHECK_RC(lf_log(NULL, LF_LEVEL_INFO, "a", 1, "b", 1), LF_NULL_ARGUMENT);
    CHECK_RC(lf_log_at(NULL, LF_LEVEL_INFO, "a", "b", NULL, 0, NULL), LF_NULL_ARGUMENT);
    CHECK_RC(lf_log_record(NULL, NULL), LF_NULL_ARGUMENT);
    CHECK_RC(lf_flush(NULL, 0), LF_NULL_ARGUMENT);
    CHECK_RC(lf_close(NULL, 0), LF_NULL_ARGUMENT);
    memset(&st, 0xAB, sizeof st);
    memcpy(&st_before, &st, sizeof st);
    CHECK_RC(lf_get_stats(NULL, &st), LF_NULL_ARGUMENT);
    CHECK(memcmp(&st, &st_before, sizeof st) == 0); /* out-parameter untouched on failure */
    CHECK_RC(LF_INFOF(NULL, "a", "x %d", 1), LF_NULL_ARGUMENT);

    /* Options: bad values are reported by the setter or by lf_sender_new. */
    o = lf_options_new();
    CHECK(o != NULL);
    CHECK_RC(lf_options_set_endpoint(o, NULL), LF_NULL_ARGUMENT);
    CHECK_RC(lf_options_set_mode(o, 9), LF_INVALID_ARGUMENT);
    CHECK_RC(lf_options_set_overflow(o, 9), LF_INVALID_ARGUMENT);
    CHECK_RC(lf_options_set_lang(o, "cobol"), LF_INVALID_ARGUMENT);
    CHECK(strstr(lf_last_error(), "cobol") != NULL);
    CHECK_RC(lf_options_set_lang(o, "JAVA"), LF_OK);
    CHECK_RC(lf_options_set_lang(o, NULL), LF_NULL_ARGUMENT);
    CHECK_RC(lf_options_set_host(o, NULL), LF_NULL_ARGUMENT);
    CHECK_RC(lf_options_set_default_logger(o, NULL), LF_NULL_ARGUMENT);
    lf_options_free(o);

    CHECK_RC(lf_sender_new(NULL, &s), LF_NULL_ARGUMENT);
    CHECK_RC(lf_sender_new(lf_options_new(), NULL), LF_NULL_ARGUMENT);
    CHECK_RC(try_options(NULL, 10, 4096), LF_INVALID_ARGUMENT);
    CHECK(strstr(lf_last_error(), "endpoint") != NULL);
    CHECK_RC(try_options("bogus://x", 10, 4096), LF_INVALID_ARGUMENT);
    CHECK(strstr(lf_last_error(), "endpoint") != NULL);
    CHECK_RC(try_options(argv[1], 0, 4096), LF_INVALID_ARGUMENT);
    CHECK(strstr(lf_last_error(), "queue_capacity") != NULL);
    CHECK_RC(try_options(argv[1], 10, 10), LF_INVALID_ARGUMENT);
    CHECK(strstr(lf_last_error(), "max_frame_bytes") != NULL);
    CHECK_RC(try_options("tcp://127.0.0.1:notaport", 10, 4096), LF_ZMQ_ERROR);

    /* A sender with a minimum level: lower records are filtered and counted, nothing is sent. */
    o = lf_options_new();
    CHECK_RC(lf_options_set_endpoint(o, argv[1]), LF_OK);
    CHECK_RC(lf_options_set_min_level(o, LF_LEVEL_WARNING), LF_OK);
    CHECK_RC(lf_sender_new(o, &filtered), LF_OK);
    CHECK_RC(LF_INFO(filtered, "app", "filtered"), LF_FILTERED);
    CHECK_RC(LF_DEBUGF(filtered, "app", "filtered %d", 2), LF_FILTERED);
    CHECK_RC(lf_get_stats(filtered, &st), LF_OK);
    CHECK(st.filtered == 2 && st.enqueued == 0);
    CHECK_RC(lf_close(filtered, 1000), LF_OK);
    lf_sender_free(filtered);

    s = test_sender(argv[1]);

    /* Bad pointer/length pairs: nothing is logged. */
    CHECK_RC(lf_log(s, LF_LEVEL_INFO, NULL, 5, "x", 1), LF_NULL_ARGUMENT);
    CHECK_RC(lf_log(s, LF_LEVEL_INFO, "x", 1, NULL, 5), LF_NULL_ARGUMENT);
    CHECK_RC(lf_log_at(s, LF_LEVEL_INFO, "x", NULL, NULL, 0, NULL), LF_NULL_ARGUMENT);
    CHECK_RC(lf_log_record(s, NULL), LF_NULL_ARGUMENT);
    CHECK_RC(lf_get_stats(s, NULL), LF_NULL_ARGUMENT);
    memset(&r, 0, sizeof r);
    r.field_count = 2;
    CHECK_RC(lf_log_record(s, &r), LF_NULL_ARGUMENT);
    memset(&bad_field, 0, sizeof bad_field);
    bad_field.kind = 77;
    r.fields = &bad_field;
    r.field_count = 1;
    CHECK_RC(lf_log_record(s, &r), LF_INVALID_ARGUMENT);
    bad_field.kind = LF_FIELD_STRING;
    bad_field.key_len = 3;
    CHECK_RC(lf_log_record(s, &r), LF_NULL_ARGUMENT);
    r.fields = NULL;
    r.field_count = 0;
    r.exc_text_len = 4;
    CHECK_RC(lf_log_record(s, &r), LF_NULL_ARGUMENT);

    /* Odd but valid: logged, in this order. */
    /* 1: invalid UTF-8 is replaced, not rejected. */
    CHECK_RC(lf_log(s, LF_LEVEL_INFO, "bad.\xc3\x28", 6, "caf\xe9 \xff\xfe ok", 10), LF_OK);
    /* 2: NULL message with length 0, NULL logger: empty message, default logger. */
    CHECK_RC(lf_log(s, LF_LEVEL_INFO, NULL, 0, NULL, 0), LF_OK);
    /* 3: an embedded NUL travels in a (pointer, length) message. */
    CHECK_RC(lf_log(s, LF_LEVEL_INFO, "nul", 3, "a\0b", 3), LF_OK);
    /* 4: bad UTF-8 in a field key and value; empty key. */
    {
        lf_field fields[2];
        memset(fields, 0, sizeof fields);
        fields[0].key = "k\xff";
        fields[0].key_len = 2;
        fields[0].str_value = "v\xfe";
        fields[0].str_len = 2;
        fields[1].str_value = "empty key";
        fields[1].str_len = 9;
        memset(&r, 0, sizeof r);
        r.level = LF_LEVEL_WARNING;
        r.logger = "fields";
        r.logger_len = 6;
        r.fields = fields;
        r.field_count = 2;
        CHECK_RC(lf_log_record(s, &r), LF_OK);
    }
    /* 5: zero-length NUL-terminated message without location. */
    CHECK_RC(lf_log_at(s, LF_LEVEL_ERROR, "empty", "", NULL, 0, NULL), LF_OK);

    CHECK_RC(lf_close(s, 10000), LF_OK);
    CHECK_RC(lf_log(s, LF_LEVEL_INFO, "x", 1, "y", 1), LF_CLOSED);
    CHECK_RC(lf_close(s, 10), LF_OK);
    CHECK_RC(lf_flush(s, 10), LF_OK);
    print_stats("stats", s);
    lf_sender_free(s);
    printf("ok\n");
    return 0;
}
