/*
 * test_prims.c - the core's primitives with scripted tasks: Lock, Event,
 * Condition, Semaphore, Barrier, and stress runs.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "test.h"

void suite_prims(void);

static uint64_t prng_state;
static uint32_t prng(void) {
    prng_state = prng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(prng_state >> 33);
}

/* ------------------------------------------------------------------ */
/* Lock. */

static void t_lock_uncontended(void) {
    cr_lock l;
    ttask a;
    act sa[] = {LOCK(&l), LOGT("in"), UNLOCK(&l), LOCK(&l), UNLOCK(&l), UNLOCK_C(&l), END()};
    h_setup();
    cr_lock_init(&l);
    ASSERT_EQ(cr_lock_release(&l), CR_EINVAL);
    h_spawn(&a, "a", sa);
    ASSERT_EQ(h_iter(), 1);
    /* no suspension at all; releasing an unlocked lock is an error */
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 a:in@1 a:lock@1 a:unlock!einval@1");
    ASSERT_EQ(a.steps, 1);
    ASSERT_EQ(l.locked, 0);
    ASSERT_TRUE(l.holder == NULL);
    /* cr_lock_try */
    ASSERT_EQ(cr_lock_try(&l, &a.core), 1);
    ASSERT_TRUE(l.holder == &a.core);
    ASSERT_EQ(cr_lock_try(&l, NULL), 0);
    ASSERT_EQ(cr_lock_release(&l), CR_OK);
    ASSERT_EQ(cr_lock_release(&l), CR_EINVAL);
    h_teardown();
}

static void t_lock_fifo(void) {
    cr_lock l;
    ttask a, b, c, d;
    act sa[] = {LOCK(&l), YIELD(), YIELD(), UNLOCK(&l), END()};
    act sx[] = {LOCK(&l), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sx);
    h_spawn(&c, "c", sx);
    h_spawn(&d, "d", sx);
    h_iter();
    ASSERT_EQ(l.waiters.n, 3);
    ASSERT_TRUE(l.holder == &a.core);
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 b:lock@4 c:lock@5 d:lock@6");
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    h_teardown();
}

static void t_lock_no_barging(void) {
    cr_lock l;
    ttask a, b, c;
    act sa[] = {LOCK(&l), YIELD(), UNLOCK(&l), LOCK(&l), LOGT("again"), UNLOCK(&l), END()};
    act sb[] = {LOCK(&l), UNLOCK(&l), END()};
    act sc[] = {YIELD(), LOCK(&l), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_spawn(&c, "c", sc);
    h_iter();
    h_iter();
    /* a released to b and queued again behind it; c queued behind a */
    ASSERT_EQ(l.locked, 0);
    ASSERT_EQ(l.waiters.n, 3);
    ASSERT_EQ(cr_lock_try(&l, NULL), 0); /* no barging past the woken b */
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 b:lock@3 a:lock@4 a:again@4 c:lock@5");
    ASSERT_EQ(l.waiters.n, 0);
    h_teardown();
}

static void t_lock_woken_cancelled(void) {
    cr_lock l;
    ttask a, b, c, d;
    act sa[] = {LOCK(&l), YIELD(), UNLOCK(&l), CANCEL(&b.core), END()};
    act sx[] = {LOCK(&l), UNLOCK(&l), END()};
    act sd[] = {YIELD(), LOCK(&l), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sx);
    h_spawn(&c, "c", sx);
    h_spawn(&d, "d", sd);
    h_run(20);
    /* b was woken, then cancelled before it ran: it passes the wakeup to
     * c; d (arriving meanwhile) cannot barge */
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 a:cancel=1@2 b:lock!cancelled@3 b:cancelled@3 c:lock@4 d:lock@5");
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    ASSERT_EQ(b.core.fut.state, CR_CANCELLED);
    h_teardown();
}

static void t_lock_cancelled_head(void) {
    cr_lock l;
    ttask a, b, c;
    act sa[] = {LOCK(&l), YIELD(), CANCEL(&b.core), UNLOCK(&l), END()};
    act sx[] = {LOCK(&l), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sx);
    h_spawn(&c, "c", sx);
    h_run(20);
    /* a cancelled (not woken) head: release wakes nobody; the cancelled
     * waiter wakes the next when it runs (as asyncio's _wake_up_first) */
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 a:cancel=1@2 b:lock!cancelled@3 b:cancelled@3 c:lock@4");
    ASSERT_EQ(l.waiters.n, 0);
    h_teardown();
}

static void t_lock_all_cancelled(void) {
    cr_lock l;
    ttask a, b;
    act sa[] = {LOCK(&l), YIELD(), CANCEL(&b.core), UNLOCK(&l), LOCK(&l), LOGT("relock"), UNLOCK(&l), END()};
    act sb[] = {LOCK(&l), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_run(20);
    /* every queued waiter cancelled: a newcomer takes the free lock */
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 a:cancel=1@2 a:lock@2 a:relock@2 b:lock!cancelled@3 b:cancelled@3");
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    h_teardown();
}

static void t_lock_cancel_while_held(void) {
    /* A waiter cancelled while the lock stays held: no wakeup is passed,
     * the holder's release wakes the next live waiter. */
    cr_lock l;
    ttask a, b, c;
    act sa[] = {LOCK(&l), YIELD(), CANCEL(&b.core), YIELD(), UNLOCK(&l), END()};
    act sx[] = {LOCK(&l), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sx);
    h_spawn(&c, "c", sx);
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 a:cancel=1@2 b:lock!cancelled@3 b:cancelled@3 c:lock@4");
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    h_teardown();
}

/* ------------------------------------------------------------------ */
/* Event. */

static void t_event_set_wakes_all(void) {
    cr_event e;
    ttask a, b, c, d, f;
    act sw[] = {EV_WAIT(&e), END()};
    act sd[] = {YIELD(), EV_SET(&e), EV_SET(&e), END()};
    h_setup();
    cr_event_init(&e);
    h_spawn(&a, "a", sw);
    h_spawn(&b, "b", sw);
    h_spawn(&c, "c", sw);
    h_spawn(&d, "d", sd);
    h_iter();
    ASSERT_EQ(e.waiters.n, 3);
    h_iter();
    ASSERT_EQ(e.is_set, 1);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "a:ev@3 b:ev@3 c:ev@3");
    ASSERT_EQ(e.waiters.n, 0);
    /* wait on a set event does not suspend */
    h_spawn(&f, "f", sw);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "a:ev@3 b:ev@3 c:ev@3 f:ev@4");
    ASSERT_EQ(f.steps, 1);
    h_teardown();
}

