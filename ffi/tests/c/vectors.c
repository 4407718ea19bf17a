/* Replays log calls described on standard input, one per line, through lf_log_record (CREATED 0 is
 * "now"):
 *   LEVEL CREATED LOGGER MSG EXC NFIELDS [KEY KIND VALUE]...
 * Every string is hex-encoded bytes ("-" for absent, "" is not used: an empty string is "=").
 * KIND is an lf_field_kind; VALUE holds the text of an INT/FLOAT/BOOL value or the bytes of a
 * STRING/JSON value. Usage: vectors ENDPOINT < lines. */
#include <string.h>

#include "test_util.h"

#define MAX_FIELDS 32

/* Decodes a hex token into a malloc'd buffer; NULL for "-". */
static char *unhex(const char *tok, size_t *len) {
    size_t n, i;
    char *out;
    if (strcmp(tok, "-") == 0) {
        *len = 0;
        return NULL;
    }
    if (strcmp(tok, "=") == 0) {
        tok = "";
    }
    n = strlen(tok);
    CHECK(n % 2 == 0);
    out = (char *)malloc(n / 2 + 1);
    CHECK(out != NULL);
    for (i = 0; i < n / 2; i++) {
        unsigned byte;
        CHECK(sscanf(tok + 2 * i, "%2x", &byte) == 1);
        out[i] = (char)byte;
    }
    out[n / 2] = '\0';
    *len = n / 2;
    return out;
}

static char *next_token(char **cursor) {
    char *tok = strtok(*cursor, " \n");
    *cursor = NULL;
    CHECK(tok != NULL);
    return tok;
}

int main(int argc, char **argv) {
    static char line[1 << 20];
    lf_sender *s;
    long replayed = 0;
    CHECK(argc == 2);
    s = test_sender(argv[1]);
    while (fgets(line, sizeof line, stdin) != NULL) {
        lf_record r;
        lf_field fields[MAX_FIELDS];
        char *owned[3 + 2 * MAX_FIELDS];
        size_t n_owned = 0, nfields, i, len;
        char *cursor = line;
        if (line[0] == '\n' || line[0] == '\0') {
            continue;
        }
        memset(&r, 0, sizeof r);
        memset(fields, 0, sizeof fields);
        r.level = (int32_t)strtol(next_token(&cursor), NULL, 10);
        r.created = strtod(next_token(&cursor), NULL);
        owned[n_owned++] = (char *)(r.logger = unhex(next_token(&cursor), &r.logger_len));
        owned[n_owned++] = (char *)(r.msg = unhex(next_token(&cursor), &r.msg_len));
        owned[n_owned++] = (char *)(r.exc_text = unhex(next_token(&cursor), &r.exc_text_len));
        nfields = (size_t)strtoul(next_token(&cursor), NULL, 10);
        CHECK(nfields <= MAX_FIELDS);
        for (i = 0; i < nfields; i++) {
            char *value;
            fields[i].key = unhex(next_token(&cursor), &fields[i].key_len);
            owned[n_owned++] = (char *)fields[i].key;
            fields[i].kind = (lf_field_kind)strtoul(next_token(&cursor), NULL, 10);
            value = unhex(next_token(&cursor), &len);
            owned[n_owned++] = value;
            switch (fields[i].kind) {
            case LF_FIELD_INT:
            case LF_FIELD_BOOL:
                fields[i].int_value = strtoll(value, NULL, 10);
                break;
            case LF_FIELD_FLOAT:
                fields[i].float_value = strtod(value, NULL);
                break;
            default:
                fields[i].str_value = value;
                fields[i].str_len = len;
            }
        }
        r.fields = fields;
        r.field_count = nfields;
        CHECK_RC(lf_log_record(s, &r), LF_OK);
        for (i = 0; i < n_owned; i++) {
            free(owned[i]);
        }
        replayed++;
    }
    printf("replayed=%ld\n", replayed);
    CHECK_RC(lf_close(s, 10000), LF_OK);
    lf_sender_free(s);
    return 0;
}
