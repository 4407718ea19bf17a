/* The parent logs, forks; the child logs through the inherited sender while the parent keeps logging.
 * Usage: fork ENDPOINT P C (P records before and P after the fork in the parent, C in the child). */
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

static void log_n(const lf_sender *s, const char *role, const char *what, int n) {
    int i;
    for (i = 0; i < n; i++) {
        char msg[64];
        lf_field fields[2] = {LF_FIELD_STR("role", role), LF_FIELD_I64("i", i)};
        size_t len = (size_t)snprintf(msg, sizeof msg, "%s %d", what, i);
        lf_record r = info_record("app.fork", msg, len, fields, 2);
        CHECK_RC(lf_log_record(s, &r), LF_OK);
    }
}

int main(int argc, char **argv) {
    lf_sender *s;
    int p, c, status;
    pid_t child;
    CHECK(argc == 4);
    p = atoi(argv[2]);
    c = atoi(argv[3]);
    s = test_sender(argv[1]);

    log_n(s, "parent", "before", p);
    fflush(stdout);
    child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        log_n(s, "child", "child", c);
        CHECK_RC(lf_close(s, 20000), LF_OK);
        print_stats("child_stats", s);
        lf_sender_free(s);
        exit(0);
    }
    log_n(s, "parent", "after", p);
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_RC(lf_close(s, 20000), LF_OK);
    printf("child_pid=%ld\n", (long)child);
    print_stats("parent_stats", s);
    lf_sender_free(s);
    return 0;
}
