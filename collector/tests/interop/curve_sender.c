/* A C sender for the CURVE tests: logs N records "TAG i" and closes.
 * Usage: curve_sender ENDPOINT SERVER_KEY|- SECRET_KEY|- N TAG CLOSE_MS
 * (keys as lf_options_set_curve_*_key take them: a file path or env:NAME; - leaves CURVE off).
 * Exits 0 when lf_close sent every record, 3 when it timed out, 1 when lf_sender_new failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logfunnel.h"

int main(int argc, char **argv) {
    lf_options *o;
    lf_sender *s = NULL;
    lf_result rc;
    int i, n;
    if (argc != 7) {
        fprintf(stderr, "usage: curve_sender ENDPOINT SERVER_KEY|- SECRET_KEY|- N TAG CLOSE_MS\n");
        return 2;
    }
    o = lf_options_new();
    lf_options_set_endpoint(o, argv[1]);
    lf_options_set_default_logger(o, "c.curve");
    if (strcmp(argv[2], "-") != 0) {
        lf_options_set_curve_server_key(o, argv[2]);
    }
    if (strcmp(argv[3], "-") != 0) {
        lf_options_set_curve_secret_key(o, argv[3]);
    }
    if (lf_sender_new(o, &s) != LF_OK) {
        fprintf(stderr, "lf_sender_new: %s\n", lf_last_error());
        return 1;
    }
    n = atoi(argv[4]);
    for (i = 0; i < n; i++) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s %d", argv[5], i);
        LF_INFO(s, NULL, msg);
    }
    rc = lf_close(s, (uint32_t)atoi(argv[6]));
    lf_sender_free(s);
    return rc == LF_OK ? 0 : 3;
}
