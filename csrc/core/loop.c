/*
 * loop.c - the event loop: ready queue, timer heap, clock, iterations.
 *
 * One iteration follows asyncio's _run_once: if nothing is ready, wait for
 * the first timer (a virtual clock jumps to it); move every due timer to
 * the back of the ready queue in (deadline, arming order); then run
 * exactly the handles that were ready at that point.  Whatever they
 * schedule runs on the next iteration.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "core.h"

#define CLOCK_RESOLUTION 1e-9

void cr_handle_init(cr_handle *handle, cr_handle_fn fn) {
    cr_link_clear(&handle->link);
    handle->fn = fn;
    handle->when = 0;
    handle->seq = 0;
    handle->heap_index = 0;
    handle->where = CR_IN_NOTHING;
    handle->cancelled = 0;
}

void *cr_default_alloc(void *alloc_data, void *ptr, size_t osize, size_t nsize) {
    (void)alloc_data;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

void cr_loop_init(cr_loop *loop, cr_step_fn step, int virtual_clock) {
    cr_list_init(&loop->ready);
    cr_list_init(&loop->batch);
    loop->heap = NULL;
    loop->heap_len = 0;
    loop->heap_cap = 0;
    loop->timer_seq = 0;
    cr_list_init(&loop->tasks);
    loop->ntasks = 0;
    loop->task_counter = 0;
    loop->current = NULL;
    loop->cancel_msg = NULL;
    loop->cancel_hook = NULL;
    loop->step = step;
    loop->virtual_clock = virtual_clock;
    loop->vtime = 0;
    loop->clock = NULL;
    loop->clock_data = NULL;
    loop->rng = 0;
    loop->shuffle = 0;
    loop->scratch = NULL;
    loop->scratch_cap = 0;
    loop->slow_threshold = 0;
    loop->on_slow = NULL;
    loop->alloc = cr_default_alloc;
    loop->alloc_data = NULL;
    loop->userdata = NULL;
}

void cr_loop_free(cr_loop *loop) {
    /* Whatever is still scheduled is dropped: mark it idle so that a
     * later detach is a no-op. */
    for (uint32_t i = 0; i < loop->heap_len; i++)
        loop->heap[i]->where = CR_IN_NOTHING;
    loop->heap_len = 0;
    cr_link *node;
    while ((node = cr_list_pop_front(&loop->ready)) != NULL)
        cr_container_of(node, cr_handle, link)->where = CR_IN_NOTHING;
    while ((node = cr_list_pop_front(&loop->batch)) != NULL)
        cr_container_of(node, cr_handle, link)->where = CR_IN_NOTHING;
    if (loop->heap != NULL)
        loop->alloc(loop->alloc_data, loop->heap, loop->heap_cap * sizeof *loop->heap, 0);
    if (loop->scratch != NULL)
        loop->alloc(loop->alloc_data, loop->scratch, loop->scratch_cap * sizeof *loop->scratch, 0);
    loop->scratch = NULL;
    loop->scratch_cap = 0;
    loop->heap = NULL;
    loop->heap_len = loop->heap_cap = 0;
}

double cr_monotonic_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double cr_loop_time(const cr_loop *loop) {
    if (loop->clock)
        return loop->clock(loop->clock_data);
    if (loop->virtual_clock)
        return loop->vtime;
    return cr_monotonic_now();
}

void cr_loop_call_soon(cr_loop *loop, cr_handle *handle) {
    assert(handle->where == CR_IN_NOTHING);
    handle->where = CR_IN_READY;
    cr_list_push_back(&loop->ready, &handle->link);
}

/* ---- timer heap, ordered by (when, seq) ---- */

static int heap_less(const cr_handle *a, const cr_handle *b) {
    if (a->when != b->when)
        return a->when < b->when;
    return a->seq < b->seq;
}

static void heap_place(cr_loop *loop, uint32_t index, cr_handle *handle) {
    loop->heap[index] = handle;
    handle->heap_index = index;
}

static void heap_sift_up(cr_loop *loop, uint32_t index) {
    cr_handle *handle = loop->heap[index];
    while (index > 0) {
        uint32_t parent = (index - 1) / 2;
        if (!heap_less(handle, loop->heap[parent]))
            break;
        heap_place(loop, index, loop->heap[parent]);
        index = parent;
    }
    heap_place(loop, index, handle);
}

