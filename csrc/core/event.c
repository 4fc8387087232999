/*
 * event.c - Event: set wakes every waiter in order; clear only clears.
 */
#include "core.h"

void cr_event_init(cr_event *event) {
    cr_waitq_init(&event->waiters);
    event->is_set = 0;
}

void cr_event_set(cr_event *event) {
    if (event->is_set)
        return;
    event->is_set = 1;
    cr_waitq *queue = &event->waiters;
    for (cr_waiter *w = cr_waitq_first(queue); w; w = cr_waitq_next(queue, w))
        if (!cr_future_done(&w->fut))
            cr_future_set_result(&w->fut, 1);
}

void cr_event_clear(cr_event *event) {
    event->is_set = 0;
}

static int wait_step(cr_task *task, cr_op *op) {
    cr_event *event = op->object;
    if (op->phase == 0) {
        if (event->is_set)
            return CR_OK;
        op->phase = 1;
        cr_wait_enqueue(task, &event->waiters);
        return CR_WAIT;
    }
    cr_wait_dequeue(task);
    return cr_task_wake_status(task);
}

void cr_op_event_wait(cr_task *task, cr_event *event) {
    task->op.fn = wait_step;
    task->op.object = event;
    task->op.phase = 0;
    task->op.error = 0;
}
