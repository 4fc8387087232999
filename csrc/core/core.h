/*
 * core.h - the corral core: loop, timers, futures, tasks, wait operations
 * and the synchronization primitives.  No Lua in here: the Lua binding
 * (csrc/lua) and the C unit tests (spec/c) are both clients of this header.
 *
 * The model is asyncio's.  A loop owns a FIFO ready queue of handles and a
 * min-heap of timer handles.  A future completes once; completing it moves
 * its callback handles to the ready queue (never runs them inline).  A task
 * is a future plus a step handle; its body is driven by a step function the
 * client supplies.  A blocked task waits on exactly one future: either its
 * own embedded wait future (linked into a primitive's waiter queue, or
 * completed by its embedded sleep timer) or another future/task.
 *
 * Blocking operations are resumable state machines (cr_op): the client runs
 * the op; CR_WAIT means the task must suspend, and the client runs the op
 * again after the task's next step begins.
 */
#ifndef CORRAL_CORE_H
#define CORRAL_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"

/* Results of core operations.  0 = done, >0 = must wait, <0 = an error. */
enum {
    CR_OK = 0,
    CR_WAIT = 1,           /* the task must suspend; run the op again later */
    CR_ECANCELLED = -1,    /* the waiting task was cancelled */
    CR_EFAILED = -2,       /* the awaited future failed */
    CR_EBROKEN = -3,       /* the barrier is broken (aborted) */
    CR_ERESET = -4,        /* the barrier was reset while waiting */
    CR_ENOMEM = -5,        /* allocation failure */
    CR_EINVAL = -6,        /* misuse */
};

typedef struct cr_loop cr_loop;
typedef struct cr_handle cr_handle;
typedef struct cr_future cr_future;
typedef struct cr_task cr_task;

/* ------------------------------------------------------------------ */
/* Handles: one entry of the ready queue, the timer heap, or a future's
 * callback list (exactly one of these at a time). */

typedef void (*cr_handle_fn)(cr_loop *loop, cr_handle *handle);

enum cr_handle_where {
    CR_IN_NOTHING = 0,  /* idle */
    CR_IN_READY,        /* in loop->ready or the batch being run */
    CR_IN_HEAP,         /* in the timer heap */
    CR_IN_CALLBACKS,    /* in a future's callback list */
};

struct cr_handle {
    cr_link link;          /* ready queue or callback list membership */
    cr_handle_fn fn;       /* what running the handle does */
    double when;           /* timer deadline (loop clock), when in the heap */
    uint64_t seq;          /* timer tie-breaker: order of arming */
    uint32_t heap_index;   /* slot in the heap while CR_IN_HEAP */
    uint8_t where;         /* enum cr_handle_where */
    uint8_t cancelled;     /* skip when its turn comes */
};

void cr_handle_init(cr_handle *handle, cr_handle_fn fn);

/* ------------------------------------------------------------------ */
/* The loop. */

typedef double (*cr_clock_fn)(void *clock_data);
/* Allocator, with lua_Alloc's contract (nsize 0 frees). */
typedef void *(*cr_alloc_fn)(void *alloc_data, void *ptr, size_t osize, size_t nsize);
/* The default allocator: realloc/free. */
void *cr_default_alloc(void *alloc_data, void *ptr, size_t osize, size_t nsize);

/* Called to run one step of a task: `cancel` is 1 when a cancellation
 * must be thrown at the task's suspension point.  Returns one of
 * CR_STEP_* (see cr_task_step_done). */
typedef void (*cr_step_fn)(cr_loop *loop, cr_task *task, int cancel);

