/*
 * test_queue.c - the queue core (csrc/core/queue.c): storage order of the
 * three kinds, growth and wrap-around, and the waiter protocol of
 * asyncio 3.13's Queue driven by the scripted tasks of harness.h.
 *
 * The waiter tests spawn harness tasks whose scripts use the queue Q
 * (Q_PUT / Q_GET / Q_JOIN, then LOGT("end")); the test body drives
 * iterations with h_iter() and acts between them (put_nowait, get_nowait,
 * cancel, shutdown).
 */
#include <stdlib.h>

#include "harness.h"
#include "test.h"

void suite_queue(void);

static long get1(cr_queue *q) {
    cr_queue_item item = -999;
    int rc = cr_queue_get_nowait(q, &item);
    return rc == CR_OK ? item : 1000 + rc;
}

/* ---- storage ---- */

/* Priority by tens: 11 and 12 tie. */
static int by_tens(void *data, cr_queue_item a, cr_queue_item b) {
    (void)data;
    return a / 10 < b / 10;
}

/* Priority by handle / 10000. */
static int by_key(void *data, cr_queue_item a, cr_queue_item b) {
    (void)data;
    return a / 10000 < b / 10000;
}

static int fail_alloc_after;  /* allocations left before failing */
static void *counting_alloc(void *data, void *ptr, size_t osize, size_t nsize) {
    (void)data;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (fail_alloc_after-- <= 0)
        return NULL;
    return realloc(ptr, nsize);
}

static long dropped[16];
static int ndropped;
static void record_drop(void *data, cr_queue_item item) {
    (void)data;
    dropped[ndropped++] = item;
}

/* FIFO: items come out in put order; EMPTY when empty */
static void storage_1(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_FIFO, 0, NULL, NULL);
    ASSERT_EQ(get1(&q), 1000 + CR_EQUEUE_EMPTY);
    for (long i = 1; i <= 3; i++)
        ASSERT_EQ(cr_queue_put_nowait(&q, i), CR_OK);
    ASSERT_EQ(cr_queue_size(&q), 3);
    ASSERT_EQ(q.unfinished, 3);
    ASSERT_TRUE(!q.finished.is_set);
    ASSERT_EQ(get1(&q), 1);
    ASSERT_EQ(get1(&q), 2);
    ASSERT_EQ(get1(&q), 3);
    ASSERT_EQ(get1(&q), 1000 + CR_EQUEUE_EMPTY);
    ASSERT_EQ(q.unfinished, 3); /* get does not finish a task */
    cr_queue_free(&q);
}

/* LIFO: the last item put comes out first */
static void storage_2(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_LIFO, 0, NULL, NULL);
    for (long i = 1; i <= 3; i++)
        cr_queue_put_nowait(&q, i);
    ASSERT_EQ(get1(&q), 3);
    cr_queue_put_nowait(&q, 4);
    ASSERT_EQ(get1(&q), 4);
    ASSERT_EQ(get1(&q), 2);
    ASSERT_EQ(get1(&q), 1);
    cr_queue_free(&q);
}

/* priority: lowest first, equal priorities in insertion order */
static void storage_3(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_PRIORITY, 0, NULL, NULL);
    cr_queue_set_less(&q, by_tens, NULL);
    long in[] = {31, 12, 33, 11, 22, 13, 21, 32};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        cr_queue_put_nowait(&q, in[i]);
    long out[] = {12, 11, 13, 22, 21, 31, 33, 32};
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++)
        ASSERT_EQ(get1(&q), out[i]);
    cr_queue_free(&q);
}

/* priority without a less callback compares the handles */
static void storage_4(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_PRIORITY, 0, NULL, NULL);
    long in[] = {5, -3, 9, 0, 5, 7};
    for (size_t i = 0; i < 6; i++)
        cr_queue_put_nowait(&q, in[i]);
    long out[] = {-3, 0, 5, 5, 7, 9};
    for (size_t i = 0; i < 6; i++)
        ASSERT_EQ(get1(&q), out[i]);
    cr_queue_free(&q);
}