static void t_event_clear(void) {
    cr_event e;
    ttask a, b, c, d, f;
    act sw[] = {EV_WAIT(&e), END()};
    act sd[] = {YIELD(), EV_SET(&e), EV_CLEAR(&e), END()};
    h_setup();
    cr_event_init(&e);
    h_spawn(&a, "a", sw);
    h_spawn(&b, "b", sw);
    h_spawn(&c, "c", sw);
    h_spawn(&d, "d", sd);
    h_iter();
    cr_task_cancel(&b.core);
    h_iter();
    ASSERT_EQ(e.is_set, 0);
    h_iter();
    /* clear does not un-wake; the cancelled waiter leaves the queue */
    ASSERT_STR_EQ(h_logstr(), "b:ev!cancelled@2 b:cancelled@2 a:ev@3 c:ev@3");
    ASSERT_EQ(e.waiters.n, 0);
    /* after clear, a new waiter blocks */
    h_spawn(&f, "f", sw);
    h_iter();
    ASSERT_EQ(e.waiters.n, 1);
    ASSERT_EQ(f.ended, T_RUNNING);
    cr_task_cancel(&f.core);
    h_iter();
    ASSERT_EQ(e.waiters.n, 0);
    ASSERT_EQ(f.ended, T_CANCELLED);
    h_teardown();
}

/* ------------------------------------------------------------------ */
/* Condition. */

static void check_holder(ttask *self, void *obj) {
    cr_lock *l = obj;
    self->user = l->locked && l->holder == &self->core;
}

static void t_cond_einval(void) {
    cr_lock l;
    cr_cond cv;
    ttask a;
    act sa[] = {COND_WAIT_C(&cv), NOTIFY_C(&cv, 1), END()};
    h_setup();
    cr_lock_init(&l);
    cr_cond_init(&cv, &l);
    ASSERT_EQ(cr_cond_notify(&cv, 1), CR_EINVAL);
    h_spawn(&a, "a", sa);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "a:cwait!einval@1 a:notify!einval@1");
    ASSERT_EQ(cv.waiters.n, 0);
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    ASSERT_EQ(a.core.fut.state, CR_FINISHED);
    h_teardown();
}

