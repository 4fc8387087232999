/*
 * queue.c - Queue, LifoQueue and PriorityQueue, as asyncio 3.13.
 *
 * Getters and putters wait in FIFO queues.  put/get wake the head waiter
 * of the other side and take it out of the queue at once (asyncio's
 * _wakeup_next); the woken task re-checks when it runs and queues again
 * at the back if a newcomer got there first.  A waiter cancelled after
 * its wakeup passes the wakeup on, so none is lost.  join() waits on an
 * embedded Event that is set exactly while no item is unfinished.
 *
 * Items are the client's handles.  The storage is one array used as a
 * ring (FIFO), a stack (LIFO) or a binary min-heap (priority, ordered by
 * the client's `less`, ties by insertion number).
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

enum { Q_START = 0, Q_WAITING };

#define MIN_SLOTS 8

void cr_queue_init(cr_queue *queue, int kind, size_t maxsize, cr_alloc_fn alloc,
                   void *alloc_data) {
    cr_waitq_init(&queue->getters);
    cr_waitq_init(&queue->putters);
    cr_event_init(&queue->finished);
    cr_event_set(&queue->finished);
    queue->slots = NULL;
    queue->head = 0;
    queue->len = 0;
    queue->cap = 0;
    queue->maxsize = maxsize;
    queue->unfinished = 0;
    queue->seq = 0;
    queue->kind = kind;
    queue->is_shutdown = 0;
    queue->less = NULL;
    queue->less_data = NULL;
    queue->alloc = alloc ? alloc : cr_default_alloc;
    queue->alloc_data = alloc ? alloc_data : NULL;
}

void cr_queue_set_less(cr_queue *queue, cr_queue_less_fn less, void *data) {
    queue->less = less;
    queue->less_data = data;
}

static void release_slots(cr_queue *queue) {
    if (queue->slots != NULL)
        queue->alloc(queue->alloc_data, queue->slots, queue->cap * sizeof *queue->slots, 0);
    queue->slots = NULL;
    queue->cap = 0;
    queue->head = 0;
}


int cr_queue_full(const cr_queue *queue) {
    return queue->maxsize > 0 && queue->len >= queue->maxsize;
}

/* Storage index of the i-th held slot. */
static size_t slot_index(const cr_queue *queue, size_t i) {
    if (queue->kind != CR_QUEUE_FIFO)
        return i;
    size_t at = queue->head + i;
    return at >= queue->cap ? at - queue->cap : at;
}

cr_queue_item cr_queue_at(const cr_queue *queue, size_t i) {
    assert(i < queue->len);
    return queue->slots[slot_index(queue, i)].item;
}

/* Move the items to an array of `cap` slots (>= len), oldest first for a
 * ring.  CR_ENOMEM leaves the queue as it was. */
static int resize(cr_queue *queue, size_t cap) {
    assert(cap >= queue->len);
    if (cap > SIZE_MAX / sizeof *queue->slots)
        return CR_ENOMEM;
    cr_queue_slot *slots = queue->alloc(queue->alloc_data, NULL, 0, cap * sizeof *slots);
    if (slots == NULL)
        return CR_ENOMEM;
    for (size_t i = 0; i < queue->len; i++)
        slots[i] = queue->slots[slot_index(queue, i)];
    size_t len = queue->len;
    release_slots(queue);
    queue->slots = slots;
    queue->cap = cap;
    queue->len = len;
    return CR_OK;
}

/* Room for one more item. */
static int reserve_one(cr_queue *queue) {
    if (queue->len < queue->cap)
        return CR_OK;
    size_t cap = queue->cap < MIN_SLOTS ? MIN_SLOTS : queue->cap * 2;
    if (cap < queue->cap)
        return CR_ENOMEM;
    if (queue->maxsize > 0 && cap > queue->maxsize)
        cap = queue->maxsize;
    return resize(queue, cap);
}

/* Give memory back once the queue has drained to a quarter. */
static void maybe_shrink(cr_queue *queue) {
    if (queue->len == 0 && queue->cap > MIN_SLOTS) {
        release_slots(queue);
        return;
    }
    if (queue->cap > 4 * MIN_SLOTS && queue->len <= queue->cap / 4)
        (void)resize(queue, queue->cap / 2); /* keeping the old array is fine */
}

/* ---- the priority heap ---- */