/* priority heap: 2000 random keys come out sorted, ties stable */
static void storage_5(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_PRIORITY, 0, NULL, NULL);
    cr_queue_set_less(&q, by_key, NULL);
    srand(7);
    /* handle = key * 10000 + put number; only the key is compared */
    for (long n = 0; n < 2000; n++)
        ASSERT_EQ(cr_queue_put_nowait(&q, (rand() % 50) * 10000 + n), CR_OK);
    long prev = -1;
    for (int n = 0; n < 2000; n++) {
        long item = get1(&q);
        ASSERT_TRUE(item > prev); /* key ascending, then put order */
        prev = item;
    }
    ASSERT_EQ(cr_queue_size(&q), 0);
    cr_queue_free(&q);
}

/* priority heap: interleaved puts and gets always give the minimum */
static void storage_6(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_PRIORITY, 0, NULL, NULL);
    srand(11);
    for (int n = 0; n < 5000; n++) {
        if (cr_queue_size(&q) == 0 || rand() % 3) {
            cr_queue_put_nowait(&q, rand() % 1000);
        } else {
            long v = get1(&q);
            ASSERT_TRUE(v >= 0 && v < 1000);
            for (size_t i = 0; i < cr_queue_size(&q); i++)
                ASSERT_TRUE(cr_queue_at(&q, i) >= v);
        }
    }
    cr_queue_free(&q);
}

/* FIFO ring: wrap-around, growth and shrinking keep the order */
static void storage_7(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_FIFO, 0, NULL, NULL);
    long next_in = 0, next_out = 0;
    for (int round = 0; round < 50; round++) {
        int puts = (round * 37) % 101, gets = (round * 53) % 97;
        for (int i = 0; i < puts; i++)
            ASSERT_EQ(cr_queue_put_nowait(&q, next_in++), CR_OK);
        for (int i = 0; i < gets && next_out < next_in; i++)
            ASSERT_EQ(get1(&q), next_out++);
        ASSERT_EQ(cr_queue_size(&q), next_in - next_out);
        for (size_t i = 0; i < cr_queue_size(&q); i++)
            ASSERT_EQ(cr_queue_at(&q, i), next_out + (long)i);
    }
    while (next_out < next_in)
        ASSERT_EQ(get1(&q), next_out++);
    ASSERT_TRUE(q.cap <= 8);
    cr_queue_free(&q);
}

/* bounded: FULL at maxsize, never more slots than maxsize */
static void storage_8(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_FIFO, 3, NULL, NULL);
    ASSERT_EQ(cr_queue_full(&q), 0);
    for (long i = 0; i < 3; i++)
        ASSERT_EQ(cr_queue_put_nowait(&q, i), CR_OK);
    ASSERT_EQ(cr_queue_full(&q), 1);
    ASSERT_EQ(cr_queue_put_nowait(&q, 9), CR_EQUEUE_FULL);
    ASSERT_EQ(q.cap, 3);
    ASSERT_EQ(get1(&q), 0);
    ASSERT_EQ(cr_queue_put_nowait(&q, 3), CR_OK); /* wraps */
    ASSERT_EQ(get1(&q), 1);
    ASSERT_EQ(get1(&q), 2);
    ASSERT_EQ(get1(&q), 3);
    cr_queue_free(&q);
}

/* allocation failure: put_nowait is ENOMEM and changes nothing */
static void storage_9(void) {
    cr_queue q;
    fail_alloc_after = 1;
    cr_queue_init(&q, CR_QUEUE_FIFO, 0, counting_alloc, NULL);
    for (long i = 0; i < 8; i++)
        ASSERT_EQ(cr_queue_put_nowait(&q, i), CR_OK);
    ASSERT_EQ(cr_queue_put_nowait(&q, 8), CR_ENOMEM);
    ASSERT_EQ(cr_queue_size(&q), 8);
    ASSERT_EQ(q.unfinished, 8);
    fail_alloc_after = 10;
    ASSERT_EQ(cr_queue_put_nowait(&q, 8), CR_OK);
    for (long i = 0; i <= 8; i++)
        ASSERT_EQ(get1(&q), i);
    cr_queue_free(&q);
}

