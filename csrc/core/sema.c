/*
 * sema.c - Semaphore and BoundedSemaphore, as asyncio 3.13: a unit is
 * reserved for a waiter when it is woken; newcomers queue behind live
 * waiters; a waiter cancelled after its wakeup gives the unit back.
 */
#include "core.h"

void cr_sema_init(cr_sema *sema, long value, int bounded) {
    cr_waitq_init(&sema->waiters);
    sema->value = value;
    sema->bound = bounded ? value : -1;
}

int cr_sema_locked(const cr_sema *sema) {
    if (sema->value == 0)
        return 1;
    const cr_waitq *queue = &sema->waiters;
    for (cr_waiter *w = cr_waitq_first(queue); w; w = cr_waitq_next(queue, w))
        if (w->fut.state != CR_CANCELLED)
            return 1;
    return 0;
}

/* Wake the first waiter not already woken, reserving a unit for it. */
static int wake_up_next(cr_sema *sema) {
    cr_waitq *queue = &sema->waiters;
    for (cr_waiter *w = cr_waitq_first(queue); w; w = cr_waitq_next(queue, w)) {
        if (!cr_future_done(&w->fut)) {
            sema->value--;
            cr_future_set_result(&w->fut, 1);
            return 1;
        }
    }
    return 0;
}

int cr_sema_release(cr_sema *sema) {
    if (sema->bound >= 0 && sema->value >= sema->bound)
        return CR_EINVAL;
    sema->value++;
    wake_up_next(sema);
    return CR_OK;
}

static int acquire_step(cr_task *task, cr_op *op) {
    cr_sema *sema = op->object;
    if (op->phase == 0) {
        if (!cr_sema_locked(sema)) {
            sema->value--;
            return CR_OK;
        }
        op->phase = 1;
        cr_wait_enqueue(task, &sema->waiters);
        return CR_WAIT;
    }
    cr_wait_dequeue(task);
    int status = cr_task_wake_status(task);
    if (status == CR_ECANCELLED && task->wait.fut.state == CR_FINISHED)
        sema->value++; /* woken, but not taking the unit after all */
    /* New waiters may have queued behind: wake as many as units allow. */
    while (sema->value > 0)
        if (!wake_up_next(sema))
            break;
    return status;
}

void cr_op_sema_acquire(cr_task *task, cr_sema *sema) {
    task->op.fn = acquire_step;
    task->op.object = sema;
    task->op.phase = 0;
    task->op.error = 0;
}
