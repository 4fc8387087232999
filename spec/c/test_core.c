/* test_core.c - placeholder suite replaced by the core tests. */
#include "test.h"
void suite_core(void);
void suite_core(void) {
}
