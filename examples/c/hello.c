/*
 * hello.c: log from C into a logfunnel collector.
 *
 *   logfunnel-collector &          # listens on tcp://127.0.0.1:5555, prints records on stderr
 *   make && ./hello                # or: ./hello tcp://127.0.0.1:5555
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logfunnel.h"

int main(int argc, char **argv) {
    const char *endpoint = argc > 1 ? argv[1] : getenv("LOGFUNNEL_ENDPOINT");
    lf_options *options;
    lf_sender *log = NULL;
    lf_stats stats;
    int attempt;

    if (endpoint == NULL) {
        endpoint = "tcp://127.0.0.1:5555";
    }
    if (strcmp(lf_version(), LF_VERSION) != 0) {
        fprintf(stderr, "header %s does not match library %s\n", LF_VERSION, lf_version());
        return 1;
    }

    /* 1. Options: the collector's endpoint, and the logger name used when a call passes NULL. */
    options = lf_options_new();
    lf_options_set_endpoint(options, endpoint);
    lf_options_set_default_logger(options, "hello");
    /* 2. The sender takes over the options, whatever the result. */
    if (lf_sender_new(options, &log) != LF_OK) {
        fprintf(stderr, "logfunnel: %s\n", lf_last_error());
        return 1;
    }

    /* 3. Log. Each call queues the record and returns at once; a background thread sends it. */
    LF_INFO(log, NULL, "hello from C");
    for (attempt = 1; attempt <= 3; attempt++) {
        LF_WARNINGF(log, "hello.db", "connection attempt %d of %d failed", attempt, 3);
    }
    {
        /* User fields travel as top-level keys: the collector's format can use %(user)s. */
        lf_field fields[] = {LF_FIELD_STR("user", "alice"), LF_FIELD_I64("items", 3)};
        lf_record record = {0};
        record.level = LF_LEVEL_INFO;
        record.logger = "hello.orders";
        record.logger_len = strlen(record.logger);
        record.msg = "order placed";
        record.msg_len = strlen(record.msg);
        record.fields = fields;
        record.field_count = sizeof fields / sizeof fields[0];
        lf_log_record(log, &record);
    }

    /* 4. Before exiting: send what is queued (waiting at most 2 s), then free. */
    if (lf_close(log, 2000) != LF_OK) {
        fprintf(stderr, "logfunnel: some records were not sent (is the collector running?)\n");
    }
    if (lf_get_stats(log, &stats) == LF_OK) {
        printf("sent %llu records, dropped %llu\n", (unsigned long long)stats.sent,
               (unsigned long long)stats.dropped);
    }
    lf_sender_free(log);
    return 0;
}