/* task_done: counts down, sets finished at 0, EINVAL beyond */
static void storage_10(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_FIFO, 0, NULL, NULL);
    ASSERT_EQ(cr_queue_task_done(&q), CR_EINVAL);
    cr_queue_put_nowait(&q, 1);
    cr_queue_put_nowait(&q, 2);
    ASSERT_EQ(cr_queue_task_done(&q), CR_OK); /* before any get: allowed */
    ASSERT_TRUE(!q.finished.is_set);
    ASSERT_EQ(cr_queue_task_done(&q), CR_OK);
    ASSERT_TRUE(q.finished.is_set);
    ASSERT_EQ(cr_queue_task_done(&q), CR_EINVAL);
    cr_queue_free(&q);
}

/* shutdown: put fails, get drains then fails */
static void storage_11(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_FIFO, 0, NULL, NULL);
    cr_queue_put_nowait(&q, 1);
    cr_queue_put_nowait(&q, 2);
    cr_queue_shutdown(&q, 0, NULL, NULL);
    ASSERT_EQ(cr_queue_put_nowait(&q, 3), CR_EQUEUE_SHUTDOWN);
    ASSERT_EQ(get1(&q), 1);
    ASSERT_EQ(get1(&q), 2);
    ASSERT_EQ(get1(&q), 1000 + CR_EQUEUE_SHUTDOWN);
    ASSERT_EQ(q.unfinished, 2);
    cr_queue_free(&q);
}

/* shutdown(immediate): drops every item (told to drop), counts them done */
static void storage_12(void) {
    cr_queue q;
    cr_queue_init(&q, CR_QUEUE_FIFO, 0, NULL, NULL);
    for (long i = 1; i <= 4; i++)
        cr_queue_put_nowait(&q, i);
    ASSERT_EQ(get1(&q), 1);
    ASSERT_EQ(get1(&q), 2);
    ASSERT_EQ(cr_queue_task_done(&q), CR_OK); /* 3 unfinished, 2 held */
    ndropped = 0;
    cr_queue_shutdown(&q, 1, record_drop, NULL);
    ASSERT_EQ(ndropped, 2);
    ASSERT_EQ(dropped[0], 3);
    ASSERT_EQ(dropped[1], 4);
    ASSERT_EQ(cr_queue_size(&q), 0);
    ASSERT_EQ(q.unfinished, 1);
    ASSERT_TRUE(!q.finished.is_set);
    ASSERT_EQ(cr_queue_task_done(&q), CR_OK);
    ASSERT_TRUE(q.finished.is_set);
    ASSERT_EQ(get1(&q), 1000 + CR_EQUEUE_SHUTDOWN);
    cr_queue_free(&q);
}

static void storage_tests(void) {
    TEST("FIFO: items come out in put order; EMPTY when empty", storage_1());
    TEST("LIFO: the last item put comes out first", storage_2());
    TEST("priority: lowest first, equal priorities in insertion order", storage_3());
    TEST("priority without a less callback compares the handles", storage_4());
    TEST("priority heap: 2000 random keys come out sorted, ties stable", storage_5());
    TEST("priority heap: interleaved puts and gets always give the minimum", storage_6());
    TEST("FIFO ring: wrap-around, growth and shrinking keep the order", storage_7());
    TEST("bounded: FULL at maxsize, never more slots than maxsize", storage_8());
    TEST("allocation failure: put_nowait is ENOMEM and changes nothing", storage_9());
    TEST("task_done: counts down, sets finished at 0, EINVAL beyond", storage_10());
    TEST("shutdown: put fails, get drains then fails", storage_11());
    TEST("shutdown(immediate): drops every item (told to drop), counts them done", storage_12());
}

/* ---- waiters ---- */

static cr_queue Q; /* the queue of the waiter tests */

/* A fresh loop and an empty FIFO queue Q of `maxsize` (0: unbounded). */
static cr_queue *q_setup(size_t maxsize) {
    cr_queue_init(&Q, CR_QUEUE_FIFO, maxsize, NULL, NULL);
    h_setup();
    return &Q;
}

/* Abandon what still waits, free the loop and the queue. */
static void q_teardown(void) {
    h_abandon_all();
    h_teardown();
    cr_queue_free(&Q);
}

/* The _C scripts go on after a queue error (QueueShutDown); the others end
 * the task on it. */