static void t_cond_notify_n(void) {
    cr_lock l;
    cr_cond cv;
    ttask a, b, c, d;
    act sw[] = {LOCK(&l), COND_WAIT(&cv), UNLOCK(&l), END()};
    act sd[] = {YIELD(), LOCK(&l), NOTIFY(&cv, 2), UNLOCK(&l), YIELD(), YIELD(), YIELD(),
                LOCK(&l), NOTIFY(&cv, 1), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    cr_cond_init(&cv, &l);
    h_spawn(&a, "a", sw);
    h_spawn(&b, "b", sw);
    h_spawn(&c, "c", sw);
    h_spawn(&d, "d", sd);
    h_iter();
    ASSERT_EQ(cv.waiters.n, 3);
    ASSERT_EQ(l.locked, 0);
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 b:lock@1 c:lock@1 d:lock@2 a:cwait@3 b:cwait@3 d:lock@5 c:cwait@6");
    ASSERT_EQ(cv.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    h_teardown();
}

static void t_cond_reacquire_queue(void) {
    /* notified waiters queue for the lock while the notifier holds it */
    cr_lock l;
    cr_cond cv;
    ttask a, b, d;
    act sw[] = {LOCK(&l), COND_WAIT(&cv), CALL(check_holder, &l), UNLOCK(&l), END()};
    act sd[] = {YIELD(), LOCK(&l), NOTIFY(&cv, 5), YIELD(), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    cr_cond_init(&cv, &l);
    h_spawn(&a, "a", sw);
    h_spawn(&b, "b", sw);
    h_spawn(&d, "d", sd);
    h_iter();
    h_iter();
    h_iter();
    ASSERT_EQ(l.waiters.n, 2);
    ASSERT_EQ(cv.waiters.n, 0);
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 b:lock@1 d:lock@2 a:cwait@4 b:cwait@5");
    ASSERT_EQ(a.user, 1);
    ASSERT_EQ(b.user, 1);
    ASSERT_EQ(l.waiters.n, 0);
    h_teardown();
}

static void t_cond_cancel_notified(void) {
    /* a waiter notified then cancelled re-acquires the lock before its op
     * returns CR_ECANCELLED, and passes the notification on */
    cr_lock l;
    cr_cond cv;
    ttask a, b, d;
    act sa[] = {LOCK(&l), COND_WAIT_C(&cv), CALL(check_holder, &l), UNLOCK(&l), END()};
    act sb[] = {LOCK(&l), COND_WAIT(&cv), CALL(check_holder, &l), UNLOCK(&l), END()};
    act sd[] = {YIELD(), LOCK(&l), NOTIFY(&cv, 1), CANCEL(&a.core), YIELD(), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    cr_cond_init(&cv, &l);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_spawn(&d, "d", sd);
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 b:lock@1 d:lock@2 d:cancel=1@2 a:cwait!cancelled@4 b:cwait@5");
    ASSERT_EQ(a.user, 1);
    ASSERT_EQ(b.user, 1);
    ASSERT_EQ(a.core.fut.state, CR_FINISHED);
    ASSERT_EQ(b.ended, T_RETURNED);
    ASSERT_EQ(cv.waiters.n, 0);
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    h_teardown();
}

static void t_cond_cancel_waiting(void) {
    /* cancelled while waiting (not notified), the lock held by another:
     * the waiter queues for the lock, gets it, then raises and passes a
     * notification on (a spurious wakeup for b, as asyncio) */
    cr_lock l;
    cr_cond cv;
    ttask a, b, d;
    act sa[] = {LOCK(&l), COND_WAIT_C(&cv), CALL(check_holder, &l), UNLOCK(&l), END()};
    act sb[] = {LOCK(&l), COND_WAIT(&cv), CALL(check_holder, &l), UNLOCK(&l), END()};
    act sd[] = {YIELD(), LOCK(&l), CANCEL(&a.core), YIELD(), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    cr_cond_init(&cv, &l);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_spawn(&d, "d", sd);
    h_iter();
    h_iter();
    h_iter();
    ASSERT_EQ(l.waiters.n, 1); /* a, queued for the lock */
    ASSERT_EQ(cv.waiters.n, 1);
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 b:lock@1 d:lock@2 d:cancel=1@2 a:cwait!cancelled@4 b:cwait@5");
    ASSERT_EQ(a.user, 1);
    ASSERT_EQ(b.user, 1);
    ASSERT_EQ(cv.waiters.n, 0);
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    h_teardown();
}

static void t_cond_cancel_reacquiring(void) {
    /* cancelled while queued to re-acquire the lock: it keeps trying and
     * returns CR_ECANCELLED holding the lock */
    cr_lock l;
    cr_cond cv;
    ttask a, d;
    act sa[] = {LOCK(&l), COND_WAIT_C(&cv), CALL(check_holder, &l), UNLOCK(&l), END()};
    act sd[] = {YIELD(), LOCK(&l), NOTIFY(&cv, 1), YIELD(), CANCEL(&a.core), YIELD(), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    cr_cond_init(&cv, &l);
    h_spawn(&a, "a", sa);
    h_spawn(&d, "d", sd);
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 d:lock@2 d:cancel=1@3 a:cwait!cancelled@5");
    ASSERT_EQ(a.user, 1);
    ASSERT_EQ(l.locked, 0);
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(cv.waiters.n, 0);
    h_teardown();
}

static void t_cond_interrupt(void) {
    /* an interrupted waiter still counts for a notify and passes it on */
    cr_lock l;
    cr_cond cv;
    ttask a, b, d;
    act sa[] = {LOCK(&l), COND_WAIT_C(&cv), CALL(check_holder, &l), UNLOCK(&l), END()};
    act sb[] = {LOCK(&l), COND_WAIT(&cv), CALL(check_holder, &l), UNLOCK(&l), END()};
    act sd[] = {YIELD(), LOCK(&l), NOTIFY(&cv, 1), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    cr_cond_init(&cv, &l);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_spawn(&d, "d", sd);
    h_iter();
    cr_task_interrupt(&a.core);
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "a:lock@1 b:lock@1 d:lock@2 a:cwait!cancelled@2 b:cwait@3");
    ASSERT_EQ(a.user, 1);
    ASSERT_EQ(b.user, 1);
    ASSERT_EQ(cv.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    h_teardown();
}

/* ------------------------------------------------------------------ */
/* Semaphore. */

static void t_sema_accounting(void) {
    cr_sema s;
    ttask a, b, c;
    act sa[] = {SEMA_ACQ(&s), YIELD(), SEMA_REL(&s), END()};
    act sb[] = {SEMA_ACQ(&s), YIELD(), YIELD(), SEMA_REL(&s), END()};
    act sc[] = {SEMA_ACQ(&s), SEMA_REL(&s), END()};
    h_setup();
    cr_sema_init(&s, 2, 0);
    ASSERT_EQ(cr_sema_locked(&s), 0);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_spawn(&c, "c", sc);
    h_iter();
    ASSERT_EQ(s.value, 0);
    ASSERT_EQ(cr_sema_locked(&s), 1);
    ASSERT_EQ(s.waiters.n, 1);
    h_iter();
    ASSERT_EQ(s.value, 0); /* a released; the unit is reserved for c */
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "a:acq@1 b:acq@1 c:acq@3");
    ASSERT_EQ(s.value, 2);
    ASSERT_EQ(s.waiters.n, 0);
    ASSERT_EQ(cr_sema_locked(&s), 0);
    h_teardown();
}

static void t_sema_locked_rule(void) {
    cr_sema s;
    ttask a, c;
    act sx[] = {SEMA_ACQ(&s), END()};
    h_setup();
    cr_sema_init(&s, 0, 0);
    ASSERT_EQ(cr_sema_locked(&s), 1);
    h_spawn(&a, "a", sx);
    h_iter();
    h_spawn(&c, "c", sx);
    ASSERT_EQ(cr_sema_release(&s), CR_OK); /* wakes a, reserving the unit */
    ASSERT_EQ(s.value, 0);
    ASSERT_EQ(cr_sema_release(&s), CR_OK); /* nobody else to wake */
    ASSERT_EQ(s.value, 1);
    /* a unit is free but a live waiter is queued: locked */
    ASSERT_EQ(cr_sema_locked(&s), 1);
    h_iter();
    /* c queued behind a; a, done waiting, woke c with the free unit */
    ASSERT_EQ(s.value, 0);
    ASSERT_EQ(c.core.wait.fut.state, CR_FINISHED);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "a:acq@2 c:acq@3");
    ASSERT_EQ(s.waiters.n, 0);
    h_teardown();
}

static void t_sema_woken_cancelled(void) {
    cr_sema s;
    ttask a, b, c, d;
    act sx[] = {SEMA_ACQ(&s), END()};
    h_setup();
    cr_sema_init(&s, 0, 0);
    h_spawn(&a, "a", sx);
    h_spawn(&b, "b", sx);
    h_iter();
    ASSERT_EQ(cr_sema_release(&s), CR_OK); /* wakes a */
    ASSERT_EQ(cr_task_cancel(&a.core), 1); /* woken, then cancelled */
    ASSERT_EQ(a.core.must_cancel, 1);
    h_iter();
    /* a gave its unit back and woke b */
    ASSERT_EQ(s.value, 0);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "a:acq!cancelled@2 a:cancelled@2 b:acq@3");
    ASSERT_EQ(s.waiters.n, 0);
    ASSERT_EQ(cr_sema_release(&s), CR_OK);
    ASSERT_EQ(s.value, 1);

    /* cancelled before being woken: no unit to give back */
    h_log_clear();
    h_iteration = 0;
    cr_sema_init(&s, 0, 0);
    h_spawn(&c, "c", sx);
    h_spawn(&d, "d", sx);
    h_iter();
    ASSERT_EQ(cr_task_cancel(&c.core), 1);
    ASSERT_EQ(cr_sema_release(&s), CR_OK); /* skips c, wakes d */
    ASSERT_EQ(s.value, 0);
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "c:acq!cancelled@2 c:cancelled@2 d:acq@2");
    ASSERT_EQ(s.value, 0);
    ASSERT_EQ(s.waiters.n, 0);
    h_teardown();
}

static void t_sema_interrupt(void) {
    /* interrupted while queued, then given a unit: it gives it back */
    cr_sema s;
    ttask a, b;
    act sx[] = {SEMA_ACQ(&s), END()};
    h_setup();
    cr_sema_init(&s, 0, 0);
    h_spawn(&a, "a", sx);
    h_spawn(&b, "b", sx);
    h_iter();
    cr_task_interrupt(&a.core);
    ASSERT_EQ(cr_sema_release(&s), CR_OK); /* reserved for a's pending wait */
    ASSERT_EQ(s.value, 0);
    ASSERT_EQ(a.core.wait.fut.state, CR_FINISHED);
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "a:acq!cancelled@2 a:cancelled@2 b:acq@3");
    ASSERT_EQ(s.value, 0);
    ASSERT_EQ(s.waiters.n, 0);
    h_teardown();
}

static void t_sema_bounded(void) {
    cr_sema s;
    ttask a;
    act sa[] = {SEMA_ACQ(&s), SEMA_REL(&s), SEMA_REL_C(&s), END()};
    h_setup();
    cr_sema_init(&s, 1, 1);
    ASSERT_EQ(cr_sema_release(&s), CR_EINVAL);
    ASSERT_EQ(s.value, 1);
    h_spawn(&a, "a", sa);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "a:acq@1 a:rel!einval@1");
    ASSERT_EQ(s.value, 1);
    ASSERT_EQ(a.core.fut.state, CR_FINISHED);
    /* an unbounded semaphore counts up freely */
    cr_sema_init(&s, 0, 0);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(cr_sema_release(&s), CR_OK);
    ASSERT_EQ(s.value, 3);
    ASSERT_EQ(cr_sema_locked(&s), 0);
    h_teardown();
}

/* ------------------------------------------------------------------ */
/* Barrier. */

static void t_barrier_basic(void) {
    cr_barrier bar;
    ttask a, b, c, d, e;
    act sw[] = {BAR_WAIT(&bar), END()};
    act sc[] = {BAR_WAIT(&bar), BAR_WAIT(&bar), END()};
    h_setup();
    cr_barrier_init(&bar, 3);
    ASSERT_EQ(bar.state, CR_BARRIER_FILLING);
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 0);
    h_spawn(&a, "a", sw);
    h_spawn(&b, "b", sw);
    h_spawn(&c, "c", sc);
    h_iter();
    /* the third arrival passes at once and flips to draining; its second
     * wait blocks until draining is over */
    ASSERT_STR_EQ(h_logstr(), "c:bar2@1");
    ASSERT_EQ(bar.state, CR_BARRIER_DRAINING);
    ASSERT_EQ(bar.count, 2);
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 0);
    h_iter();
    ASSERT_EQ(bar.state, CR_BARRIER_FILLING);
    ASSERT_EQ(bar.count, 0);
    h_iter();
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 1);
    h_spawn(&d, "d", sw);
    h_spawn(&e, "e", sw);
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "c:bar2@1 a:bar0@2 b:bar1@2 e:bar2@4 c:bar0@5 d:bar1@5");
    ASSERT_EQ(bar.state, CR_BARRIER_FILLING);
    ASSERT_EQ(bar.count, 0);
    ASSERT_EQ(bar.lock.locked, 0);
    ASSERT_EQ(bar.cond.waiters.n, 0);
    ASSERT_EQ(bar.lock.waiters.n, 0);
    h_teardown();
}

