/*
 * lock.c - Lock, as asyncio 3.13: FIFO, no barging past a woken waiter,
 * a cancelled waiter passes the wakeup on.
 */
#include "core.h"
#include "prim.h"

void cr_lock_init(cr_lock *lock) {
    cr_waitq_init(&lock->waiters);
    lock->locked = 0;
    lock->holder = NULL;
}

/* True when every queued waiter is cancelled (or none is queued). */
static int all_waiters_cancelled(const cr_waitq *queue) {
    for (cr_waiter *w = cr_waitq_first(queue); w; w = cr_waitq_next(queue, w))
        if (w->fut.state != CR_CANCELLED)
            return 0;
    return 1;
}

int cr_lock_try(cr_lock *lock, cr_task *task) {
    if (!lock->locked && all_waiters_cancelled(&lock->waiters)) {
        lock->locked = 1;
        lock->holder = task;
        return 1;
    }
    return 0;
}

static void wake_up_first(cr_lock *lock) {
    cr_waiter *first = cr_waitq_first(&lock->waiters);
    if (first != NULL && !cr_future_done(&first->fut))
        cr_future_set_result(&first->fut, 1);
}

int cr_lock_release(cr_lock *lock) {
    if (!lock->locked)
        return CR_EINVAL;
    lock->locked = 0;
    lock->holder = NULL;
    wake_up_first(lock);
    return CR_OK;
}

int cr_lock_acquire_begin(cr_task *task, cr_lock *lock) {
    if (cr_lock_try(lock, task))
        return CR_OK;
    cr_wait_enqueue(task, &lock->waiters);
    return CR_WAIT;
}

int cr_lock_acquire_end(cr_task *task, cr_lock *lock) {
    cr_wait_dequeue(task);
    if (cr_task_wake_status(task) == CR_ECANCELLED) {
        if (!lock->locked)
            wake_up_first(lock);
        return CR_ECANCELLED;
    }
    lock->locked = 1;
    lock->holder = task;
    return CR_OK;
}

static int acquire_step(cr_task *task, cr_op *op) {
    cr_lock *lock = op->object;
    if (op->phase == 0) {
        op->phase = 1;
        return cr_lock_acquire_begin(task, lock);
    }
    return cr_lock_acquire_end(task, lock);
}

void cr_op_lock_acquire(cr_task *task, cr_lock *lock) {
    task->op.fn = acquire_step;
    task->op.object = lock;
    task->op.phase = 0;
    task->op.error = 0;
}
