/*
 * cond.c - Condition, as asyncio 3.13: wait releases the lock, waits for
 * a notification and always re-acquires the lock before it returns or
 * raises; an error leaving wait passes one notification on.
 */
#include "core.h"
#include "prim.h"

void cr_cond_init(cr_cond *cond, cr_lock *lock) {
    cond->lock = lock;
    cr_waitq_init(&cond->waiters);
}

static void notify_n(cr_cond *cond, size_t n) {
    size_t woken = 0;
    cr_waitq *queue = &cond->waiters;
    for (cr_waiter *w = cr_waitq_first(queue); w && woken < n; w = cr_waitq_next(queue, w)) {
        if (!cr_future_done(&w->fut)) {
            woken++;
            cr_future_set_result(&w->fut, 0);
        }
    }
}

int cr_cond_notify(cr_cond *cond, size_t n) {
    if (!cond->lock->locked)
        return CR_EINVAL;
    notify_n(cond, n);
    return CR_OK;
}

enum { SUB_START = 0, SUB_WAITING, SUB_REACQUIRING };

int cr_cond_wait_step(cr_task *task, cr_cond *cond, int8_t *sub, int8_t *error) {
    switch (*sub) {
    case SUB_START:
        cr_lock_release(cond->lock);
        cr_wait_enqueue(task, &cond->waiters);
        *sub = SUB_WAITING;
        return CR_WAIT;
    case SUB_WAITING:
        cr_wait_dequeue(task);
        if (cr_task_wake_status(task) == CR_ECANCELLED) {
            *error = CR_ECANCELLED;
            /* raised after the lock is ours again: keep its message */
            task->op.cancel_msg = cr_task_cancel_msg(task);
            task->op.has_msg = 1;
        }
        break;
    case SUB_REACQUIRING:
    default:
        if (cr_lock_acquire_end(task, cond->lock) == CR_OK)
            goto finish;
        *error = CR_ECANCELLED;
        task->op.has_msg = 0; /* the latest cancellation wins, as asyncio */
        task->op.cancel_msg = cr_task_cancel_msg(task);
        task->op.has_msg = 1;
        break;
    }
    /* Must re-acquire the lock even if the wait was cancelled. */
    if (cr_lock_acquire_begin(task, cond->lock) == CR_WAIT) {
        *sub = SUB_REACQUIRING;
        return CR_WAIT;
    }
finish:
    if (*error != CR_OK) {
        notify_n(cond, 1);
        return *error;
    }
    return CR_OK;
}

static int wait_step(cr_task *task, cr_op *op) {
    return cr_cond_wait_step(task, op->object, &op->sub, &op->error);
}

int cr_op_cond_wait(cr_task *task, cr_cond *cond) {
    if (!cond->lock->locked)
        return CR_EINVAL;
    task->op.fn = wait_step;
    task->op.object = cond;
    task->op.phase = 0;
    task->op.has_msg = 0;
    task->op.sub = SUB_START;
    task->op.error = CR_OK;
    return CR_OK;
}
