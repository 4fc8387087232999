/*
 * wait.c - the one wait mechanism: a blocked task's embedded wait future
 * sits in a primitive's FIFO queue (or is completed by its embedded sleep
 * timer); waking completes it, which queues the task's step.  Also the
 * two generic ops: sleep and await.
 */
#include "core.h"

void cr_waitq_init(cr_waitq *queue) {
    cr_list_init(&queue->head);
    queue->n = 0;
}

void cr_wait_enqueue(cr_task *task, cr_waitq *queue) {
    cr_waiter *wait = &task->wait;
    assert(!cr_link_is_linked(&wait->wlink));
    cr_future_init(&wait->fut, task->fut.loop);
    cr_list_push_back(&queue->head, &wait->wlink);
    wait->queue = queue;
    queue->n++;
    cr_task_block_on(task, &wait->fut);
}

void cr_wait_dequeue(cr_task *task) {
    cr_waiter *wait = &task->wait;
    if (wait->queue == NULL)
        return;
    cr_list_remove(&wait->wlink);
    wait->queue->n--;
    wait->queue = NULL;
}

cr_waiter *cr_waitq_first(const cr_waitq *queue) {
    if (cr_list_is_empty(&queue->head))
        return NULL;
    return cr_container_of(queue->head.next, cr_waiter, wlink);
}

cr_waiter *cr_waitq_next(const cr_waitq *queue, const cr_waiter *waiter) {
    if (waiter->wlink.next == &queue->head)
        return NULL;
    return cr_container_of(waiter->wlink.next, cr_waiter, wlink);
}

/* ---- sleep ---- */

static void sleep_timer_fired(cr_loop *loop, cr_handle *handle) {
    (void)loop;
    cr_task *task = cr_container_of(handle, cr_task, timer);
    if (!cr_future_done(&task->wait.fut))
        cr_future_set_result(&task->wait.fut, 0);
}

static int sleep_step(cr_task *task, cr_op *op) {
    cr_loop *loop = task->fut.loop;
    if (op->phase == 0) {
        op->phase = 1;
        if (!(op->delay > 0)) {
            cr_task_block_on(task, NULL);
            return CR_WAIT;
        }
        cr_future_init(&task->wait.fut, loop);
        cr_handle_init(&task->timer, sleep_timer_fired);
        if (cr_loop_call_at(loop, &task->timer, cr_loop_time(loop) + op->delay) != CR_OK)
            return CR_ENOMEM;
        cr_task_block_on(task, &task->wait.fut);
        return CR_WAIT;
    }
    cr_handle_detach(loop, &task->timer);
    return cr_task_wake_status(task);
}

void cr_op_sleep(cr_task *task, double delay) {
    task->op.fn = sleep_step;
    task->op.object = NULL;
    task->op.phase = 0;
    task->op.error = 0;
    task->op.delay = delay;
}

/* ---- await a future ---- */

static int await_step(cr_task *task, cr_op *op) {
    cr_future *future = op->object;
    if (op->phase == 0) {
        if (cr_future_done(future))
            return CR_OK;
        op->phase = 1;
        cr_task_block_on(task, future);
        return CR_WAIT;
    }
    if (task->cancel_thrown)
        return CR_ECANCELLED;
    return CR_OK; /* the caller inspects the future's outcome */
}

void cr_op_await(cr_task *task, cr_future *future) {
    task->op.fn = await_step;
    task->op.object = future;
    task->op.phase = 0;
    task->op.error = 0;
}