struct cr_loop {
    cr_link ready;           /* handles to run on the next iteration */
    cr_link batch;           /* the handles of the iteration being run (kept in
                              * the loop so that an error escaping a handle
                              * leaves them consistent: they run next time) */
    cr_handle **heap;        /* timer min-heap by (when, seq) */
    uint32_t heap_len;       /* timers in the heap */
    uint32_t heap_cap;       /* allocated slots */
    uint64_t timer_seq;      /* next timer sequence number */
    cr_link tasks;           /* every task not yet done, in creation order */
    size_t ntasks;           /* length of `tasks` */
    uint64_t task_counter;   /* tasks created so far (for Task-N names) */
    cr_task *current;        /* task whose step is running, or NULL */
    const void *cancel_msg;  /* client's message of the cancel() in progress */
    /* cancel() of futures flagged custom_cancel (e.g. a gather's): returns
     * 1 if a cancellation was requested, like cr_future_cancel. */
    int (*cancel_hook)(cr_future *future);
    cr_step_fn step;         /* client's step function */
    int virtual_clock;       /* 1: time only moves when idle */
    double vtime;            /* virtual clock reading */
    cr_clock_fn clock;       /* custom clock, or NULL */
    void *clock_data;        /* argument of `clock` */
    uint64_t rng;            /* schedule shuffling: xorshift64* state */
    int shuffle;             /* 1: run each iteration's handles in a seeded order */
    cr_link **scratch;       /* shuffling buffer */
    size_t scratch_cap;      /* entries allocated in scratch */
    double slow_threshold;   /* debug: report handles running this long (0: off) */
    /* debug: called after a handle ran `seconds` >= slow_threshold; `task`
     * is the task whose step it was, or NULL for another callback. */
    void (*on_slow)(cr_loop *loop, cr_task *task, double seconds);
    cr_alloc_fn alloc;       /* allocator for the heap storage */
    void *alloc_data;        /* argument of `alloc` */
    void *userdata;          /* the client's */
};

/* Set up `loop` (no allocation).  `virtual_clock`: 1 for a virtual clock
 * starting at 0, 0 for CLOCK_MONOTONIC. */
void cr_loop_init(cr_loop *loop, cr_step_fn step, int virtual_clock);
/* Shuffle the order of the handles of every iteration from now on, with a
 * generator seeded by `seed` (the same seed gives the same order). */
void cr_loop_seed(cr_loop *loop, uint64_t seed);
/* Free the heap storage.  The client must have finished its tasks. */
void cr_loop_free(cr_loop *loop);
/* CLOCK_MONOTONIC, in seconds. */
double cr_monotonic_now(void);
/* The loop's clock, in seconds. */
double cr_loop_time(const cr_loop *loop);
/* Append a handle to the ready queue (runs on the next iteration). */
void cr_loop_call_soon(cr_loop *loop, cr_handle *handle);
/* Arm a timer handle at absolute time `when`.  CR_ENOMEM on failure. */
int cr_loop_call_at(cr_loop *loop, cr_handle *handle, double when);
/* Take a handle out of whatever holds it (ready queue, heap, callbacks). */
void cr_handle_detach(cr_loop *loop, cr_handle *handle);
/* Seconds until something can run: 0 if something is ready, the time to
 * the first timer, or -1 when nothing is scheduled. */
double cr_loop_next_deadline(cr_loop *loop);
/* Run one iteration: wait at most `timeout` seconds (a virtual clock
 * jumps instead) for the first timer when nothing is ready, move due
 * timers to the ready queue, then run the handles that were ready at the
 * start.  Returns the number of handles run. */
size_t cr_loop_run_once(cr_loop *loop, double timeout);
/* 1 when nothing is ready and no timer is armed. */
int cr_loop_is_idle(const cr_loop *loop);

/* ------------------------------------------------------------------ */
/* Waiter queues: FIFO lists of waiting futures (task->wait.wlink). */

typedef struct cr_waitq {
    cr_link head;        /* waiters in arrival order */
    size_t n;            /* entries (woken or cancelled but not yet gone) */
} cr_waitq;

/* ------------------------------------------------------------------ */
/* Futures. */

enum cr_future_state { CR_PENDING = 0, CR_CANCELLED, CR_FINISHED };

struct cr_future {
    cr_loop *loop;           /* loop its callbacks are scheduled on */
    cr_link callbacks;       /* handles to schedule on completion, in order */
    const void *cancel_msg;  /* message of its cancellation (client-owned) */
    uint8_t state;           /* enum cr_future_state */
    uint8_t failed;          /* CR_FINISHED with an error */
    uint8_t is_task;         /* embedded in a cr_task as `fut` */
    uint8_t custom_cancel;   /* cancel through loop->cancel_hook */
    int value;               /* small integer result (waiters use it) */
};

/* A task's place in a primitive's waiter queue: a future completed when
 * the task is woken (or cancelled), linked into the queue meanwhile. */
typedef struct cr_waiter {
    cr_future fut;           /* completes on wakeup or cancellation */
    cr_link wlink;           /* membership in a primitive's waiter queue */
    cr_waitq *queue;         /* the queue holding wlink, or NULL */
} cr_waiter;

