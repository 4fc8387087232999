/*
 * task.c - tasks: a future driven by steps, as asyncio's Task.__step.
 *
 * The client's step function resumes the body and reports how it stopped
 * with cr_task_step_done().  A body that suspends has called
 * cr_task_block_on() during the step: with a future, the task's step
 * handle becomes that future's callback (the task resumes one iteration
 * after the future completes); with NULL, the step is queued again (a
 * bare yield: exactly one iteration).
 */
#include "core.h"

static void task_step(cr_loop *loop, cr_handle *handle);

int cr_handle_is_step(const cr_handle *handle) {
    return handle->fn == task_step;
}

void cr_task_init(cr_task *task, cr_loop *loop) {
    cr_future_init(&task->fut, loop);
    task->fut.is_task = 1;
    cr_handle_init(&task->step, task_step);
    cr_waiter_init(&task->wait, loop);
    cr_handle_init(&task->timer, NULL);
    cr_list_push_back(&loop->tasks, &task->tasks_link);
    loop->ntasks++;
    task->waiting_on = NULL;
    task->op.fn = NULL;
    task->id = ++loop->task_counter;
    task->cancels_requested = 0;
    task->must_cancel = 0;
    task->cancel_thrown = 0;
    task->blocked = 0;
    task->started = 0;
    task->in_cancel = 0;
    cr_loop_call_soon(loop, &task->step);
}

int cr_task_cancel(cr_task *task) {
    if (cr_future_done(&task->fut))
        return 0;
    task->cancels_requested++;
    /* Tasks awaiting each other in a cycle: the cancellation comes back
     * here; stop the recursion and deliver it at the next step instead. */
    if (!task->in_cancel && task->waiting_on != NULL) {
        task->in_cancel = 1;
        int cancelled = cr_future_cancel(task->waiting_on);
        task->in_cancel = 0;
        if (cancelled)
            return 1;
    }
    task->must_cancel = 1;
    task->fut.cancel_msg = task->fut.loop->cancel_msg;
    return 1;
}

int cr_task_uncancel(cr_task *task) {
    if (task->cancels_requested > 0) {
        task->cancels_requested--;
        if (task->cancels_requested == 0)
            task->must_cancel = 0;
    }
    return task->cancels_requested;
}

void cr_task_block_on(cr_task *task, cr_future *future) {
    assert(!task->blocked);
    task->blocked = 1;
    task->waiting_on = future; /* its wake status was read already */
}

void cr_task_unblock(cr_task *task) {
    if (!task->blocked)
        return;
    task->blocked = 0;
    task->waiting_on = NULL;
    cr_wait_dequeue(task);
    cr_handle_detach(task->fut.loop, &task->timer);
}

const void *cr_task_cancel_msg(const cr_task *task) {
    if (task->op.has_msg)
        return task->op.cancel_msg;
    if (task->waiting_on != NULL && task->waiting_on->state == CR_CANCELLED)
        return task->waiting_on->cancel_msg;
    return task->fut.cancel_msg;
}

int cr_task_wake_status(const cr_task *task) {
    if (task->cancel_thrown)
        return CR_ECANCELLED;
    if (task->waiting_on != NULL && task->waiting_on->state == CR_CANCELLED)
        return CR_ECANCELLED;
    return CR_OK;
}

static void task_finished(cr_task *task) {
    cr_list_remove(&task->tasks_link);
    task->fut.loop->ntasks--;
}

static void task_step(cr_loop *loop, cr_handle *handle) {
    cr_task *task = cr_container_of(handle, cr_task, step);
    assert(!cr_future_done(&task->fut));
    int cancel = task->must_cancel;
    task->must_cancel = 0;
    task->cancel_thrown = (uint8_t)cancel;
    task->started = 1;
    cr_task *previous = loop->current;
    loop->current = task;
    loop->step(loop, task, cancel);
    loop->current = previous;
}

void cr_task_step_done(cr_task *task, int result) {
    cr_loop *loop = task->fut.loop;
    task->cancel_thrown = 0;
    if (result != CR_STEP_BLOCKED)
        task->waiting_on = NULL;
    switch (result) {
    case CR_STEP_BLOCKED: {
        assert(task->blocked);
        cr_future *future = task->waiting_on;
        task->blocked = 0;
        if (future == NULL) {
            cr_loop_call_soon(loop, &task->step);
            return;
        }
        cr_future_add_callback(future, &task->step);
        if (task->must_cancel) {
            /* cancelled during this step: pass it on with its message */
            const void *saved = loop->cancel_msg;
            loop->cancel_msg = task->fut.cancel_msg;
            if (cr_future_cancel(future))
                task->must_cancel = 0;
            loop->cancel_msg = saved;
        }
        return;
    }
    case CR_STEP_RETURNED:
        task->blocked = 0;
        task_finished(task);
        if (task->must_cancel)
            cr_future_cancel_default(&task->fut);
        else
            cr_future_set_result(&task->fut, 0);
        return;
    case CR_STEP_FAILED:
        task->blocked = 0;
        task_finished(task);
        cr_future_set_failed(&task->fut);
        return;
    case CR_STEP_CANCELLED:
    default:
        task->blocked = 0;
        task_finished(task);
        cr_future_cancel_default(&task->fut);
        return;
    }
}

void cr_task_abandon(cr_task *task) {
    cr_loop *loop = task->fut.loop;
    cr_handle_detach(loop, &task->step);
    cr_handle_detach(loop, &task->timer);
    cr_wait_dequeue(task);
    task->waiting_on = NULL;
    if (!cr_future_done(&task->fut)) {
        task_finished(task);
        cr_future_cancel_default(&task->fut);
    }
}

void cr_task_interrupt(cr_task *task) {
    if (cr_future_done(&task->fut))
        return;
    cr_loop *loop = task->fut.loop;
    if (task->step.where == CR_IN_CALLBACKS)
        cr_handle_detach(loop, &task->step);
    task->waiting_on = NULL;
    task->must_cancel = 1;
    if (task->step.where == CR_IN_NOTHING)
        cr_loop_call_soon(loop, &task->step);
}