static const act GET1[] = {Q_GET(&Q), LOGT("end"), END()};
static const act GET1_C[] = {Q_GET_C(&Q), LOGT("end"), END()};
static const act GET2_C[] = {Q_GET_C(&Q), Q_GET_C(&Q), LOGT("end"), END()};
static const act JOIN[] = {Q_JOIN(&Q), LOGT("end"), END()};
static const act PUT2[] = {Q_PUT(&Q, 2), LOGT("end"), END()};
static const act PUT2_C[] = {Q_PUT_C(&Q, 2), LOGT("end"), END()};
static const act PUT3[] = {Q_PUT(&Q, 3), LOGT("end"), END()};

/* get on a non-empty queue does not suspend */
static void waiters_1(void) {
    cr_queue *q = q_setup(0);
    cr_queue_put_nowait(q, 7);
    ttask a;
    h_spawn(&a, "A", GET1);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:get=7@1 A:end@1");
    q_teardown();
}

/* put wakes the head getter only; the woken getter leaves the queue */
static void waiters_2(void) {
    cr_queue *q = q_setup(0);
    ttask a, b;
    h_spawn(&a, "A", GET1);
    h_spawn(&b, "B", GET1);
    h_iter();
    ASSERT_EQ(q->getters.n, 2);
    cr_queue_put_nowait(q, 1);
    ASSERT_EQ(q->getters.n, 1);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:get=1@2 A:end@2");
    cr_queue_put_nowait(q, 2);
    h_run(100);
    ASSERT_STR_EQ(h_logstr(), "A:get=1@2 A:end@2 B:get=2@3 B:end@3");
    q_teardown();
}

/* a newcomer takes the item first; the woken getter queues again at the back */
static void waiters_3(void) {
    cr_queue *q = q_setup(0);
    ttask a, b;
    h_spawn(&a, "A", GET1);
    h_spawn(&b, "B", GET1);
    h_iter();
    cr_queue_put_nowait(q, 1); /* wakes A */
    ASSERT_EQ(get1(q), 1);     /* but the item is gone */
    h_iter();                  /* A finds it empty: waits behind B */
    ASSERT_STR_EQ(h_logstr(), "");
    ASSERT_EQ(q->getters.n, 2);
    cr_queue_put_nowait(q, 2);
    h_iter();
    cr_queue_put_nowait(q, 3);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "B:get=2@3 B:end@3 A:get=3@4 A:end@4");
    q_teardown();
}

/* a getter cancelled after its wakeup passes the wakeup on */
static void waiters_4(void) {
    cr_queue *q = q_setup(0);
    ttask a, b;
    h_spawn(&a, "A", GET1);
    h_spawn(&b, "B", GET1);
    h_iter();
    cr_queue_put_nowait(q, 1);  /* wakes A */
    ASSERT_EQ(cr_task_cancel(&a.core), 1);
    h_iter();                   /* A: cancelled, wakes B */
    ASSERT_EQ(q->getters.n, 0);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:get!cancelled@2 A:cancelled@2 B:get=1@3 B:end@3");
    ASSERT_EQ(cr_queue_size(q), 0);
    q_teardown();
}

/* a getter cancelled before any wakeup is skipped by put */
static void waiters_5(void) {
    cr_queue *q = q_setup(0);
    ttask a, b;
    h_spawn(&a, "A", GET1);
    h_spawn(&b, "B", GET1);
    h_iter();
    cr_task_cancel(&a.core);
    ASSERT_EQ(q->getters.n, 2);   /* still listed until it runs */
    cr_queue_put_nowait(q, 1);  /* skips A, wakes B */
    ASSERT_EQ(q->getters.n, 0);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:get!cancelled@2 A:cancelled@2 B:get=1@2 B:end@2");
    q_teardown();
}

/* a getter cancelled after its wakeup, queue emptied meanwhile: nobody else is woken */
static void waiters_6(void) {
    cr_queue *q = q_setup(0);
    ttask a, b;
    h_spawn(&a, "A", GET1);
    h_spawn(&b, "B", GET1);
    h_iter();
    cr_queue_put_nowait(q, 1);
    ASSERT_EQ(get1(q), 1);
    cr_task_cancel(&a.core);
    h_iter();
    ASSERT_EQ(q->getters.n, 1);   /* B still waits */
    ASSERT_STR_EQ(h_logstr(), "A:get!cancelled@2 A:cancelled@2");
    q_teardown();
}

