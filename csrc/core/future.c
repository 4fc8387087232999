/*
 * future.c - one-shot completion with ordered, deferred callbacks.
 *
 * Completing a future (result, error or cancellation) moves every callback
 * handle to the loop's ready queue in registration order; none runs inline.
 */
#include "core.h"

void cr_future_init(cr_future *future, cr_loop *loop) {
    future->loop = loop;
    cr_list_init(&future->callbacks);
    future->custom_cancel = 0;
    future->cancel_msg = NULL;
    future->state = CR_PENDING;
    future->failed = 0;
    future->is_task = 0;
    future->value = 0;
}

static void schedule_callbacks(cr_future *future) {
    cr_link *node;
    while ((node = cr_list_pop_front(&future->callbacks)) != NULL) {
        cr_handle *handle = cr_container_of(node, cr_handle, link);
        handle->where = CR_IN_NOTHING;
        cr_loop_call_soon(future->loop, handle);
    }
}

void cr_waiter_init(cr_waiter *waiter, cr_loop *loop) {
    cr_future_init(&waiter->fut, loop);
    cr_link_clear(&waiter->wlink);
    waiter->queue = NULL;
}

int cr_future_set_result(cr_future *future, int value) {
    if (future->state != CR_PENDING)
        return -1;
    future->state = CR_FINISHED;
    future->value = value;
    schedule_callbacks(future);
    return 0;
}

int cr_future_set_failed(cr_future *future) {
    if (future->state != CR_PENDING)
        return -1;
    future->state = CR_FINISHED;
    future->failed = 1;
    schedule_callbacks(future);
    return 0;
}

int cr_future_cancel_default(cr_future *future) {
    if (future->state != CR_PENDING)
        return 0;
    future->state = CR_CANCELLED;
    if (!future->is_task)
        future->cancel_msg = future->loop->cancel_msg;
    schedule_callbacks(future);
    return 1;
}

int cr_future_cancel(cr_future *future) {
    if (future->is_task)
        return cr_task_cancel(cr_container_of(future, cr_task, fut));
    if (future->custom_cancel && future->loop->cancel_hook != NULL)
        return future->loop->cancel_hook(future);
    return cr_future_cancel_default(future);
}

void cr_future_add_callback(cr_future *future, cr_handle *handle) {
    assert(handle->where == CR_IN_NOTHING);
    if (future->state != CR_PENDING) {
        cr_loop_call_soon(future->loop, handle);
        return;
    }
    handle->where = CR_IN_CALLBACKS;
    cr_list_push_back(&future->callbacks, &handle->link);
}

void cr_future_drop_callbacks(cr_future *future) {
    cr_link *node;
    while ((node = cr_list_pop_front(&future->callbacks)) != NULL) {
        cr_handle *handle = cr_container_of(node, cr_handle, link);
        handle->where = CR_IN_NOTHING;
    }
}
