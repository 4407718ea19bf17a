/*
 * Per-call cost of logging from C, and whether memory grows over a long run.
 *
 *   bench ENDPOINT [CALLS_PER_VARIANT] [LONG_RUN_CALLS] [BURST] [ROUNDS]
 *
 * Part 1 times every call with CLOCK_MONOTONIC and prints the median, p90 and p99 for each entry point,
 * minus the median cost of the timer itself. Every timed call must only enqueue (return LF_OK): the
 * sender's queue is large enough, and a collector drains it in the background. With BURST > 0 the
 * program waits (untimed, lf_flush) for the queue to drain after every BURST calls, like an application
 * that logs between pieces of work; with 0 (default) it logs in a tight loop, faster than the sender
 * can encode and send, so the queue grows during the run. Part 1 runs ROUNDS times (default 5) and ends
 * with the median, best and worst of the rounds' medians: on a shared machine single rounds vary.
 * Part 2 logs LONG_RUN_CALLS records and, every tenth of the way, waits for the queue to drain
 * (lf_flush) and samples the heap bytes in use (mallinfo2) and the resident set size: after warm-up
 * they must stay flat.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logfunnel.h"

#define MAX_ROUNDS 50

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t percentile(uint32_t *sorted, size_t n, double p) {
    size_t i = (size_t)(p * (double)(n - 1));
    return sorted[i];
}

static long rss_kib(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) {
        return -1;
    }
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) {
        resident = -1;
    }
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

enum variant { V_TIMER, V_LF_INFO, V_LF_LOG, V_LF_INFOF, V_RECORD_FIELDS, V_FILTERED, V_COUNT };
static const char *variant_names[V_COUNT] = {
    "timer only (subtracted)", "LF_INFO (lf_log_at, location)", "lf_log (lengths, no location)",
    "LF_INFOF (printf format)", "lf_log_record + 2 fields", "filtered (below min level)"};

static lf_result call(const lf_sender *s, const lf_sender *filtering, enum variant v, size_t i) {
    static const char msg[] = "user logged in from the web frontend";
    lf_field fields[2];
    lf_record r;
    switch (v) {
    case V_LF_INFO:
        return LF_INFO(s, "bench.app", msg);
    case V_LF_LOG:
        return lf_log(s, LF_LEVEL_INFO, "bench.app", 9, msg, sizeof msg - 1);
    case V_LF_INFOF:
        return LF_INFOF(s, "bench.app", "request %zu took %d ms", i, 42);
    case V_RECORD_FIELDS: {
        lf_field user = LF_FIELD_STR("user", "alice");
        lf_field n = LF_FIELD_I64("n", (int64_t)i);
        fields[0] = user;
        fields[1] = n;
        memset(&r, 0, sizeof r);
        r.level = LF_LEVEL_INFO;
        r.logger = "bench.app";
        r.logger_len = 9;
        r.msg = msg;
        r.msg_len = sizeof msg - 1;
        r.file = __FILE__;
        r.file_len = sizeof __FILE__ - 1;
        r.line = __LINE__;
        r.func = __func__;
        r.func_len = strlen(__func__);
        r.fields = fields;
        r.field_count = 2;
        return lf_log_record(s, &r);
    }
    case V_FILTERED:
        return LF_DEBUG(filtering, "bench.app", msg);
    default:
        return LF_OK;
    }
}

static int usage(const char *why, const char *arg) {
    if (why != NULL) {
        fprintf(stderr, "bench: %s%s%s\n", why, arg != NULL ? ": " : "", arg != NULL ? arg : "");
    }
    fprintf(stderr, "usage: bench ENDPOINT [CALLS_PER_VARIANT] [LONG_RUN_CALLS] [BURST] [ROUNDS]\n"
                    "  CALLS_PER_VARIANT >= 1 (default 200000), LONG_RUN_CALLS >= 0 (default 5000000),\n"
                    "  BURST >= 0 (default 0: tight loop), ROUNDS 1-%d (default 5)\n",
            MAX_ROUNDS);
    return 2;
}

/* Argument `i` as a whole number in [min, max], or `dflt` if absent; 0 if it is not one. */
static int parse_count(int argc, char **argv, int i, size_t dflt, size_t min, size_t max, size_t *out) {
    const char *s;
    char *end;
    unsigned long long v;
    if (i >= argc) {
        *out = dflt;
        return 1;
    }
    s = argv[i];
    if (!isdigit((unsigned char)s[0])) { /* strtoull would accept " 5", "+5" and wrap "-5" */
        return 0;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

int main(int argc, char **argv) {
    size_t calls, long_calls, burst, rounds_arg;
    int round, rounds;
    static uint32_t medians[V_COUNT][MAX_ROUNDS];
    uint32_t *ns;
    uint32_t timer_median = 0;
    lf_options *o;
    lf_sender *s = NULL, *filtering = NULL;
    size_t i;
    int v;
    long not_queued = 0;
    if (argc < 2 || argc > 6) {
        return usage(argc < 2 ? "missing ENDPOINT" : "too many arguments", NULL);
    }
    /* The queue holds every timed call (capacity calls + 1), and each timing is kept in memory. */
    if (!parse_count(argc, argv, 2, 200000, 1, SIZE_MAX / sizeof *ns - 1, &calls)) {
        return usage("CALLS_PER_VARIANT must be a whole number >= 1", argv[2]);
    }
    if (!parse_count(argc, argv, 3, 5000000, 0, SIZE_MAX, &long_calls)) {
        return usage("LONG_RUN_CALLS must be a whole number >= 0", argv[3]);
    }
    if (!parse_count(argc, argv, 4, 0, 0, SIZE_MAX, &burst)) {
        return usage("BURST must be a whole number >= 0", argv[4]);
    }
    if (!parse_count(argc, argv, 5, 5, 1, MAX_ROUNDS, &rounds_arg)) {
        return usage("ROUNDS must be a whole number in the range below", argv[5]);
    }
    rounds = (int)rounds_arg;
    ns = (uint32_t *)malloc(calls * sizeof *ns);
    if (ns == NULL) {
        fprintf(stderr, "bench: cannot allocate %zu timings\n", calls);
        return 1;
    }
    o = lf_options_new();
    lf_options_set_endpoint(o, argv[1]);
    lf_options_set_queue_capacity(o, calls + 1);
    lf_options_set_queue_max_bytes(o, (size_t)1 << 31);
    if (lf_sender_new(o, &s) != LF_OK) {
        fprintf(stderr, "bench: %s\n", lf_last_error());
        return 1;
    }
    o = lf_options_new();
    lf_options_set_endpoint(o, argv[1]);
    lf_options_set_min_level(o, LF_LEVEL_INFO);
    if (lf_sender_new(o, &filtering) != LF_OK) {
        fprintf(stderr, "bench: %s\n", lf_last_error());
        return 1;
    }
    /* Wait until the collector is connected, so the timed calls see the steady state. */
    LF_INFO(s, "bench", "warm-up");
    lf_flush(s, 10000);

    printf("library %s, %zu calls per variant and round, %d rounds, %s\n", lf_version(), calls,
           rounds, burst > 0 ? "in bursts (queue drained between them)" : "tight loop");
    printf("%-32s %5s %10s %10s %10s\n", "call", "round", "median ns", "p90 ns", "p99 ns");
    for (round = 0; round < rounds; round++) {
        for (v = 0; v < V_COUNT; v++) {
            for (i = 0; i < calls; i++) {
                uint64_t t0 = now_ns();
                lf_result rc = call(s, filtering, (enum variant)v, i);
                uint64_t t1 = now_ns();
                ns[i] = (uint32_t)(t1 - t0);
                if (rc != LF_OK && !(v == V_FILTERED && rc == LF_FILTERED)) {
                    not_queued++;
                }
                if (burst > 0 && (i + 1) % burst == 0) {
                    lf_flush(s, 60000); /* not timed: the application's own work between bursts */
                }
            }
            /* Let the collector catch up before the next variant, so each starts from an empty queue. */
            lf_flush(s, 60000);
            qsort(ns, calls, sizeof *ns, cmp_u32);
            if (v == V_TIMER) {
                timer_median = percentile(ns, calls, 0.5);
            }
            {
                uint32_t sub = v == V_TIMER ? 0 : timer_median;
                medians[v][round] = percentile(ns, calls, 0.5) - sub;
                printf("%-32s %5d %10u %10u %10u\n", variant_names[v], round + 1, medians[v][round],
                       percentile(ns, calls, 0.9) - sub, percentile(ns, calls, 0.99) - sub);
            }
        }
    }
    printf("\n%-32s %16s %10s %10s\n", "call", "median of rounds", "best", "worst");
    for (v = 1; v < V_COUNT; v++) {
        qsort(medians[v], (size_t)rounds, sizeof medians[v][0], cmp_u32);
        printf("%-32s %16u %10u %10u\n", variant_names[v], medians[v][rounds / 2], medians[v][0],
               medians[v][rounds - 1]);
    }
    printf("calls not queued: %ld\n", not_queued);
    free(ns);

    /* Part 2: a long run; heap in use and RSS sampled with the queue drained. */
    if (long_calls == 0) {
        goto done;
    }
    printf("\nlong run: %zu calls of LF_INFOF\n", long_calls);
    printf("%12s %16s %12s\n", "calls", "heap in use B", "RSS KiB");
    {
        size_t step = long_calls / 10 > 0 ? long_calls / 10 : 1;
        size_t heap_after_warmup = 0;
        long rss_after_warmup = 0;
        struct mallinfo2 mi;
        for (i = 1; i <= long_calls; i++) {
            if (LF_INFOF(s, "bench.long", "request %zu took %d ms", i, 42) != LF_OK) {
                not_queued++;
            }
            if (i % step == 0) {
                lf_flush(s, 60000);
                mi = mallinfo2();
                printf("%12zu %16zu %12ld\n", i, mi.uordblks, rss_kib());
                if (i == step) {
                    heap_after_warmup = mi.uordblks;
                    rss_after_warmup = rss_kib();
                }
            }
        }
        mi = mallinfo2();
        printf("heap growth after warm-up: %+ld B; RSS growth: %+ld KiB; calls not queued: %ld\n",
               (long)mi.uordblks - (long)heap_after_warmup, rss_kib() - rss_after_warmup, not_queued);
    }
done:
    lf_close(s, 10000);
    lf_close(filtering, 1000);
    lf_sender_free(s);
    lf_sender_free(filtering);
    return 0;
}