/* put blocks while full; get wakes the head putter */
static void waiters_7(void) {
    cr_queue *q = q_setup(1);
    cr_queue_put_nowait(q, 1);
    ttask a, b;
    h_spawn(&a, "A", PUT2);
    h_spawn(&b, "B", PUT3);
    h_iter();
    ASSERT_EQ(q->putters.n, 2);
    ASSERT_EQ(get1(q), 1);
    ASSERT_EQ(q->putters.n, 1);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:put=2@2 A:end@2");
    ASSERT_EQ(get1(q), 2);
    h_iter();
    ASSERT_EQ(get1(q), 3);
    ASSERT_STR_EQ(h_logstr(), "A:put=2@2 A:end@2 B:put=3@3 B:end@3");
    ASSERT_EQ(q->unfinished, 3);
    q_teardown();
}

/* a putter cancelled after its wakeup passes the wakeup on */
static void waiters_8(void) {
    cr_queue *q = q_setup(1);
    cr_queue_put_nowait(q, 1);
    ttask a, b;
    h_spawn(&a, "A", PUT2);
    h_spawn(&b, "B", PUT3);
    h_iter();
    ASSERT_EQ(get1(q), 1);       /* wakes A */
    cr_task_cancel(&a.core);
    h_iter();                    /* A cancelled: wakes B */
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:put!cancelled@2 A:cancelled@2 B:put=3@3 B:end@3");
    ASSERT_EQ(get1(q), 3);
    ASSERT_EQ(q->unfinished, 2);
    q_teardown();
}

/* a woken putter that finds the queue full again waits at the back */
static void waiters_9(void) {
    cr_queue *q = q_setup(1);
    cr_queue_put_nowait(q, 1);
    ttask a, b;
    h_spawn(&a, "A", PUT2);
    h_spawn(&b, "B", PUT3);
    h_iter();
    ASSERT_EQ(get1(q), 1);                   /* wakes A */
    ASSERT_EQ(cr_queue_put_nowait(q, 9), CR_OK); /* a newcomer fills it */
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "");
    ASSERT_EQ(get1(q), 9);                   /* wakes B, now first */
    h_iter();
    ASSERT_EQ(get1(q), 3);
    h_iter();
    ASSERT_EQ(get1(q), 2);
    ASSERT_STR_EQ(h_logstr(), "B:put=3@3 B:end@3 A:put=2@4 A:end@4");
    q_teardown();
}

/* join returns at once with nothing unfinished, else after the last task_done */
static void waiters_10(void) {
    cr_queue *q = q_setup(0);
    ttask a, b, c;
    h_spawn(&a, "A", JOIN);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:joined@1 A:end@1");
    cr_queue_put_nowait(q, 1);
    cr_queue_put_nowait(q, 2);
    h_spawn(&b, "B", JOIN);
    h_spawn(&c, "C", JOIN);
    h_iter();
    ASSERT_EQ(q->finished.waiters.n, 2);
    ASSERT_EQ(cr_queue_task_done(q), CR_OK);
    h_iter();
    ASSERT_EQ(cr_queue_task_done(q), CR_OK);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:joined@1 A:end@1 B:joined@4 B:end@4 C:joined@4 C:end@4");
    ASSERT_EQ(q->finished.waiters.n, 0);
    q_teardown();
}

/* a cancelled joiner leaves; the others still join */
static void waiters_11(void) {
    cr_queue *q = q_setup(0);
    ttask a, b;
    cr_queue_put_nowait(q, 1);
    h_spawn(&a, "A", JOIN);
    h_spawn(&b, "B", JOIN);
    h_iter();
    cr_task_cancel(&a.core);
    h_iter();
    ASSERT_EQ(q->finished.waiters.n, 1);
    cr_queue_task_done(q);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:join!cancelled@2 A:cancelled@2 B:joined@3 B:end@3");
    q_teardown();
}

