/*
 * test.h - a tiny test harness for the C core (no Lua).
 *
 * A suite is a function `void suite_NAME(void)` listed in test_main.c;
 * inside, each case is a block started by TEST("description").  The ASSERT
 * macros print both values on failure and abandon the current case.
 */
#ifndef CORRAL_TEST_H
#define CORRAL_TEST_H

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

extern int test_passed;      /* cases that passed */
extern int test_failed;      /* cases that failed */
extern jmp_buf test_jmp;     /* where a failing assertion jumps */
extern const char *test_name; /* the case running */

/* Run `body` as one case named `name`. */
#define TEST(name, body)                                                   \
    do {                                                                   \
        test_name = (name);                                                \
        if (setjmp(test_jmp) == 0) {                                       \
            body;                                                          \
            test_passed++;                                                 \
            printf("ok - %s\n", test_name);                                \
        } else {                                                           \
            test_failed++;                                                 \
        }                                                                  \
    } while (0)

#define TEST_FAIL_(fmt, ...)                                               \
    do {                                                                   \
        printf("not ok - %s\n  %s:%d: " fmt "\n", test_name, __FILE__,     \
               __LINE__, __VA_ARGS__);                                     \
        longjmp(test_jmp, 1);                                              \
    } while (0)

#define ASSERT_EQ(a, b)                                                    \
    do {                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                \
        if (a_ != b_)                                                      \
            TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);          \
    } while (0)

#define ASSERT_TRUE(x)                                                     \
    do {                                                                   \
        if (!(x))                                                          \
            TEST_FAIL_("%s is false", #x);                                 \
    } while (0)

#define ASSERT_DBL_EQ(a, b)                                                \
    do {                                                                   \
        double a_ = (a), b_ = (b);                                         \
        if (!(a_ - b_ < 1e-9 && b_ - a_ < 1e-9))                           \
            TEST_FAIL_("%s == %s: %g != %g", #a, #b, a_, b_);              \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                \
    do {                                                                   \
        const char *a_ = (a), *b_ = (b);                                   \
        if (strcmp(a_, b_) != 0)                                           \
            TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_, b_);      \
    } while (0)

#endif
