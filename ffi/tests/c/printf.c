/* The printf-style macros format in C before the call. Usage: printf ENDPOINT. Logs 6 records. */
#include <string.h>

#include "test_util.h"

/* A wrapper of the kind an application writes around lf_vlogf_at. */
static LF_PRINTF_LIKE(2, 3) lf_result app_log(const lf_sender *s, const char *fmt, ...) {
    lf_result rc;
    va_list args;
    va_start(args, fmt);
    rc = lf_vlogf_at(s, LF_LEVEL_INFO, "app.wrapped", "wrapper.c", 7, "app_log", fmt, args);
    va_end(args);
    return rc;
}

int main(int argc, char **argv) {
    lf_sender *s;
    char *big;
    int line;
    CHECK(argc == 2);
    s = test_sender(argv[1]);

    line = __LINE__; CHECK_RC(LF_INFOF(s, "fmt", "int=%d str=%s float=%.2f", 42, "x", 3.14159), LF_OK);
    printf("line=%d\n", line);

    big = (char *)malloc(5001);
    CHECK(big != NULL);
    memset(big, 'x', 5000);
    big[5000] = '\0';
    CHECK_RC(LF_WARNINGF(s, "fmt.long", "len=%d %s", 5000, big), LF_OK);
    /* 511 and 512 characters: just fits the stack buffer, and just does not. */
    big[511] = '\0';
    CHECK_RC(LF_ERRORF(s, "fmt.edge", "%s", big), LF_OK);
    big[511] = 'x';
    big[512] = '\0';
    CHECK_RC(LF_CRITICALF(s, "fmt.edge", "%s", big), LF_OK);
    free(big);

    CHECK_RC(LF_DEBUGF(s, NULL, "plain %%"), LF_OK);
    CHECK_RC(app_log(s, "wrapped %d", 7), LF_OK);

    CHECK_RC(lf_close(s, 10000), LF_OK);
    lf_sender_free(s);
    return 0;
}
