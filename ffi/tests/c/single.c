/* One thread logs N records with every kind of field, then one record through each other entry point.
 * Usage: single ENDPOINT N. Prints the source lines the Rust test checks against. */
#include <string.h>

#include "test_util.h"

static const int32_t levels[] = {LF_LEVEL_DEBUG, LF_LEVEL_INFO, LF_LEVEL_WARNING, LF_LEVEL_ERROR,
                                 LF_LEVEL_CRITICAL};

int main(int argc, char **argv) {
    lf_options *o;
    lf_sender *s = NULL;
    lf_record r;
    int n, i, record_line = 0, macro_line;
    static const char exc[] = "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: boom";
    CHECK(argc == 3);
    n = atoi(argv[2]);

    o = lf_options_new();
    CHECK_RC(lf_options_set_endpoint(o, argv[1]), LF_OK);
    CHECK_RC(lf_options_set_default_logger(o, "single-default"), LF_OK);
    CHECK_RC(lf_sender_new(o, &s), LF_OK);

    for (i = 0; i < n; i++) {
        char msg[64];
        int len = snprintf(msg, sizeof msg, "record %d", i);
        lf_field fields[7];
        lf_field f_i = LF_FIELD_I64("i", i);
        lf_field f_user = LF_FIELD_STR("user", "alice");
        lf_field f_ratio = LF_FIELD_F64("ratio", i / 4.0);
        lf_field f_even = LF_FIELD_BOOLEAN("even", i % 2 == 0);
        lf_field f_shadow = LF_FIELD_STR("msg", "shadow");
        memset(fields, 0, sizeof fields);
        fields[0] = f_i;
        fields[1] = f_user;
        fields[2] = f_ratio;
        fields[3] = f_even;
        fields[4].key = "obj";
        fields[4].key_len = 3;
        fields[4].str_value = "{\"a\":[1,2]}";
        fields[4].str_len = strlen(fields[4].str_value);
        fields[4].kind = LF_FIELD_JSON;
        fields[5].key = "nothing";
        fields[5].key_len = 7;
        fields[5].kind = LF_FIELD_NULL;
        fields[6] = f_shadow;

        memset(&r, 0, sizeof r);
        r.level = levels[i % 5];
        r.logger = "app.single";
        r.logger_len = strlen(r.logger);
        r.msg = msg;
        r.msg_len = (size_t)len;
        r.file = __FILE__;
        r.file_len = strlen(__FILE__);
        r.func = __func__;
        r.func_len = strlen(__func__);
        r.fields = fields;
        r.field_count = 7;
        r.line = record_line = __LINE__;
        CHECK_RC(lf_log_record(s, &r), LF_OK);
    }
    printf("record_line=%d\n", record_line);

    macro_line = __LINE__; CHECK_RC(LF_WARNING(s, NULL, "macro message"), LF_OK);
    printf("macro_line=%d\n", macro_line);

    memset(&r, 0, sizeof r);
    r.level = LF_LEVEL_ERROR;
    r.logger = "app.exc";
    r.logger_len = 7;
    r.msg = "failed";
    r.msg_len = 6;
    r.exc_text = exc;
    r.exc_text_len = strlen(exc);
    r.stack_info = "Stack (most recent call last):\n  here";
    r.stack_info_len = strlen(r.stack_info);
    r.thread_name = "custom-thread";
    r.thread_name_len = strlen(r.thread_name);
    r.thread_id = 4242;
    r.created = 1700000000.25;
    CHECK_RC(lf_log_record(s, &r), LF_OK);

    CHECK_RC(lf_log(s, LF_LEVEL_INFO, "app.plain", 9, "plain msg", 9), LF_OK);

    /* A file without a line, and a record made on another thread: lineno and thread are left out. */
    r = info_record("app.worker", "elsewhere", 9, NULL, 0);
    r.file = "Worker.java";
    r.file_len = 11;
    r.line = 0;
    r.thread_id = -1;
    CHECK_RC(lf_log_record(s, &r), LF_OK);

    CHECK_RC(lf_close(s, 10000), LF_OK);
    print_stats("stats", s);
    lf_sender_free(s);
    return 0;
}