void cr_future_init(cr_future *future, cr_loop *loop);
/* A fresh waiter (pending, in no queue). */
void cr_waiter_init(cr_waiter *waiter, cr_loop *loop);
/* Complete with a result: 0, or -1 if already done. */
int cr_future_set_result(cr_future *future, int value);
/* Complete with an error (the client keeps the error value). */
int cr_future_set_failed(cr_future *future);
/* Cancel: 1 if cancelled now (or a cancellation was requested, for an
 * override), 0 if already done. */
int cr_future_cancel(cr_future *future);
/* The default cancellation, for overrides to fall back on. */
int cr_future_cancel_default(cr_future *future);
/* Register a callback handle; a done future queues it at once. */
void cr_future_add_callback(cr_future *future, cr_handle *handle);
/* Unlink every callback handle without running it (for teardown). */
void cr_future_drop_callbacks(cr_future *future);

static inline int cr_future_done(const cr_future *future) {
    return future->state != CR_PENDING;
}

/* ------------------------------------------------------------------ */
/* Tasks and resumable operations. */

/* A resumable blocking operation, stored in the task while it runs. */
typedef struct cr_op {
    int (*fn)(cr_task *task, struct cr_op *op); /* one step of the op */
    void *object;      /* the primitive (or future) operated on */
    int8_t phase;      /* where the op resumes */
    int8_t sub;        /* nested phase (condition wait inside a barrier) */
    int8_t error;      /* error to raise after cleanup (CR_E*) */
    uint8_t has_msg;   /* cancel_msg below was captured */
    const void *cancel_msg; /* message of a cancellation seen mid-op */
    union {
        long value;    /* result (barrier index, queue item) */
        double delay;  /* sleep delay */
    };
} cr_op;

/* How a task's step ended (reported by the client). */
enum cr_step_result {
    CR_STEP_BLOCKED = 0,   /* suspended on cr_task_block_on / block_yield */
    CR_STEP_RETURNED,      /* body returned */
    CR_STEP_FAILED,        /* body raised an error */
    CR_STEP_CANCELLED,     /* body raised a cancellation */
};

struct cr_task {
    cr_future fut;           /* the task's own completion */
    cr_handle step;          /* step/wakeup handle */
    cr_waiter wait;          /* embedded waiter for primitives and sleep */
    cr_handle timer;         /* embedded timer for sleep */
    cr_link tasks_link;      /* membership in loop->tasks while not done */
    cr_future *waiting_on;   /* future the task is blocked on (during a step:
                              * the one that woke it, until cr_task_block_on
                              * names the next), or NULL */
    cr_op op;                /* the blocking op in progress */
    uint64_t id;             /* 1-based creation number in its loop */
    int cancels_requested;   /* cancel() calls minus uncancel() calls */
    uint8_t must_cancel;     /* throw a cancellation at the next step */
    uint8_t cancel_thrown;   /* the running step was resumed with one */
    uint8_t blocked;         /* a block request was made this step */
    uint8_t started;         /* the first step has run */
    uint8_t in_cancel;       /* cr_task_cancel is running for it (cycles) */
};

/* 1 if the handle is a task's step handle. */
int cr_handle_is_step(const cr_handle *handle);
/* Initialise and schedule the first step on the next iteration. */
void cr_task_init(cr_task *task, cr_loop *loop);
/* asyncio Task.cancel(): 1 if a cancellation was requested, 0 if done. */
int cr_task_cancel(cr_task *task);
/* asyncio Task.uncancel(): returns the remaining count. */
int cr_task_uncancel(cr_task *task);
/* During a step: suspend on `future` (NULL: yield for one iteration). */
void cr_task_block_on(cr_task *task, cr_future *future);
/* A block requested during this step never reached the loop (something
 * swallowed the suspension): undo it, leaving no waiter or timer behind. */
void cr_task_unblock(cr_task *task);
/* Called by the client's step function when the body stopped. */
void cr_task_step_done(cr_task *task, int result);
/* Resume the task on the next iteration with a cancellation thrown at
 * its suspension point, without cancelling what it waits on and without
 * counting a cancel() (used to deliver a deadlock report). */
void cr_task_interrupt(cr_task *task);
/* Mark a task finished without running it further (teardown). */
void cr_task_abandon(cr_task *task);
/* The message of the cancellation the current step was woken with: the
 * cancelled future's, else the task's own cancel() message. */
const void *cr_task_cancel_msg(const cr_task *task);
/* How the current step was woken: CR_ECANCELLED if a cancellation was
 * thrown or the awaited future was cancelled, CR_OK otherwise. */
int cr_task_wake_status(const cr_task *task);