static void t_barrier_n_waiting(void) {
    cr_barrier bar;
    ttask a, b, c;
    act sw[] = {BAR_WAIT(&bar), END()};
    h_setup();
    cr_barrier_init(&bar, 3);
    h_spawn(&a, "a", sw);
    h_iter();
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 1);
    h_spawn(&b, "b", sw);
    h_iter();
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 2);
    ASSERT_EQ(bar.state, CR_BARRIER_FILLING);
    /* a waiter cancelled while filling leaves */
    cr_task_cancel(&a.core);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "a:bar!cancelled@3 a:cancelled@3");
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 1);
    ASSERT_EQ(bar.lock.locked, 0);
    h_spawn(&c, "c", sw);
    h_iter();
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 2);
    cr_task_cancel(&b.core);
    cr_task_cancel(&c.core);
    h_run(10);
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 0);
    ASSERT_EQ(bar.count, 0);
    ASSERT_EQ(bar.state, CR_BARRIER_FILLING);
    h_teardown();
}

static void t_barrier_abort(void) {
    cr_barrier bar;
    ttask a, b, d, e, f, g, k;
    act sw[] = {BAR_WAIT_C(&bar), LOGT("after"), END()};
    act sd[] = {YIELD(), BAR_ABORT(&bar), BAR_WAIT_C(&bar), END()};
    act se[] = {BAR_RESET(&bar), END()};
    act sx[] = {BAR_WAIT(&bar), END()};
    h_setup();
    cr_barrier_init(&bar, 3);
    h_spawn(&a, "a", sw);
    h_spawn(&b, "b", sw);
    h_spawn(&d, "d", sd);
    h_iter();
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 2);
    h_iter();
    ASSERT_EQ(bar.state, CR_BARRIER_BROKEN);
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 0);
    h_iter();
    /* waiters: CR_ERESET ("Abort or reset of barrier"); a new arrival on a
     * broken barrier: CR_EBROKEN ("Barrier aborted") */
    ASSERT_STR_EQ(h_logstr(), "d:abort@2 d:bar!broken@2 a:bar!reset@3 a:after@3 b:bar!reset@3 b:after@3");
    ASSERT_EQ(bar.state, CR_BARRIER_BROKEN);
    ASSERT_EQ(bar.count, 0);
    ASSERT_EQ(bar.lock.locked, 0);
    /* reset with nobody inside: filling again, usable */
    h_log_clear();
    h_spawn(&e, "e", se);
    h_iter();
    ASSERT_EQ(bar.state, CR_BARRIER_FILLING);
    h_spawn(&f, "f", sx);
    h_spawn(&g, "g", sx);
    h_spawn(&k, "k", sx);
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "e:reset@4 k:bar2@5 f:bar0@6 g:bar1@6");
    h_teardown();
}