/* shutdown wakes every getter and putter; they see QueueShutDown */
static void waiters_12(void) {
    cr_queue *q = q_setup(0);
    ttask a, b;
    h_spawn(&a, "A", GET1_C);
    h_spawn(&b, "B", GET1_C);
    h_iter();
    cr_queue_shutdown(q, 0, NULL, NULL);
    ASSERT_EQ(q->getters.n, 0);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:get!shutdown@2 A:end@2 B:get!shutdown@2 B:end@2");
    q_teardown();
}

/* shutdown: blocked putters fail, getters drain what is left */
static void waiters_13(void) {
    cr_queue *q = q_setup(1);
    ttask a, b;
    cr_queue_put_nowait(q, 1);
    h_spawn(&a, "A", PUT2_C);
    h_iter();
    cr_queue_shutdown(q, 0, NULL, NULL);
    h_spawn(&b, "B", GET2_C);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:put!shutdown@2 A:end@2 B:get=1@2 B:get!shutdown@2 B:end@2");
    q_teardown();
}

/* shutdown: a woken putter of a no-longer-full queue still fails */
static void waiters_14(void) {
    cr_queue *q = q_setup(1);
    ttask a;
    cr_queue_put_nowait(q, 1);
    h_spawn(&a, "A", PUT2_C);
    h_iter();
    ASSERT_EQ(get1(q), 1);
    cr_queue_shutdown(q, 0, NULL, NULL);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:put!shutdown@2 A:end@2");
    ASSERT_EQ(cr_queue_size(q), 0);
    q_teardown();
}

/* shutdown(immediate) releases joiners when the drop finishes everything */
static void waiters_15(void) {
    cr_queue *q = q_setup(0);
    ttask a;
    cr_queue_put_nowait(q, 1);
    cr_queue_put_nowait(q, 2);
    h_spawn(&a, "A", JOIN);
    h_iter();
    ndropped = 0;
    cr_queue_shutdown(q, 1, record_drop, NULL);
    ASSERT_EQ(ndropped, 2);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:joined@2 A:end@2");
    q_teardown();
}

/* cancelled before its first step: nothing queued */
static void waiters_16(void) {
    cr_queue *q = q_setup(0);
    ttask a;
    h_spawn(&a, "A", GET1);
    cr_task_cancel(&a.core);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "A:cancelled@1");
    ASSERT_EQ(q->getters.n, 0);
    q_teardown();
}

/* cr_queue_free forgets queued waiters without waking them */
static void waiters_17(void) {
    cr_queue *q = q_setup(0);
    ttask a;
    h_spawn(&a, "A", GET1);
    h_iter();
    cr_queue_free(q);
    ASSERT_EQ(q->getters.n, 0);
    ASSERT_TRUE(a.core.wait.queue == NULL);
    ASSERT_TRUE(!cr_future_done(&a.core.wait.fut));
    q_teardown();
}

static void waiter_tests(void) {
    TEST("get on a non-empty queue does not suspend", waiters_1());
    TEST("put wakes the head getter only; the woken getter leaves the queue", waiters_2());
    TEST("a newcomer takes the item first; the woken getter queues again at the back", waiters_3());
    TEST("a getter cancelled after its wakeup passes the wakeup on", waiters_4());
    TEST("a getter cancelled before any wakeup is skipped by put", waiters_5());
    TEST("a getter cancelled after its wakeup, queue emptied meanwhile: nobody else is woken", waiters_6());
    TEST("put blocks while full; get wakes the head putter", waiters_7());
    TEST("a putter cancelled after its wakeup passes the wakeup on", waiters_8());
    TEST("a woken putter that finds the queue full again waits at the back", waiters_9());
    TEST("join returns at once with nothing unfinished, else after the last task_done", waiters_10());
    TEST("a cancelled joiner leaves; the others still join", waiters_11());
    TEST("shutdown wakes every getter and putter; they see QueueShutDown", waiters_12());
    TEST("shutdown: blocked putters fail, getters drain what is left", waiters_13());
    TEST("shutdown: a woken putter of a no-longer-full queue still fails", waiters_14());
    TEST("shutdown(immediate) releases joiners when the drop finishes everything", waiters_15());
    TEST("cancelled before its first step: nothing queued", waiters_16());
    TEST("cr_queue_free forgets queued waiters without waking them", waiters_17());
}

void suite_queue(void) {
    storage_tests();
    waiter_tests();
}