/* 1 when slot a comes out before slot b. */
static int before(const cr_queue *queue, const cr_queue_slot *a, const cr_queue_slot *b) {
    if (queue->less != NULL) {
        if (queue->less(queue->less_data, a->item, b->item))
            return 1;
        if (queue->less(queue->less_data, b->item, a->item))
            return 0;
    } else if (a->item != b->item) {
        return a->item < b->item;
    }
    return a->seq < b->seq;
}

static void sift_up(cr_queue *queue, size_t i) {
    cr_queue_slot *s = queue->slots;
    cr_queue_slot moving = s[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(queue, &moving, &s[parent]))
            break;
        s[i] = s[parent];
        i = parent;
    }
    s[i] = moving;
}

static void sift_down(cr_queue *queue, size_t i) {
    cr_queue_slot *s = queue->slots;
    cr_queue_slot moving = s[i];
    size_t n = queue->len;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && before(queue, &s[child + 1], &s[child]))
            child++;
        if (!before(queue, &s[child], &moving))
            break;
        s[i] = s[child];
        i = child;
    }
    s[i] = moving;
}

/* ---- storage by kind ---- */

/* Store an item; room has been reserved. */
static void push(cr_queue *queue, cr_queue_item item) {
    cr_queue_slot slot = {item, queue->seq++};
    size_t at = queue->kind == CR_QUEUE_FIFO ? slot_index(queue, queue->len) : queue->len;
    queue->slots[at] = slot;
    queue->len++;
    if (queue->kind == CR_QUEUE_PRIORITY)
        sift_up(queue, at);
}

/* Take the next item out; the queue is not empty. */
static cr_queue_item pop(cr_queue *queue) {
    cr_queue_slot *s = queue->slots;
    cr_queue_item item;
    switch (queue->kind) {
    case CR_QUEUE_FIFO:
        item = s[queue->head].item;
        queue->head = queue->head + 1 == queue->cap ? 0 : queue->head + 1;
        queue->len--;
        break;
    case CR_QUEUE_LIFO:
        item = s[--queue->len].item;
        break;
    default:
        item = s[0].item;
        s[0] = s[--queue->len];
        if (queue->len > 0)
            sift_down(queue, 0);
        break;
    }
    if (queue->len == 0)
        queue->head = 0;
    return item;
}

/* ---- waiters ---- */

/* Take a waiter out of its queue (its task's later dequeue is a no-op). */
static void unlink_waiter(cr_waitq *waiters, cr_waiter *waiter) {
    cr_list_remove(&waiter->wlink);
    waiters->n--;
    waiter->queue = NULL;
}

/* asyncio's _wakeup_next: drop waiters from the front until one that is
 * still pending has been woken. */
static void wakeup_next(cr_waitq *waiters) {
    cr_waiter *waiter;
    while ((waiter = cr_waitq_first(waiters)) != NULL) {
        unlink_waiter(waiters, waiter);
        if (!cr_future_done(&waiter->fut)) {
            cr_future_set_result(&waiter->fut, 1);
            return;
        }
    }
}

static void wakeup_all(cr_waitq *waiters) {
    cr_waiter *waiter;
    while ((waiter = cr_waitq_first(waiters)) != NULL) {
        unlink_waiter(waiters, waiter);
        if (!cr_future_done(&waiter->fut))
            cr_future_set_result(&waiter->fut, 1);
    }
}

/* Forget every waiter without waking it (teardown). */
static void unlink_all(cr_waitq *waiters) {
    cr_waiter *waiter;
    while ((waiter = cr_waitq_first(waiters)) != NULL)
        unlink_waiter(waiters, waiter);
}

void cr_queue_free(cr_queue *queue) {
    unlink_all(&queue->getters);
    unlink_all(&queue->putters);
    unlink_all(&queue->finished.waiters);
    release_slots(queue);
    queue->len = 0;
}

/* ---- non-blocking operations ---- */

int cr_queue_put_nowait(cr_queue *queue, cr_queue_item item) {
    if (queue->is_shutdown)
        return CR_EQUEUE_SHUTDOWN;
    if (cr_queue_full(queue))
        return CR_EQUEUE_FULL;
    if (reserve_one(queue) != CR_OK)
        return CR_ENOMEM;
    push(queue, item);
    queue->unfinished++;
    cr_event_clear(&queue->finished);
    wakeup_next(&queue->getters);
    return CR_OK;
}

