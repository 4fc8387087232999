/*
 * barrier.c - Barrier, as asyncio 3.13: a Condition guarding the state
 * machine filling -> draining -> filling, with resetting and broken.
 * wait(), reset() and abort() take the condition's lock, so they may
 * suspend; the phases below follow asyncio's coroutines step by step.
 */
#include "core.h"
#include "prim.h"

void cr_barrier_init(cr_barrier *barrier, long parties) {
    cr_lock_init(&barrier->lock);
    cr_cond_init(&barrier->cond, &barrier->lock);
    barrier->parties = parties;
    barrier->count = 0;
    barrier->state = CR_BARRIER_FILLING;
}

long cr_barrier_n_waiting(const cr_barrier *barrier) {
    return barrier->state == CR_BARRIER_FILLING ? barrier->count : 0;
}

static void notify_all(cr_barrier *barrier) {
    cr_cond_notify(&barrier->cond, barrier->cond.waiters.n);
}

enum {
    W_LOCK = 0,      /* taking the lock */
    W_LOCK_WAIT,     /* queued for the lock */
    W_BLOCK,         /* waiting for draining/resetting to end */
    W_BLOCK_WAIT,    /* in the condition wait of W_BLOCK */
    W_FILL,          /* waiting for the barrier to fill */
    W_FILL_WAIT,     /* in the condition wait of W_FILL */
};

/* Leave wait(): the last one out flips back to filling. */
static int wait_exit(cr_barrier *barrier, int status) {
    barrier->count--;
    if (barrier->count == 0) {
        if (barrier->state == CR_BARRIER_RESETTING || barrier->state == CR_BARRIER_DRAINING)
            barrier->state = CR_BARRIER_FILLING;
        notify_all(barrier);
    }
    cr_lock_release(&barrier->lock);
    return status;
}

static int wait_step(cr_task *task, cr_op *op) {
    cr_barrier *barrier = op->object;
    int rc;
    for (;;) {
        switch (op->phase) {
        case W_LOCK:
            if (cr_lock_acquire_begin(task, &barrier->lock) == CR_WAIT) {
                op->phase = W_LOCK_WAIT;
                return CR_WAIT;
            }
            op->phase = W_BLOCK;
            break;
        case W_LOCK_WAIT:
            if (cr_lock_acquire_end(task, &barrier->lock) != CR_OK)
                return CR_ECANCELLED;
            op->phase = W_BLOCK;
            break;
        case W_BLOCK:
            if (barrier->state == CR_BARRIER_DRAINING || barrier->state == CR_BARRIER_RESETTING) {
                op->phase = W_BLOCK_WAIT;
                op->sub = 0;
                op->error = CR_OK;
                break;
            }
            if (barrier->state == CR_BARRIER_BROKEN) {
                cr_lock_release(&barrier->lock);
                return CR_EBROKEN;
            }
            op->value = barrier->count++;
            if (op->value + 1 == barrier->parties) {
                barrier->state = CR_BARRIER_DRAINING;
                notify_all(barrier);
                return wait_exit(barrier, CR_OK);
            }
            op->phase = W_FILL;
            break;
        case W_BLOCK_WAIT:
            rc = cr_cond_wait_step(task, &barrier->cond, &op->sub, &op->error);
            if (rc == CR_WAIT)
                return CR_WAIT;
            if (rc != CR_OK) {
                cr_lock_release(&barrier->lock);
                return rc;
            }
            op->phase = W_BLOCK;
            break;
        case W_FILL:
            if (barrier->state == CR_BARRIER_FILLING) {
                op->phase = W_FILL_WAIT;
                op->sub = 0;
                op->error = CR_OK;
                break;
            }
            if (barrier->state == CR_BARRIER_BROKEN || barrier->state == CR_BARRIER_RESETTING)
                return wait_exit(barrier, CR_ERESET);
            return wait_exit(barrier, CR_OK);
        case W_FILL_WAIT:
        default:
            rc = cr_cond_wait_step(task, &barrier->cond, &op->sub, &op->error);
            if (rc == CR_WAIT)
                return CR_WAIT;
            if (rc != CR_OK)
                return wait_exit(barrier, rc);
            op->phase = W_FILL;
            break;
        }
    }
}

void cr_op_barrier_wait(cr_task *task, cr_barrier *barrier) {
    task->op.fn = wait_step;
    task->op.object = barrier;
    task->op.phase = W_LOCK;
    task->op.has_msg = 0;
    task->op.sub = 0;
    task->op.error = 0;
    task->op.value = 0;
}

/* reset() and abort(): take the lock, change the state, notify all. */
static int change_step(cr_task *task, cr_op *op, int reset) {
    cr_barrier *barrier = op->object;
    if (op->phase == 0) {
        if (cr_lock_acquire_begin(task, &barrier->lock) == CR_WAIT) {
            op->phase = 1;
            return CR_WAIT;
        }
    } else if (cr_lock_acquire_end(task, &barrier->lock) != CR_OK) {
        return CR_ECANCELLED;
    }
    if (!reset)
        barrier->state = CR_BARRIER_BROKEN;
    else if (barrier->count > 0)
        barrier->state = CR_BARRIER_RESETTING;
    else
        barrier->state = CR_BARRIER_FILLING;
    notify_all(barrier);
    cr_lock_release(&barrier->lock);
    return CR_OK;
}

static int reset_step(cr_task *task, cr_op *op) {
    return change_step(task, op, 1);
}

static int abort_step(cr_task *task, cr_op *op) {
    return change_step(task, op, 0);
}

void cr_op_barrier_reset(cr_task *task, cr_barrier *barrier) {
    task->op.fn = reset_step;
    task->op.object = barrier;
    task->op.phase = 0;
    task->op.has_msg = 0;
}

void cr_op_barrier_abort(cr_task *task, cr_barrier *barrier) {
    task->op.fn = abort_step;
    task->op.object = barrier;
    task->op.phase = 0;
    task->op.has_msg = 0;
}