static void heap_sift_down(cr_loop *loop, uint32_t index) {
    cr_handle *handle = loop->heap[index];
    uint32_t len = loop->heap_len;
    for (;;) {
        uint32_t child = 2 * index + 1;
        if (child >= len)
            break;
        if (child + 1 < len && heap_less(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!heap_less(loop->heap[child], handle))
            break;
        heap_place(loop, index, loop->heap[child]);
        index = child;
    }
    heap_place(loop, index, handle);
}

static void heap_remove(cr_loop *loop, cr_handle *handle) {
    uint32_t index = handle->heap_index;
    assert(index < loop->heap_len && loop->heap[index] == handle);
    cr_handle *last = loop->heap[--loop->heap_len];
    if (last != handle) {
        heap_place(loop, index, last);
        if (index > 0 && heap_less(last, loop->heap[(index - 1) / 2]))
            heap_sift_up(loop, index);
        else
            heap_sift_down(loop, index);
    }
    handle->where = CR_IN_NOTHING;
}

int cr_loop_call_at(cr_loop *loop, cr_handle *handle, double when) {
    assert(handle->where == CR_IN_NOTHING);
    if (loop->heap_len == loop->heap_cap) {
        uint32_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        cr_handle **heap = loop->alloc(loop->alloc_data, loop->heap,
                                       loop->heap_cap * sizeof *heap, cap * sizeof *heap);
        if (heap == NULL)
            return CR_ENOMEM;
        loop->heap = heap;
        loop->heap_cap = cap;
    }
    handle->when = when;
    handle->seq = loop->timer_seq++;
    handle->where = CR_IN_HEAP;
    loop->heap[loop->heap_len++] = handle;
    heap_sift_up(loop, loop->heap_len - 1);
    return CR_OK;
}

void cr_handle_detach(cr_loop *loop, cr_handle *handle) {
    switch (handle->where) {
    case CR_IN_HEAP:
        heap_remove(loop, handle);
        break;
    case CR_IN_READY:
    case CR_IN_CALLBACKS:
        cr_list_remove(&handle->link);
        handle->where = CR_IN_NOTHING;
        break;
    default:
        break;
    }
}

int cr_loop_is_idle(const cr_loop *loop) {
    return cr_list_is_empty(&loop->ready) && cr_list_is_empty(&loop->batch) && loop->heap_len == 0;
}

double cr_loop_next_deadline(cr_loop *loop) {
    if (!cr_list_is_empty(&loop->ready) || !cr_list_is_empty(&loop->batch))
        return 0;
    if (loop->heap_len == 0)
        return -1;
    double delta = loop->heap[0]->when - cr_loop_time(loop);
    return delta > 0 ? delta : 0;
}

static void sleep_seconds(double seconds) {
    if (!(seconds > 0))
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9) + 1; /* round up */
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void cr_loop_seed(cr_loop *loop, uint64_t seed) {
    /* splitmix64 of the seed: distinct seeds give unrelated streams, and
     * the xorshift state is never 0 */
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    loop->rng = z ? z : 1;
    loop->shuffle = 1;
}

static uint64_t next_random(cr_loop *loop) {
    uint64_t x = loop->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    loop->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Put the handles of `batch` in a seeded random order.  On allocation
 * failure the order is left as it is (FIFO). */
static void shuffle_batch(cr_loop *loop, cr_link *batch) {
    size_t n = 0;
    cr_link *node;
    cr_list_for_each(node, batch) n++;
    if (n < 2)
        return;
    if (n > loop->scratch_cap) {
        cr_link **buf = loop->alloc(loop->alloc_data, loop->scratch,
                                    loop->scratch_cap * sizeof *buf, n * sizeof *buf);
        if (buf == NULL)
            return;
        loop->scratch = buf;
        loop->scratch_cap = n;
    }
    size_t i = 0;
    while ((node = cr_list_pop_front(batch)) != NULL)
        loop->scratch[i++] = node;
    for (i = n - 1; i > 0; i--) {
        size_t j = (size_t)(next_random(loop) % (uint64_t)(i + 1));
        cr_link *t = loop->scratch[i];
        loop->scratch[i] = loop->scratch[j];
        loop->scratch[j] = t;
    }
    for (i = 0; i < n; i++)
        cr_list_push_back(batch, loop->scratch[i]);
}

size_t cr_loop_run_once(cr_loop *loop, double timeout) {
    if (cr_list_is_empty(&loop->ready) && cr_list_is_empty(&loop->batch) && loop->heap_len > 0) {
        double first = loop->heap[0]->when;
        if (loop->virtual_clock && loop->clock == NULL) {
            if (first > loop->vtime && first - loop->vtime <= timeout)
                loop->vtime = first;
        } else {
            double delta = first - cr_loop_time(loop);
            sleep_seconds(delta < timeout ? delta : timeout);
        }
    }

    double end_time = loop->heap_len > 0 ? cr_loop_time(loop) + CLOCK_RESOLUTION : 0;
    while (loop->heap_len > 0) {
        cr_handle *handle = loop->heap[0];
        if (handle->when >= end_time)
            break;
        heap_remove(loop, handle);
        handle->where = CR_IN_READY;
        cr_list_push_back(&loop->ready, &handle->link);
    }

    /* The batch normally starts empty; what an escaping error left in it
     * runs first. */
    cr_link *batch = &loop->batch;
    cr_list_splice_back(batch, &loop->ready);
    if (loop->shuffle)
        shuffle_batch(loop, batch);
    size_t ran = 0;
    cr_link *node;
    while ((node = cr_list_pop_front(batch)) != NULL) {
        cr_handle *handle = cr_container_of(node, cr_handle, link);
        handle->where = CR_IN_NOTHING;
        if (handle->cancelled)
            continue;
        ran++;
        if (loop->slow_threshold > 0 && loop->on_slow != NULL) {
            cr_task *task = cr_handle_is_step(handle) ? cr_container_of(handle, cr_task, step) : NULL;
            double start = cr_monotonic_now();
            handle->fn(loop, handle);
            double took = cr_monotonic_now() - start;
            if (took >= loop->slow_threshold)
                loop->on_slow(loop, task, took);
        } else {
            handle->fn(loop, handle);
        }
    }
    return ran;
}