static void t_barrier_reset_waiting(void) {
    cr_barrier bar;
    ttask a, b, d, e, f;
    act sw[] = {BAR_WAIT_C(&bar), END()};
    act sd[] = {YIELD(), BAR_RESET(&bar), BAR_WAIT(&bar), END()};
    act sx[] = {BAR_WAIT(&bar), END()};
    h_setup();
    cr_barrier_init(&bar, 3);
    h_spawn(&a, "a", sw);
    h_spawn(&b, "b", sw);
    h_spawn(&d, "d", sd);
    h_iter();
    h_iter();
    ASSERT_EQ(bar.state, CR_BARRIER_RESETTING);
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 0);
    h_iter();
    /* the last waiter out flips resetting -> filling and wakes d */
    ASSERT_EQ(bar.state, CR_BARRIER_FILLING);
    ASSERT_EQ(bar.count, 0);
    h_iter();
    ASSERT_EQ(cr_barrier_n_waiting(&bar), 1);
    h_spawn(&e, "e", sx);
    h_spawn(&f, "f", sx);
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "d:reset@2 a:bar!reset@3 b:bar!reset@3 f:bar2@5 d:bar0@6 e:bar1@6");
    ASSERT_EQ(bar.state, CR_BARRIER_FILLING);
    ASSERT_EQ(bar.count, 0);
    h_teardown();
}

