/* Logs N records and exits at once. Usage: exit_fast ENDPOINT N close|free|none
 * close: lf_close then lf_sender_free; free: only lf_sender_free (closes with the close timeout);
 * none: neither (queued records may be lost, but exit must not hang). */
#include <string.h>

#include "test_util.h"

int main(int argc, char **argv) {
    lf_sender *s;
    CHECK(argc == 4);
    s = test_sender(argv[1]);
    LOG_NUMBERED(s, "app.exit", "exit", atoi(argv[2]));
    if (strcmp(argv[3], "close") == 0) {
        CHECK_RC(lf_close(s, 20000), LF_OK);
    }
    if (strcmp(argv[3], "none") != 0) {
        lf_sender_free(s);
    }
    return 0;
}