/* Waiter queues. */
void cr_waitq_init(cr_waitq *queue);
/* During a step: queue the task's wait future and block on it. */
void cr_wait_enqueue(cr_task *task, cr_waitq *queue);
/* Remove the task's wait future from its queue (no-op if not queued). */
void cr_wait_dequeue(cr_task *task);
/* First queued waiter, or NULL. */
cr_waiter *cr_waitq_first(const cr_waitq *queue);
/* Next queued waiter after `waiter`, or NULL. */
cr_waiter *cr_waitq_next(const cr_waitq *queue, const cr_waiter *waiter);

/* Run the task's current op one step. */
static inline int cr_op_run(cr_task *task) {
    return task->op.fn(task, &task->op);
}

/* sleep(delay): delay <= 0 yields for exactly one iteration. */
void cr_op_sleep(cr_task *task, double delay);
/* Await a future (or task). */
void cr_op_await(cr_task *task, cr_future *future);

/* ------------------------------------------------------------------ */
/* Primitives.  Each waiter queue holds task->wait.wlink nodes. */

typedef struct cr_lock {
    cr_waitq waiters;    /* queued waiters (woken or cancelled included) */
    uint8_t locked;      /* held */
    void *holder;        /* the task that took it last (for reports) */
} cr_lock;

void cr_lock_init(cr_lock *lock);
/* Non-blocking acquisition as acquire() does it: 1 if taken. */
int cr_lock_try(cr_lock *lock, cr_task *task);
/* CR_EINVAL if not locked. */
int cr_lock_release(cr_lock *lock);
void cr_op_lock_acquire(cr_task *task, cr_lock *lock);

typedef struct cr_event {
    cr_waitq waiters;    /* queued waiters */
    uint8_t is_set;
} cr_event;

void cr_event_init(cr_event *event);
void cr_event_set(cr_event *event);
void cr_event_clear(cr_event *event);
void cr_op_event_wait(cr_task *task, cr_event *event);

typedef struct cr_cond {
    cr_lock *lock;       /* the underlying lock (not owned) */
    cr_waitq waiters;    /* queued waiters */
} cr_cond;

void cr_cond_init(cr_cond *cond, cr_lock *lock);
/* Wake up to n waiters not already woken; CR_EINVAL if not locked. */
int cr_cond_notify(cr_cond *cond, size_t n);
/* Wait; CR_EINVAL (checked before anything) if the lock is not held. */
int cr_op_cond_wait(cr_task *task, cr_cond *cond);

typedef struct cr_sema {
    cr_waitq waiters;    /* queued waiters */
    long value;          /* units available */
    long bound;          /* initial value for a bounded semaphore, or -1 */
} cr_sema;

void cr_sema_init(cr_sema *sema, long value, int bounded);
int cr_sema_locked(const cr_sema *sema);
/* CR_EINVAL when a bounded semaphore is released too many times. */
int cr_sema_release(cr_sema *sema);
void cr_op_sema_acquire(cr_task *task, cr_sema *sema);

enum cr_barrier_state {
    CR_BARRIER_FILLING = 0,
    CR_BARRIER_DRAINING,
    CR_BARRIER_RESETTING,
    CR_BARRIER_BROKEN,
};

typedef struct cr_barrier {
    cr_lock lock;        /* the condition's lock */
    cr_cond cond;        /* notified on every state change */
    long parties;        /* tasks needed to pass */
    long count;          /* tasks inside wait() */
    int state;           /* enum cr_barrier_state */
} cr_barrier;

void cr_barrier_init(cr_barrier *barrier, long parties);
long cr_barrier_n_waiting(const cr_barrier *barrier);
/* wait(): on success op.value is the 0-based arrival index. */
void cr_op_barrier_wait(cr_task *task, cr_barrier *barrier);
void cr_op_barrier_reset(cr_task *task, cr_barrier *barrier);
void cr_op_barrier_abort(cr_task *task, cr_barrier *barrier);

/* ------------------------------------------------------------------ */
/* Queues: FIFO, LIFO and priority, bounded or not, as asyncio 3.13.
 *
 * The core never sees the client's values: an item is a handle the client
 * chooses (an index into its own storage) and keeps alive while the queue
 * holds it.  A priority queue orders handles with the client's `less`
 * callback, equal ones in insertion order. */

enum cr_queue_kind {
    CR_QUEUE_FIFO = 0,     /* first in, first out */
    CR_QUEUE_LIFO,         /* last in, first out */
    CR_QUEUE_PRIORITY,     /* lowest first (by `less`), ties FIFO */
};

