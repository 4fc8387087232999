/*
 * test_main.c - runs every C suite and prints "c: N passed, N failed".
 */
#include "test.h"

int test_passed;
int test_failed;
jmp_buf test_jmp;
const char *test_name;

void suite_core(void);
void suite_prims(void);
void suite_queue(void);

int main(void) {
    suite_core();
    suite_prims();
    suite_queue();
    printf("c: %d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}
