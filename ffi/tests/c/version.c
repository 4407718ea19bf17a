/* Prints the header's version macros and the library's lf_version(). */
#include "test_util.h"

int main(void) {
    printf("header=%s library=%s number=%d\n", LF_VERSION, lf_version(), LF_VERSION_NUMBER);
    return 0;
}