static void t_barrier_internal_lock(void) {
    /* reset() and abort() take the internal lock, so they may suspend */
    cr_barrier bar;
    ttask d, e;
    act sd[] = {BAR_ABORT(&bar), END()};
    act se[] = {BAR_RESET(&bar), END()};
    h_setup();
    cr_barrier_init(&bar, 2);
    ASSERT_EQ(cr_lock_try(&bar.lock, NULL), 1);
    h_spawn(&d, "d", sd);
    h_spawn(&e, "e", se);
    h_iter();
    ASSERT_EQ(bar.lock.waiters.n, 2);
    ASSERT_EQ(bar.state, CR_BARRIER_FILLING);
    cr_task_cancel(&e.core);
    ASSERT_EQ(cr_lock_release(&bar.lock), CR_OK);
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "e:reset!cancelled@2 e:cancelled@2 d:abort@2");
    ASSERT_EQ(bar.state, CR_BARRIER_BROKEN);
    ASSERT_EQ(bar.lock.waiters.n, 0);
    ASSERT_EQ(bar.lock.locked, 0);
    h_teardown();
}

/* ------------------------------------------------------------------ */
/* Stress. */

static long crit_counter;
static long crit_errors;
static ttask *crit_inside;

static void crit_enter(ttask *self, void *obj) {
    cr_lock *l = obj;
    if (crit_inside != NULL || !l->locked || l->holder != &self->core)
        crit_errors++;
    crit_inside = self;
}

static void crit_leave(ttask *self, void *obj) {
    (void)obj;
    if (crit_inside != self)
        crit_errors++;
    crit_inside = NULL;
    crit_counter++;
}

static void t_stress_lock(void) {
    enum { N = 10000 };
    cr_lock l;
    act s[] = {LOCK(&l), CALL(crit_enter, &l), YIELD(), CALL(crit_leave, NULL), UNLOCK(&l), END()};
    ttask *t = calloc(N, sizeof *t);
    ASSERT_TRUE(t != NULL);
    h_setup();
    h_quiet = 1;
    cr_lock_init(&l);
    crit_counter = crit_errors = 0;
    crit_inside = NULL;
    for (int i = 0; i < N; i++)
        h_spawn(&t[i], "t", s);
    int iterations = h_run(10 * N);
    ASSERT_EQ(crit_counter, N);
    ASSERT_EQ(crit_errors, 0);
    ASSERT_EQ(iterations, 2 * N);
    ASSERT_EQ(l.locked, 0);
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_TRUE(cr_list_is_empty(&l.waiters.head));
    ASSERT_EQ(H.ntasks, 0);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    for (int i = 0; i < N; i++)
        ASSERT_EQ(t[i].core.fut.state, CR_FINISHED);
    h_teardown();
    free(t);
}

