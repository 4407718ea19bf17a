/* Logs N records and exits at once. Usage: exit_fast ENDPOINT N close|free|none
 * close: lf_close then lf_sender_free; free: only lf_sender_free (closes with the close timeout);
 * none: neither (queued records may be lost, but exit must not hang). */
#include <string.h>

#include "test_util.h"

int main(int argc, char **argv) {
    lf_sender *s;
    int n, i;
    CHECK(argc == 4);
    n = atoi(argv[2]);
    s = test_sender(argv[1]);
    for (i = 0; i < n; i++) {
        CHECK_RC(LF_INFOF(s, "app.exit", "exit %d", i), LF_OK);
    }
    if (strcmp(argv[3], "close") == 0) {
        CHECK_RC(lf_close(s, 20000), LF_OK);
    }
    if (strcmp(argv[3], "none") != 0) {
        lf_sender_free(s);
    }
    return 0;
}