int cr_queue_get_nowait(cr_queue *queue, cr_queue_item *item) {
    if (queue->len == 0)
        return queue->is_shutdown ? CR_EQUEUE_SHUTDOWN : CR_EQUEUE_EMPTY;
    *item = pop(queue);
    maybe_shrink(queue);
    wakeup_next(&queue->putters);
    return CR_OK;
}

int cr_queue_task_done(cr_queue *queue) {
    if (queue->unfinished == 0)
        return CR_EINVAL;
    if (--queue->unfinished == 0)
        cr_event_set(&queue->finished);
    return CR_OK;
}

void cr_queue_shutdown(cr_queue *queue, int immediate, cr_queue_drop_fn drop, void *data) {
    queue->is_shutdown = 1;
    if (immediate) {
        for (size_t i = 0; i < queue->len; i++) {
            if (drop != NULL)
                drop(data, cr_queue_at(queue, i));
            if (queue->unfinished > 0)
                queue->unfinished--;
        }
        queue->len = 0;
        release_slots(queue);
        if (queue->unfinished == 0)
            cr_event_set(&queue->finished);
    }
    /* Every waiter re-checks and sees the shutdown. */
    wakeup_all(&queue->getters);
    wakeup_all(&queue->putters);
}

/* ---- blocking operations ---- */

/* After the wakeup of a waiting op: CR_OK to re-check, or CR_ECANCELLED
 * once a wakeup this task will not use has been passed on.  `can_use`
 * tells whether the woken task could have gone on. */
static int after_wait(cr_task *task, cr_waitq *waiters, int can_use) {
    cr_wait_dequeue(task);
    if (cr_task_wake_status(task) != CR_ECANCELLED)
        return CR_OK;
    if (can_use && task->wait.fut.state == CR_FINISHED)
        wakeup_next(waiters);
    return CR_ECANCELLED;
}

static int put_step(cr_task *task, cr_op *op) {
    cr_queue *queue = op->object;
    if (op->phase == Q_WAITING &&
        after_wait(task, &queue->putters, !cr_queue_full(queue)) != CR_OK)
        return CR_ECANCELLED;
    if (cr_queue_full(queue)) {
        if (queue->is_shutdown)
            return CR_EQUEUE_SHUTDOWN;
        op->phase = Q_WAITING;
        cr_wait_enqueue(task, &queue->putters);
        return CR_WAIT;
    }
    int rc = cr_queue_put_nowait(queue, (cr_queue_item)op->value);
    if (rc == CR_ENOMEM && op->phase == Q_WAITING)
        wakeup_next(&queue->putters); /* the room this task was woken for */
    return rc;
}

void cr_op_queue_put(cr_task *task, cr_queue *queue, cr_queue_item item) {
    task->op.fn = put_step;
    task->op.object = queue;
    task->op.phase = Q_START;
    task->op.error = 0;
    task->op.value = item;
}

static int get_step(cr_task *task, cr_op *op) {
    cr_queue *queue = op->object;
    if (op->phase == Q_WAITING &&
        after_wait(task, &queue->getters, queue->len > 0) != CR_OK)
        return CR_ECANCELLED;
    if (queue->len == 0) {
        if (queue->is_shutdown)
            return CR_EQUEUE_SHUTDOWN;
        op->phase = Q_WAITING;
        cr_wait_enqueue(task, &queue->getters);
        return CR_WAIT;
    }
    cr_queue_item item = 0;
    int rc = cr_queue_get_nowait(queue, &item);
    op->value = item;
    return rc;
}

void cr_op_queue_get(cr_task *task, cr_queue *queue) {
    task->op.fn = get_step;
    task->op.object = queue;
    task->op.phase = Q_START;
    task->op.error = 0;
    task->op.value = 0;
}

static int join_step(cr_task *task, cr_op *op) {
    cr_queue *queue = op->object;
    if (op->phase == Q_START) {
        if (queue->unfinished == 0)
            return CR_OK;
        op->phase = Q_WAITING;
        cr_wait_enqueue(task, &queue->finished.waiters);
        return CR_WAIT;
    }
    cr_wait_dequeue(task);
    return cr_task_wake_status(task);
}

void cr_op_queue_join(cr_task *task, cr_queue *queue) {
    task->op.fn = join_step;
    task->op.object = queue;
    task->op.phase = Q_START;
    task->op.error = 0;
}