/* The task whose wait future is the i-th entry of `q`, or NULL. */
static ttask *queued_task(cr_waitq *q, uint32_t i) {
    cr_waiter *w = cr_waitq_first(q);
    while (w != NULL && i-- > 0)
        w = cr_waitq_next(q, w);
    if (w == NULL)
        return NULL;
    return cr_container_of(cr_container_of(w, cr_task, wait), ttask, core);
}

/* Random cancellations and interrupts from outside, once per iteration:
 * some aimed at the head of `q` (woken waiters that have not run yet),
 * the others at any task. */
static void random_cancels(ttask *t, int n, int per_mille, cr_waitq *q) {
    for (int k = 0; k < 3; k++) {
        ttask *v = &t[prng() % (uint32_t)n];
        if (q != NULL && prng() % 2 == 0)
            v = queued_task(q, prng() % 3);
        if (v == NULL || v->ended || prng() % 1000 >= (uint32_t)per_mille)
            continue;
        if (prng() % 4 == 0)
            cr_task_interrupt(&v->core);
        else
            cr_task_cancel(&v->core);
    }
}

static void t_stress_lock_cancel(void) {
    enum { N = 1000 };
    cr_lock l;
    act s[] = {LOCK(&l), CALL(crit_enter, &l), YIELD_C(), YIELD_C(), CALL(crit_leave, NULL),
               UNLOCK(&l), END()};
    ttask *t = calloc(N, sizeof *t);
    ASSERT_TRUE(t != NULL);
    h_setup();
    h_quiet = 1;
    prng_state = 99;
    cr_lock_init(&l);
    crit_counter = crit_errors = 0;
    crit_inside = NULL;
    for (int i = 0; i < N; i++)
        h_spawn(&t[i], "t", s);
    int iterations = 0;
    while (!cr_loop_is_idle(&H) && iterations < 20 * N) {
        h_iter();
        iterations++;
        random_cancels(t, N, 300, &l.waiters);
    }
    int cancelled = 0;
    for (int i = 0; i < N; i++) {
        ASSERT_TRUE(t[i].ended != T_RUNNING);
        cancelled += t[i].ended == T_CANCELLED;
    }
    ASSERT_EQ(crit_errors, 0);
    ASSERT_EQ(crit_counter + cancelled, N);
    ASSERT_TRUE(cancelled > 0);
    ASSERT_EQ(l.locked, 0);
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(H.ntasks, 0);
    h_teardown();
    free(t);
}

static long sem_inside, sem_max;

static void sem_enter(ttask *self, void *obj) {
    (void)self;
    (void)obj;
    sem_inside++;
    if (sem_inside > sem_max)
        sem_max = sem_inside;
}

static void sem_leave(ttask *self, void *obj) {
    (void)self;
    (void)obj;
    sem_inside--;
    crit_counter++;
}

static void t_stress_sema_cancel(void) {
    enum { N = 1000, UNITS = 3 };
    cr_sema s;
    act sc[] = {SEMA_ACQ(&s), CALL(sem_enter, NULL), YIELD_C(), YIELD_C(), CALL(sem_leave, NULL),
                SEMA_REL(&s), END()};
    ttask *t = calloc(N, sizeof *t);
    ASSERT_TRUE(t != NULL);
    h_setup();
    h_quiet = 1;
    prng_state = 7;
    cr_sema_init(&s, UNITS, 1);
    crit_counter = 0;
    sem_inside = sem_max = 0;
    for (int i = 0; i < N; i++)
        h_spawn(&t[i], "t", sc);
    int iterations = 0;
    while (!cr_loop_is_idle(&H) && iterations < 20 * N) {
        h_iter();
        iterations++;
        random_cancels(t, N, 300, &s.waiters);
    }
    int cancelled = 0;
    for (int i = 0; i < N; i++) {
        ASSERT_TRUE(t[i].ended != T_RUNNING);
        ASSERT_TRUE(t[i].ended != T_FAILED); /* no bounded-release error */
        cancelled += t[i].ended == T_CANCELLED;
    }
    ASSERT_EQ(crit_counter + cancelled, N);
    ASSERT_TRUE(cancelled > 0);
    ASSERT_EQ(sem_max, UNITS);
    ASSERT_EQ(sem_inside, 0);
    ASSERT_EQ(s.value, UNITS);
    ASSERT_EQ(s.waiters.n, 0);
    ASSERT_EQ(H.ntasks, 0);
    h_teardown();
    free(t);
}

static long cond_bad_holder;

static void cond_check(ttask *self, void *obj) {
    cr_lock *l = obj;
    if (!l->locked || l->holder != &self->core)
        cond_bad_holder++;
}