/* Results of queue operations, beside CR_OK, CR_WAIT, CR_ECANCELLED and
 * CR_ENOMEM. */
enum {
    CR_EQUEUE_EMPTY = -32,     /* get_nowait on an empty queue */
    CR_EQUEUE_FULL = -33,      /* put_nowait on a full queue */
    CR_EQUEUE_SHUTDOWN = -34,  /* the queue is shut down */
};

/* The client's name for an item (it fits in cr_op.value). */
typedef long cr_queue_item;
/* Priority order: nonzero when `a` comes out before `b`.  Must not fail
 * and must be a strict weak order. */
typedef int (*cr_queue_less_fn)(void *data, cr_queue_item a, cr_queue_item b);
/* Told about each item shutdown(immediate) drops, so the client frees it. */
typedef void (*cr_queue_drop_fn)(void *data, cr_queue_item item);

typedef struct cr_queue_slot {
    cr_queue_item item;      /* the client's handle */
    uint64_t seq;            /* insertion number (priority ties) */
} cr_queue_slot;

typedef struct cr_queue {
    cr_waitq getters;        /* tasks waiting for an item (woken: removed) */
    cr_waitq putters;        /* tasks waiting for room (woken: removed) */
    cr_event finished;       /* set exactly while unfinished == 0 (join) */
    cr_queue_slot *slots;    /* ring (FIFO), stack (LIFO) or binary heap */
    size_t head;             /* FIFO: slot of the oldest item */
    size_t len;              /* items held */
    size_t cap;              /* slots allocated */
    size_t maxsize;          /* most items held; 0 = unbounded */
    size_t unfinished;       /* items put and not yet task_done() */
    uint64_t seq;            /* next insertion number */
    int kind;                /* enum cr_queue_kind */
    uint8_t is_shutdown;     /* shutdown() was called */
    cr_queue_less_fn less;   /* priority order, or NULL: handles compared */
    void *less_data;         /* argument of `less` */
    cr_alloc_fn alloc;       /* allocator of `slots` */
    void *alloc_data;        /* argument of `alloc` */
} cr_queue;

/* Set up an empty queue (no allocation yet).  `alloc` may be NULL for
 * malloc/free. */
void cr_queue_init(cr_queue *queue, int kind, size_t maxsize, cr_alloc_fn alloc,
                   void *alloc_data);
/* Install the priority order (priority queues only; may be changed while
 * the queue is empty). */
void cr_queue_set_less(cr_queue *queue, cr_queue_less_fn less, void *data);
/* Free the storage.  Tasks still queued are forgotten, not woken (for
 * teardown); the client still owns the items it put and did not get. */
void cr_queue_free(cr_queue *queue);
static inline size_t cr_queue_size(const cr_queue *queue) {
    return queue->len;
}
/* 1 when bounded and holding maxsize items. */
int cr_queue_full(const cr_queue *queue);
/* The i-th item held, 0 <= i < size, in storage order (not get order). */
cr_queue_item cr_queue_at(const cr_queue *queue, size_t i);
/* put_nowait(): CR_OK (and the head getter is woken), CR_EQUEUE_SHUTDOWN,
 * CR_EQUEUE_FULL or CR_ENOMEM (the queue unchanged). */
int cr_queue_put_nowait(cr_queue *queue, cr_queue_item item);
/* get_nowait(): CR_OK with *item set (and the head putter is woken),
 * CR_EQUEUE_SHUTDOWN (shut down and empty) or CR_EQUEUE_EMPTY. */
int cr_queue_get_nowait(cr_queue *queue, cr_queue_item *item);
/* task_done(): CR_EINVAL when called more often than items were put. */
int cr_queue_task_done(cr_queue *queue);
/* shutdown(): put fails from now on, get once the queue is empty; every
 * getter and putter is woken to see it.  `immediate` also drops the items
 * (each passed to `drop`, if given) and counts them done. */
void cr_queue_shutdown(cr_queue *queue, int immediate, cr_queue_drop_fn drop, void *data);
/* put(): wait while full, then put_nowait(item). */
void cr_op_queue_put(cr_task *task, cr_queue *queue, cr_queue_item item);
/* get(): wait while empty, then get_nowait(); op.value is the item. */
void cr_op_queue_get(cr_task *task, cr_queue *queue);
/* join(): wait until every item put has been marked done. */
void cr_op_queue_join(cr_task *task, cr_queue *queue);

#endif
