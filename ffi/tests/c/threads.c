/* T threads share one sender and each log N records. Usage: threads ENDPOINT T N.
 * Prints "not_ok=K" (log calls that did not return LF_OK) and the counters. */
#include <pthread.h>
#include <string.h>

#include "test_util.h"

struct worker {
    const lf_sender *sender;
    int index;
    int count;
    long not_ok;
    pthread_t thread;
};

static void *run(void *arg) {
    struct worker *w = (struct worker *)arg;
    char name[16];
    int i;
    snprintf(name, sizeof name, "worker-%d", w->index);
    pthread_setname_np(pthread_self(), name);
    for (i = 0; i < w->count; i++) {
        char msg[48];
        lf_field fields[2] = {LF_FIELD_I64("t", w->index), LF_FIELD_I64("i", i)};
        size_t len = (size_t)snprintf(msg, sizeof msg, "t%d-%d", w->index, i);
        lf_record r = info_record("app.threads", msg, len, fields, 2);
        if (lf_log_record(w->sender, &r) != LF_OK) {
            w->not_ok++;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    lf_options *o;
    lf_sender *s = NULL;
    struct worker *workers;
    int t, nthreads, n;
    long not_ok = 0;
    CHECK(argc == 4);
    nthreads = atoi(argv[2]);
    n = atoi(argv[3]);

    o = lf_options_new();
    CHECK_RC(lf_options_set_endpoint(o, argv[1]), LF_OK);
    /* Lossless test: a log call may wait for room as long as it takes the receiver to catch up. */
    CHECK_RC(lf_options_set_block_timeout_ms(o, 60000), LF_OK);
    CHECK_RC(lf_sender_new(o, &s), LF_OK);

    workers = (struct worker *)calloc((size_t)nthreads, sizeof *workers);
    CHECK(workers != NULL);
    for (t = 0; t < nthreads; t++) {
        workers[t].sender = s;
        workers[t].index = t;
        workers[t].count = n;
        CHECK(pthread_create(&workers[t].thread, NULL, run, &workers[t]) == 0);
    }
    for (t = 0; t < nthreads; t++) {
        CHECK(pthread_join(workers[t].thread, NULL) == 0);
        not_ok += workers[t].not_ok;
    }
    free(workers);
    printf("not_ok=%ld\n", not_ok);
    CHECK_RC(lf_close(s, 60000), LF_OK);
    print_stats("stats", s);
    lf_sender_free(s);
    return 0;
}