static void t_stress_cond_cancel(void) {
    enum { N = 1000, ROUNDS = 400 };
    cr_lock l;
    cr_cond cv;
    act sw[] = {LOCK(&l), COND_WAIT_C(&cv), CALL(cond_check, &l), YIELD_C(), CALL(cond_check, &l),
                UNLOCK(&l), END()};
    act *sn = calloc(4 * ROUNDS + 1, sizeof *sn);
    ttask *t = calloc(N, sizeof *t);
    ttask notifier;
    ASSERT_TRUE(t != NULL && sn != NULL);
    for (int r = 0; r < ROUNDS; r++) {
        sn[4 * r] = (act){.kind = A_LOCK, .obj = &l, .catch_ = 1};
        sn[4 * r + 1] = (act){.kind = A_NOTIFY, .obj = &cv, .n = 1 + r % 3, .catch_ = 1};
        sn[4 * r + 2] = (act){.kind = A_UNLOCK, .obj = &l, .catch_ = 1};
        sn[4 * r + 3] = (act){.kind = A_YIELD, .catch_ = 1};
    }
    sn[4 * ROUNDS] = (act){.kind = A_END};
    h_setup();
    h_quiet = 1;
    prng_state = 3;
    cr_lock_init(&l);
    cr_cond_init(&cv, &l);
    cond_bad_holder = 0;
    for (int i = 0; i < N; i++)
        h_spawn(&t[i], "t", sw);
    h_spawn(&notifier, "n", sn);
    int iterations = 0;
    while (!cr_loop_is_idle(&H) && iterations < 100 * N) {
        h_iter();
        iterations++;
        random_cancels(t, N, 200, prng() % 2 ? &cv.waiters : &l.waiters);
        /* once the notifier is done, wake everyone left from outside */
        if (notifier.ended && cv.waiters.n > 0 && cr_lock_try(&l, NULL)) {
            ASSERT_EQ(cr_cond_notify(&cv, cv.waiters.n), CR_OK);
            ASSERT_EQ(cr_lock_release(&l), CR_OK);
        }
    }
    ASSERT_TRUE(cr_loop_is_idle(&H));
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(t[i].ended != T_RUNNING);
    ASSERT_EQ(notifier.ended, T_RETURNED);
    ASSERT_EQ(cond_bad_holder, 0);
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(cv.waiters.n, 0);
    ASSERT_EQ(H.ntasks, 0);
    h_teardown();
    free(t);
    free(sn);
}

void suite_prims(void) {
    TEST("lock: uncontended acquire does not suspend; release unlocked = EINVAL", t_lock_uncontended());
    TEST("lock: waiters acquire in FIFO order", t_lock_fifo());
    TEST("lock: no barging past a woken waiter", t_lock_no_barging());
    TEST("lock: a woken waiter cancelled before it runs passes the wakeup", t_lock_woken_cancelled());
    TEST("lock: a cancelled head waiter wakes the next when it runs", t_lock_cancelled_head());
    TEST("lock: a newcomer takes a free lock when every waiter is cancelled", t_lock_all_cancelled());
    TEST("lock: a waiter cancelled while the lock is held", t_lock_cancel_while_held());
    TEST("event: set wakes every waiter in order", t_event_set_wakes_all());
    TEST("event: clear does not un-wake", t_event_clear());
    TEST("condition: wait or notify without the lock = EINVAL", t_cond_einval());
    TEST("condition: notify(n) wakes n waiters, FIFO", t_cond_notify_n());
    TEST("condition: notified waiters queue for the lock", t_cond_reacquire_queue());
    TEST("condition: notified then cancelled re-acquires and passes the notification",
         t_cond_cancel_notified());
    TEST("condition: cancelled while waiting re-acquires before raising", t_cond_cancel_waiting());
    TEST("condition: cancelled while re-acquiring keeps trying", t_cond_cancel_reacquiring());
    TEST("condition: an interrupted waiter passes its notification on", t_cond_interrupt());
    TEST("semaphore: value accounting", t_sema_accounting());
    TEST("semaphore: locked() with a free unit and a live waiter", t_sema_locked_rule());
    TEST("semaphore: a woken-then-cancelled waiter gives its unit back", t_sema_woken_cancelled());
    TEST("semaphore: an interrupted waiter gives a reserved unit back", t_sema_interrupt());
    TEST("semaphore: bounded release error", t_sema_bounded());
    TEST("barrier: indices, filling -> draining -> filling", t_barrier_basic());
    TEST("barrier: n_waiting and cancelled waiters", t_barrier_n_waiting());
    TEST("barrier: abort", t_barrier_abort());
    TEST("barrier: reset while waiting", t_barrier_reset_waiting());
    TEST("barrier: reset/abort wait for the internal lock", t_barrier_internal_lock());
    TEST("stress: 10000 tasks on one lock", t_stress_lock());
    TEST("stress: lock with random cancellations", t_stress_lock_cancel());
    TEST("stress: bounded semaphore with random cancellations", t_stress_sema_cancel());
    TEST("stress: condition with random cancellations", t_stress_cond_cancel());
}
