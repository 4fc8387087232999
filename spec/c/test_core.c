/*
 * test_core.c - the C core alone: lists, the timer heap, loop iterations,
 * futures and tasks.  Tasks are the scripted state machines of harness.h;
 * the primitives are in test_prims.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "test.h"

void suite_core(void);

/* ------------------------------------------------------------------ */
/* Plain handles that log their id when run. */

enum { X_NONE = 0, X_SOON_OTHER, X_DETACH_OTHER, X_CANCEL_OTHER, X_REQUEUE_SELF, X_ARM_OTHER_NOW };

typedef struct xh {
    cr_handle h;
    int id;
    int action;        /* X_* done when run */
    struct xh *other;  /* target of the action */
    int runs;
    double ran_at;     /* loop time when run */
} xh;

static void xh_fn(cr_loop *loop, cr_handle *handle) {
    xh *x = cr_container_of(handle, xh, h);
    x->runs++;
    x->ran_at = cr_loop_time(loop);
    h_log("h%d", x->id);
    switch (x->action) {
    case X_SOON_OTHER:
        cr_loop_call_soon(loop, &x->other->h);
        break;
    case X_DETACH_OTHER:
        cr_handle_detach(loop, &x->other->h);
        break;
    case X_CANCEL_OTHER:
        x->other->h.cancelled = 1;
        break;
    case X_REQUEUE_SELF:
        cr_loop_call_soon(loop, &x->h);
        break;
    case X_ARM_OTHER_NOW:
        cr_loop_call_at(loop, &x->other->h, cr_loop_time(loop));
        break;
    default:
        break;
    }
}

static void xh_init(xh *x, int id) {
    cr_handle_init(&x->h, xh_fn);
    x->id = id;
    x->action = X_NONE;
    x->other = NULL;
    x->runs = 0;
    x->ran_at = -1;
}

/* 1 when the heap array is a valid min-heap by (when, seq) with correct
 * back-indices. */
static int heap_ok(const cr_loop *loop) {
    for (uint32_t i = 0; i < loop->heap_len; i++) {
        const cr_handle *h = loop->heap[i];
        if (h->heap_index != i || h->where != CR_IN_HEAP)
            return 0;
        if (i > 0) {
            const cr_handle *p = loop->heap[(i - 1) / 2];
            if (h->when < p->when || (h->when == p->when && h->seq < p->seq))
                return 0;
        }
    }
    return 1;
}

static uint64_t rng_state;
static uint32_t rng(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

/* ------------------------------------------------------------------ */
/* Lists. */

struct lnode {
    cr_link link;
    int v;
};

static void list_str(cr_link *head, char *buf) {
    cr_link *pos;
    size_t n = 0;
    cr_list_for_each(pos, head) {
        buf[n++] = (char)('0' + cr_container_of(pos, struct lnode, link)->v);
    }
    buf[n] = '\0';
}

static void t_list(void) {
    cr_link head, head2;
    struct lnode n[5];
    char buf[16];
    cr_list_init(&head);
    cr_list_init(&head2);
    for (int i = 0; i < 5; i++) {
        cr_link_clear(&n[i].link);
        n[i].v = i;
    }
    ASSERT_TRUE(cr_list_is_empty(&head));
    ASSERT_TRUE(!cr_link_is_linked(&n[0].link));
    ASSERT_TRUE(cr_list_pop_front(&head) == NULL);
    for (int i = 0; i < 3; i++)
        cr_list_push_back(&head, &n[i].link);
    ASSERT_TRUE(!cr_list_is_empty(&head));
    ASSERT_TRUE(cr_link_is_linked(&n[1].link));
    list_str(&head, buf);
    ASSERT_STR_EQ(buf, "012");
    cr_list_remove(&n[1].link);
    ASSERT_TRUE(!cr_link_is_linked(&n[1].link));
    ASSERT_TRUE(n[1].link.prev == NULL);
    list_str(&head, buf);
    ASSERT_STR_EQ(buf, "02");
    ASSERT_TRUE(cr_list_pop_front(&head) == &n[0].link);
    ASSERT_TRUE(!cr_link_is_linked(&n[0].link));
    list_str(&head, buf);
    ASSERT_STR_EQ(buf, "2");
    cr_list_push_back(&head2, &n[3].link);
    cr_list_push_back(&head2, &n[1].link);
    cr_list_splice_back(&head, &head2);
    ASSERT_TRUE(cr_list_is_empty(&head2));
    list_str(&head, buf);
    ASSERT_STR_EQ(buf, "231");
    cr_list_splice_back(&head, &head2); /* empty: no change */
    list_str(&head, buf);
    ASSERT_STR_EQ(buf, "231");
    /* splice into an empty list */
    cr_list_splice_back(&head2, &head);
    ASSERT_TRUE(cr_list_is_empty(&head));
    list_str(&head2, buf);
    ASSERT_STR_EQ(buf, "231");
    cr_list_push_back(&head2, &n[4].link);
    list_str(&head2, buf);
    ASSERT_STR_EQ(buf, "2314");
    /* backwards links are consistent */
    ASSERT_TRUE(head2.prev == &n[4].link);
    ASSERT_TRUE(n[4].link.prev == &n[1].link);
    ASSERT_TRUE(head2.next->prev == &head2);
    int count = 0;
    while (cr_list_pop_front(&head2) != NULL)
        count++;
    ASSERT_EQ(count, 4);
    ASSERT_TRUE(cr_list_is_empty(&head2));
    ASSERT_TRUE(cr_container_of(&n[2].link, struct lnode, link) == &n[2]);
}

/* ------------------------------------------------------------------ */
/* Timer heap. */

static void t_heap_order(void) {
    static const double whens[6] = {3, 1, 2, 1, 3, 2};
    xh x[6];
    h_setup();
    for (int i = 0; i < 6; i++) {
        xh_init(&x[i], i);
        ASSERT_EQ(cr_loop_call_at(&H, &x[i].h, whens[i]), CR_OK);
        ASSERT_EQ(x[i].h.where, CR_IN_HEAP);
        ASSERT_EQ(x[i].h.seq, i);
    }
    ASSERT_TRUE(heap_ok(&H));
    ASSERT_EQ(H.heap_len, 6);
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), 1);
    /* Each iteration jumps to the next deadline and runs every timer due
     * at it, in arming order. */
    ASSERT_EQ(h_iter(), 2);
    ASSERT_DBL_EQ(cr_loop_time(&H), 1);
    ASSERT_STR_EQ(h_logstr(), "h1 h3");
    ASSERT_EQ(h_iter(), 2);
    ASSERT_DBL_EQ(cr_loop_time(&H), 2);
    ASSERT_EQ(h_iter(), 2);
    ASSERT_DBL_EQ(cr_loop_time(&H), 3);
    ASSERT_STR_EQ(h_logstr(), "h1 h3 h2 h5 h0 h4");
    ASSERT_EQ(h_iter(), 0);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ(x[i].h.where, CR_IN_NOTHING);
        ASSERT_DBL_EQ(x[i].ran_at, whens[i]);
    }
    /* A handle may be re-armed after it ran; the arming order goes on. */
    ASSERT_EQ(cr_loop_call_at(&H, &x[0].h, 5), CR_OK);
    ASSERT_EQ(x[0].h.seq, 6);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_EQ(x[0].runs, 2);
    h_teardown();
}

static void t_heap_detach(void) {
    enum { N = 40 };
    xh x[N];
    char expect[512], got[512];
    h_setup();
    for (int i = 0; i < N; i++) {
        xh_init(&x[i], i);
        ASSERT_EQ(cr_loop_call_at(&H, &x[i].h, (double)((i * 7) % 5)), CR_OK);
    }
    ASSERT_TRUE(heap_ok(&H));
    /* Detach from the middle, the end and the root of the heap array,
     * then some more. */
    int gone[N] = {0};
    cr_handle *victims[6];
    victims[0] = H.heap[H.heap_len / 2];
    victims[1] = H.heap[H.heap_len - 1];
    victims[2] = H.heap[0];
    victims[3] = H.heap[3];
    victims[4] = H.heap[1];
    victims[5] = H.heap[H.heap_len / 3];
    for (int k = 0; k < 6; k++) {
        xh *v = cr_container_of(victims[k], xh, h);
        if (gone[v->id])
            continue;
        uint32_t before = H.heap_len;
        cr_handle_detach(&H, &v->h);
        gone[v->id] = 1;
        ASSERT_EQ(v->h.where, CR_IN_NOTHING);
        ASSERT_EQ(H.heap_len, before - 1);
        ASSERT_TRUE(heap_ok(&H));
    }
    /* Detaching an idle handle is a no-op. */
    cr_handle_detach(&H, victims[0]);
    ASSERT_TRUE(heap_ok(&H));
    /* Expected: the survivors by (when, arming order). */
    size_t n = 0;
    for (int w = 0; w < 5; w++)
        for (int i = 0; i < N; i++)
            if (!gone[i] && (i * 7) % 5 == w)
                n += (size_t)snprintf(expect + n, sizeof expect - n, n ? " h%d" : "h%d", i);
    h_run(100);
    snprintf(got, sizeof got, "%s", h_logstr());
    ASSERT_STR_EQ(got, expect);
    for (int i = 0; i < N; i++)
        ASSERT_EQ(x[i].runs, gone[i] ? 0 : 1);
    h_teardown();
}

static int by_when_seq(const void *pa, const void *pb) {
    const xh *a = *(xh *const *)pa, *b = *(xh *const *)pb;
    if (a->h.when != b->h.when)
        return a->h.when < b->h.when ? -1 : 1;
    return a->h.seq < b->h.seq ? -1 : a->h.seq > b->h.seq;
}

static xh **fire_order;
static size_t fire_count;

static void xh_record(cr_loop *loop, cr_handle *handle) {
    (void)loop;
    xh *x = cr_container_of(handle, xh, h);
    x->runs++;
    x->ran_at = cr_loop_time(loop);
    fire_order[fire_count++] = x;
}

static void t_heap_random(void) {
    enum { N = 5000 };
    xh *x = calloc(N, sizeof *x);
    xh **expect = calloc(N, sizeof *expect);
    fire_order = calloc(N, sizeof *fire_order);
    fire_count = 0;
    rng_state = 12345;
    h_setup();
    for (int i = 0; i < N; i++) {
        cr_handle_init(&x[i].h, xh_record);
        x[i].id = i;
        ASSERT_EQ(cr_loop_call_at(&H, &x[i].h, (double)(rng() % 300) * 0.25), CR_OK);
        /* now and then, detach a random armed timer */
        if (i % 5 == 4) {
            int v = (int)(rng() % (uint32_t)(i + 1));
            cr_handle_detach(&H, &x[v].h);
        }
    }
    ASSERT_TRUE(H.heap_cap >= H.heap_len);
    ASSERT_TRUE(heap_ok(&H));
    size_t n = 0;
    int distinct = 0;
    for (int i = 0; i < N; i++)
        if (x[i].h.where == CR_IN_HEAP)
            expect[n++] = &x[i];
    ASSERT_EQ(n, H.heap_len);
    qsort(expect, n, sizeof *expect, by_when_seq);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || expect[i]->h.when != expect[i - 1]->h.when)
            distinct++;
    /* Each iteration jumps to the next deadline and fires all timers due. */
    int iterations = h_run(N + 10);
    ASSERT_EQ(iterations, distinct);
    ASSERT_EQ(fire_count, n);
    for (size_t i = 0; i < n; i++) {
        ASSERT_TRUE(fire_order[i] == expect[i]);
        ASSERT_DBL_EQ(fire_order[i]->ran_at, fire_order[i]->h.when);
    }
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(x[i].runs <= 1);
    h_teardown();
    free(x);
    free(expect);
    free(fire_order);
    fire_order = NULL;
}

/* ------------------------------------------------------------------ */
/* Loop iterations. */

static void t_loop_snapshot(void) {
    xh a, b, c;
    h_setup();
    xh_init(&a, 1);
    xh_init(&b, 2);
    xh_init(&c, 3);
    a.action = X_SOON_OTHER;
    a.other = &b;
    c.action = X_REQUEUE_SELF;
    cr_loop_call_soon(&H, &a.h);
    cr_loop_call_soon(&H, &c.h);
    ASSERT_EQ(a.h.where, CR_IN_READY);
    ASSERT_EQ(h_iter(), 2);
    ASSERT_STR_EQ(h_logstr(), "h1 h3");
    ASSERT_EQ(b.runs, 0);
    ASSERT_EQ(b.h.where, CR_IN_READY);
    ASSERT_EQ(h_iter(), 2);
    ASSERT_STR_EQ(h_logstr(), "h1 h3 h2 h3");
    ASSERT_EQ(h_iter(), 1);
    ASSERT_EQ(c.runs, 3);
    cr_handle_detach(&H, &c.h);
    ASSERT_EQ(c.h.where, CR_IN_NOTHING);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    ASSERT_EQ(h_iter(), 0);
    ASSERT_EQ(c.runs, 3);
    h_teardown();
}

static void t_loop_timer_armed_during_iteration(void) {
    /* A timer armed (already due) during an iteration runs on the next. */
    xh a, t, r;
    h_setup();
    xh_init(&a, 1);
    xh_init(&t, 2);
    xh_init(&r, 3);
    a.action = X_ARM_OTHER_NOW;
    a.other = &t;
    cr_loop_call_soon(&H, &a.h);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_EQ(t.h.where, CR_IN_HEAP);
    ASSERT_EQ(t.runs, 0);
    /* ready callbacks queued before the iteration run before timers that
     * come due in it */
    cr_loop_call_soon(&H, &r.h);
    ASSERT_EQ(h_iter(), 2);
    ASSERT_STR_EQ(h_logstr(), "h1 h3 h2");
    ASSERT_DBL_EQ(cr_loop_time(&H), 0);
    h_teardown();
}

static void t_loop_ready_before_timers(void) {
    xh t, r;
    h_setup();
    xh_init(&t, 1);
    xh_init(&r, 2);
    ASSERT_EQ(cr_loop_call_at(&H, &t.h, 0), CR_OK); /* due now, armed first */
    cr_loop_call_soon(&H, &r.h);
    ASSERT_EQ(h_iter(), 2);
    ASSERT_STR_EQ(h_logstr(), "h2 h1");
    h_teardown();
}

static void t_loop_detach_in_batch(void) {
    /* A handle taken out of the batch being run does not run. */
    xh a, b, c, d;
    h_setup();
    xh_init(&a, 1);
    xh_init(&b, 2);
    xh_init(&c, 3);
    xh_init(&d, 4);
    a.action = X_DETACH_OTHER;
    a.other = &b;
    c.action = X_CANCEL_OTHER;
    c.other = &d;
    cr_loop_call_soon(&H, &a.h);
    cr_loop_call_soon(&H, &b.h);
    cr_loop_call_soon(&H, &c.h);
    cr_loop_call_soon(&H, &d.h);
    ASSERT_EQ(h_iter(), 2); /* cancelled handles are skipped, not counted */
    ASSERT_STR_EQ(h_logstr(), "h1 h3");
    ASSERT_EQ(b.h.where, CR_IN_NOTHING);
    ASSERT_EQ(d.h.where, CR_IN_NOTHING);
    ASSERT_EQ(b.runs + d.runs, 0);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    /* a cancelled timer is skipped too */
    d.h.cancelled = 1;
    ASSERT_EQ(cr_loop_call_at(&H, &d.h, 1), CR_OK);
    ASSERT_EQ(cr_loop_call_at(&H, &c.h, 2), CR_OK);
    c.action = X_NONE;
    h_run(10);
    ASSERT_EQ(d.runs, 0);
    ASSERT_EQ(c.runs, 2);
    ASSERT_DBL_EQ(cr_loop_time(&H), 2);
    /* detach from the ready queue */
    cr_loop_call_soon(&H, &a.h);
    cr_handle_detach(&H, &a.h);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    ASSERT_EQ(h_iter(), 0);
    h_teardown();
}

static void t_loop_clock(void) {
    xh t, r, t2, p;
    h_setup();
    xh_init(&t, 1);
    xh_init(&r, 2);
    xh_init(&t2, 3);
    xh_init(&p, 4);
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), -1);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    ASSERT_EQ(h_iter(), 0); /* an idle loop does not hang */
    ASSERT_EQ(cr_loop_call_at(&H, &t.h, 5), CR_OK);
    ASSERT_TRUE(!cr_loop_is_idle(&H));
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), 5);
    cr_loop_call_soon(&H, &r.h);
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), 0);
    /* something ready: the clock does not jump */
    ASSERT_EQ(h_iter(), 1);
    ASSERT_DBL_EQ(cr_loop_time(&H), 0);
    ASSERT_STR_EQ(h_logstr(), "h2");
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), 5);
    /* nothing ready: jump to the first timer */
    ASSERT_EQ(h_iter(), 1);
    ASSERT_DBL_EQ(cr_loop_time(&H), 5);
    ASSERT_STR_EQ(h_logstr(), "h2 h1");
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), -1);
    /* a timeout shorter than the first timer: nothing runs */
    ASSERT_EQ(cr_loop_call_at(&H, &t2.h, 8), CR_OK);
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), 3);
    ASSERT_EQ(cr_loop_run_once(&H, 1.0), 0);
    ASSERT_EQ(t2.runs, 0);
    ASSERT_EQ(t2.h.where, CR_IN_HEAP);
    ASSERT_TRUE(cr_loop_time(&H) < 8);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_DBL_EQ(cr_loop_time(&H), 8);
    /* a timer in the past: deadline 0, runs at once, no time change */
    ASSERT_EQ(cr_loop_call_at(&H, &p.h, 3), CR_OK);
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), 0);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_DBL_EQ(cr_loop_time(&H), 8);
    ASSERT_EQ(p.runs, 1);
    /* timers within the clock resolution of now count as due */
    ASSERT_EQ(cr_loop_call_at(&H, &p.h, 8 + 1e-10), CR_OK);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_EQ(p.runs, 2);
    h_teardown();
}

static double fake_now;
static double fake_clock(void *data) {
    (void)data;
    return fake_now;
}

static void t_loop_custom_and_real_clock(void) {
    xh t;
    h_setup();
    xh_init(&t, 1);
    fake_now = 100;
    H.clock = fake_clock;
    ASSERT_DBL_EQ(cr_loop_time(&H), 100);
    ASSERT_EQ(cr_loop_call_at(&H, &t.h, 103), CR_OK);
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), 3);
    fake_now = 103;
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), 0);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_EQ(t.runs, 1);
    h_teardown();

    /* The monotonic clock: run_once sleeps until the timer is due. */
    cr_loop real;
    cr_loop_init(&real, NULL, 0);
    xh_init(&t, 2);
    double t0 = cr_loop_time(&real);
    ASSERT_EQ(cr_loop_call_at(&real, &t.h, t0 + 0.02), CR_OK);
    size_t ran = 0;
    for (int i = 0; i < 100 && ran == 0; i++)
        ran = cr_loop_run_once(&real, INFINITY);
    ASSERT_EQ(ran, 1);
    ASSERT_TRUE(t.ran_at >= t0 + 0.02);
    ASSERT_TRUE(cr_loop_time(&real) - t0 < 5);
    cr_loop_free(&real);
}

/* An allocator that fails on demand. */
static int alloc_fail;
static void *test_alloc(void *data, void *ptr, size_t osize, size_t nsize) {
    (void)data;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (alloc_fail)
        return NULL;
    return realloc(ptr, nsize);
}

static void t_loop_alloc_failure(void) {
    enum { N = 70 };
    xh x[N];
    h_setup();
    H.alloc = test_alloc;
    alloc_fail = 1;
    xh_init(&x[0], 0);
    ASSERT_EQ(cr_loop_call_at(&H, &x[0].h, 1), CR_ENOMEM);
    ASSERT_EQ(x[0].h.where, CR_IN_NOTHING);
    ASSERT_EQ(H.heap_len, 0);
    alloc_fail = 0;
    for (int i = 0; i < 64; i++) {
        xh_init(&x[i], i);
        ASSERT_EQ(cr_loop_call_at(&H, &x[i].h, 1), CR_OK);
    }
    alloc_fail = 1; /* growing past the first block fails cleanly */
    xh_init(&x[64], 64);
    ASSERT_EQ(cr_loop_call_at(&H, &x[64].h, 0.5), CR_ENOMEM);
    ASSERT_EQ(H.heap_len, 64);
    ASSERT_TRUE(heap_ok(&H));
    alloc_fail = 0;
    for (int i = 64; i < N; i++) {
        xh_init(&x[i], i);
        ASSERT_EQ(cr_loop_call_at(&H, &x[i].h, 0.5), CR_OK);
    }
    ASSERT_TRUE(heap_ok(&H));
    h_run(10);
    for (int i = 0; i < N; i++)
        ASSERT_EQ(x[i].runs, 1);
    h_teardown();

    /* a sleep whose timer cannot be armed fails with CR_ENOMEM */
    static const act s[] = {SLEEP(1), END()};
    ttask a;
    h_setup();
    H.alloc = test_alloc;
    alloc_fail = 1;
    h_spawn(&a, "a", s);
    h_iter();
    alloc_fail = 0;
    ASSERT_STR_EQ(h_logstr(), "a:slept!nomem@1 a:failed@1");
    ASSERT_EQ(a.core.fut.failed, 1);
    ASSERT_EQ(H.heap_len, 0);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    h_teardown();
}

/* ------------------------------------------------------------------ */
/* Futures. */

static void t_future_callbacks(void) {
    cr_future f;
    xh a, b, c;
    h_setup();
    cr_future_init(&f, &H);
    xh_init(&a, 1);
    xh_init(&b, 2);
    xh_init(&c, 3);
    ASSERT_TRUE(!cr_future_done(&f));
    cr_future_add_callback(&f, &b.h);
    cr_future_add_callback(&f, &a.h);
    cr_future_add_callback(&f, &c.h);
    ASSERT_EQ(a.h.where, CR_IN_CALLBACKS);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    ASSERT_EQ(cr_future_set_result(&f, 42), 0);
    /* never inline: queued in registration order */
    ASSERT_EQ(a.runs + b.runs + c.runs, 0);
    ASSERT_EQ(a.h.where, CR_IN_READY);
    ASSERT_TRUE(cr_future_done(&f));
    ASSERT_EQ(f.state, CR_FINISHED);
    ASSERT_EQ(f.value, 42);
    ASSERT_EQ(cr_future_set_result(&f, 7), -1);
    ASSERT_EQ(cr_future_set_failed(&f), -1);
    ASSERT_EQ(cr_future_cancel(&f), 0);
    ASSERT_EQ(f.value, 42);
    ASSERT_EQ(f.state, CR_FINISHED);
    ASSERT_EQ(h_iter(), 3);
    ASSERT_STR_EQ(h_logstr(), "h2 h1 h3");
    /* a callback added to a done future is queued, not run */
    cr_future_add_callback(&f, &a.h);
    ASSERT_EQ(a.runs, 1);
    ASSERT_EQ(a.h.where, CR_IN_READY);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_EQ(a.runs, 2);
    h_teardown();
}

static void t_future_cancel_fail(void) {
    cr_future f, g, k;
    xh a, b, c;
    h_setup();
    cr_future_init(&f, &H);
    cr_future_init(&g, &H);
    cr_future_init(&k, &H);
    xh_init(&a, 1);
    xh_init(&b, 2);
    xh_init(&c, 3);
    cr_future_add_callback(&f, &a.h);
    cr_future_add_callback(&g, &b.h);
    ASSERT_EQ(cr_future_cancel(&g), 1);
    ASSERT_EQ(g.state, CR_CANCELLED);
    ASSERT_EQ(cr_future_cancel(&g), 0);
    ASSERT_EQ(cr_future_set_result(&g, 1), -1);
    ASSERT_EQ(cr_future_set_failed(&f), 0);
    ASSERT_EQ(f.state, CR_FINISHED);
    ASSERT_EQ(f.failed, 1);
    ASSERT_EQ(cr_future_cancel(&f), 0);
    ASSERT_EQ(cr_future_cancel_default(&f), 0);
    /* order of completion decides the order of callbacks */
    ASSERT_EQ(h_iter(), 2);
    ASSERT_STR_EQ(h_logstr(), "h2 h1");
    /* drop_callbacks unlinks without running */
    cr_future_add_callback(&k, &c.h);
    cr_future_drop_callbacks(&k);
    ASSERT_EQ(c.h.where, CR_IN_NOTHING);
    ASSERT_EQ(cr_future_set_result(&k, 0), 0);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    ASSERT_EQ(c.runs, 0);
    /* detach a callback handle */
    cr_future_init(&k, &H);
    cr_future_add_callback(&k, &c.h);
    cr_future_add_callback(&k, &a.h);
    cr_handle_detach(&H, &c.h);
    ASSERT_EQ(c.h.where, CR_IN_NOTHING);
    ASSERT_EQ(cr_future_cancel(&k), 1);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_EQ(c.runs, 0);
    ASSERT_EQ(a.runs, 2);
    h_teardown();
}

static int override_calls;
static int override_cancel(cr_future *f) {
    override_calls++;
    return cr_future_cancel_default(f);
}

static void t_future_cancel_override(void) {
    cr_future f;
    h_setup();
    cr_future_init(&f, &H);
    f.custom_cancel = 1;
    H.cancel_hook = override_cancel;
    override_calls = 0;
    ASSERT_EQ(cr_future_cancel(&f), 1);
    ASSERT_EQ(override_calls, 1);
    ASSERT_EQ(f.state, CR_CANCELLED);
    ASSERT_EQ(cr_future_cancel(&f), 0);
    ASSERT_EQ(override_calls, 2);
    H.cancel_hook = NULL;
    h_teardown();
}

/* ------------------------------------------------------------------ */
/* Tasks. */

static void record_current(ttask *self, void *obj) {
    (void)obj;
    self->user = (H.current == &self->core);
}

static void t_task_first_step(void) {
    static const act s[] = {LOGT("run"), CALL(record_current, NULL), END()};
    ttask a, b;
    h_setup();
    h_spawn(&a, "a", s);
    h_spawn(&b, "b", s);
    ASSERT_EQ(a.core.id, 1);
    ASSERT_EQ(b.core.id, 2);
    ASSERT_EQ(H.ntasks, 2);
    ASSERT_EQ(H.task_counter, 2);
    ASSERT_TRUE(H.tasks.next == &a.core.tasks_link);
    ASSERT_EQ(a.core.step.where, CR_IN_READY);
    ASSERT_EQ(a.core.started, 0);
    ASSERT_STR_EQ(h_logstr(), "");
    ASSERT_EQ(h_iter(), 2);
    ASSERT_STR_EQ(h_logstr(), "a:run@1 b:run@1");
    ASSERT_EQ(a.core.started, 1);
    ASSERT_EQ(a.user, 1);
    ASSERT_EQ(b.user, 1);
    ASSERT_TRUE(H.current == NULL);
    ASSERT_EQ(H.ntasks, 0);
    ASSERT_TRUE(cr_list_is_empty(&H.tasks));
    ASSERT_EQ(a.core.fut.state, CR_FINISHED);
    ASSERT_EQ(a.core.fut.failed, 0);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    h_teardown();
}

static ttask spawned;
static const act spawned_script[] = {LOGT("child"), END()};
static void spawn_child(ttask *self, void *obj) {
    (void)self;
    (void)obj;
    h_spawn(&spawned, "c", spawned_script);
}

static void t_task_yield(void) {
    static const act sa[] = {LOGT("a1"), YIELD(), LOGT("a2"), YIELD(), LOGT("a3"), END()};
    static const act sb[] = {LOGT("b1"), BLOCK_NULL(), LOGT("b2"), END()};
    static const act sc[] = {CALL(spawn_child, NULL), YIELD(), LOGT("after"), END()};
    static const act sd[] = {SLEEP(-1), LOGT("neg"), END()};
    ttask a, b, d;
    h_setup();
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    ASSERT_EQ(h_run(10), 3);
    ASSERT_STR_EQ(h_logstr(), "a:a1@1 b:b1@1 a:a2@2 b:b2@2 a:a3@3");
    /* a task spawned during a step runs next iteration; a yield goes
     * behind everything already queued */
    h_log_clear();
    h_iteration = 0;
    h_spawn(&a, "a", sc);
    ASSERT_EQ(h_run(10), 2);
    ASSERT_STR_EQ(h_logstr(), "c:child@2 a:after@2");
    /* a negative sleep is a yield */
    h_log_clear();
    h_iteration = 0;
    h_spawn(&d, "d", sd);
    ASSERT_EQ(h_run(10), 2);
    ASSERT_STR_EQ(h_logstr(), "d:slept@2 d:neg@2");
    ASSERT_DBL_EQ(cr_loop_time(&H), 0);
    h_teardown();
}

static void log_time(ttask *self, void *obj) {
    (void)obj;
    char buf[32];
    snprintf(buf, sizeof buf, "t=%.3f", cr_loop_time(&H));
    h_tlog(self, buf);
}

static void t_task_sleep_order(void) {
    static const act s3[] = {SLEEP(0.3), CALL(log_time, NULL), END()};
    static const act s1[] = {SLEEP(0.1), CALL(log_time, NULL), END()};
    static const act s2[] = {SLEEP(0.2), CALL(log_time, NULL), END()};
    ttask a, b, c, d;
    h_setup();
    h_spawn(&a, "a", s3);
    h_spawn(&b, "b", s1);
    h_spawn(&c, "c", s2);
    h_spawn(&d, "d", s1);
    ASSERT_EQ(h_iter(), 4);
    ASSERT_EQ(H.heap_len, 4);
    ASSERT_DBL_EQ(cr_loop_next_deadline(&H), 0.1);
    h_run(20);
    ASSERT_STR_EQ(h_logstr(), "b:slept@3 b:t=0.100@3 d:slept@3 d:t=0.100@3 "
                              "c:slept@5 c:t=0.200@5 a:slept@7 a:t=0.300@7");
    ASSERT_EQ(H.heap_len, 0);
    ASSERT_EQ(a.steps, 2);
    h_teardown();
}

static void t_task_await_future(void) {
    cr_future f, g, k;
    static const act sa[] = {AWAIT(NULL), LOGT("after"), END()};
    act s_a[3], s_b[3], s_c[3], s_d[3];
    ttask a, b, c, d;
    memcpy(s_a, sa, sizeof sa);
    memcpy(s_b, sa, sizeof sa);
    memcpy(s_c, sa, sizeof sa);
    memcpy(s_d, sa, sizeof sa);
    h_setup();
    cr_future_init(&f, &H);
    cr_future_init(&g, &H);
    cr_future_init(&k, &H);
    s_a[0].obj = &f;
    s_b[0].obj = &f;
    s_c[0].obj = &g;
    s_d[0].obj = &k;
    h_spawn(&a, "a", s_a);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_TRUE(a.core.waiting_on == &f);
    ASSERT_EQ(a.core.step.where, CR_IN_CALLBACKS);
    ASSERT_EQ(h_iter(), 0);
    ASSERT_EQ(cr_future_set_result(&f, 42), 0);
    ASSERT_EQ(a.core.step.where, CR_IN_READY);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_STR_EQ(h_logstr(), "a:await=42@3 a:after@3");
    /* awaiting a done future does not suspend */
    h_spawn(&b, "b", s_b);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_STR_EQ(h_logstr(), "a:await=42@3 a:after@3 b:await=42@4 b:after@4");
    ASSERT_EQ(b.steps, 1);
    /* a failed future fails the awaiting task; a cancelled one cancels it */
    h_log_clear();
    h_spawn(&c, "c", s_c);
    h_spawn(&d, "d", s_d);
    h_iter();
    cr_future_set_failed(&g);
    cr_future_cancel(&k);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "c:await!failed@6 c:failed@6 d:await!cancelled@6 d:cancelled@6");
    ASSERT_EQ(c.core.fut.failed, 1);
    ASSERT_EQ(d.core.fut.state, CR_CANCELLED);
    ASSERT_EQ(d.core.cancels_requested, 0);
    h_teardown();
}

static void t_task_await_task(void) {
    ttask a, b, c, e;
    act sb[] = {SLEEP(1), LOGT("b-done"), END()};
    act sa[] = {AWAIT(&b.core.fut), LOGT("a-after"), END()};
    act sc[] = {FAIL()};
    act se[] = {AWAIT(&c.core.fut), END()};
    h_setup();
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "b:slept@3 b:b-done@3 a:await=0@4 a:a-after@4");
    h_log_clear();
    h_iteration = 0;
    h_spawn(&e, "e", se);
    h_spawn(&c, "c", sc);
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "c:failed@1 e:await!failed@2 e:failed@2");
    ASSERT_EQ(c.core.fut.state, CR_FINISHED);
    ASSERT_EQ(c.core.fut.failed, 1);
    h_teardown();
}

static void t_task_cancel_before_start(void) {
    static const act s[] = {LOGT("body"), END()};
    ttask a;
    h_setup();
    h_spawn(&a, "a", s);
    ASSERT_EQ(cr_task_cancel(&a.core), 1);
    ASSERT_EQ(cr_task_cancel(&a.core), 1);
    ASSERT_EQ(a.core.cancels_requested, 2);
    ASSERT_EQ(a.core.must_cancel, 1);
    ASSERT_EQ(h_iter(), 1);
    ASSERT_STR_EQ(h_logstr(), "a:cancelled@1");
    ASSERT_EQ(a.steps, 1);
    ASSERT_EQ(a.cancel_steps, 1);
    ASSERT_EQ(a.core.fut.state, CR_CANCELLED);
    ASSERT_EQ(H.ntasks, 0);
    ASSERT_EQ(cr_task_cancel(&a.core), 0);
    ASSERT_EQ(a.core.cancels_requested, 2);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    /* cr_future_cancel on a task's future is Task.cancel */
    h_spawn(&a, "a2", s);
    ASSERT_EQ(cr_future_cancel(&a.core.fut), 1);
    ASSERT_EQ(a.core.cancels_requested, 1);
    ASSERT_EQ(a.core.fut.state, CR_PENDING);
    h_iter();
    ASSERT_EQ(a.core.fut.state, CR_CANCELLED);
    h_teardown();
}

static void t_task_cancel_blocked(void) {
    static const act s[] = {SLEEP(10), LOGT("woke"), END()};
    static const act sc[] = {SLEEP_C(10), LOGT("caught"), END()};
    ttask a, b;
    h_setup();
    h_spawn(&a, "a", s);
    h_spawn(&b, "b", sc);
    ASSERT_EQ(h_iter(), 2);
    ASSERT_EQ(H.heap_len, 2);
    ASSERT_TRUE(a.core.waiting_on == &a.core.wait.fut);
    ASSERT_EQ(cr_task_cancel(&a.core), 1);
    ASSERT_EQ(a.core.wait.fut.state, CR_CANCELLED);
    ASSERT_EQ(a.core.must_cancel, 0);
    ASSERT_EQ(a.core.step.where, CR_IN_READY);
    ASSERT_EQ(cr_task_cancel(&b.core), 1);
    ASSERT_STR_EQ(h_logstr(), "");
    /* woken one iteration later with the cancellation; time stays */
    ASSERT_EQ(h_iter(), 2);
    ASSERT_STR_EQ(h_logstr(), "a:slept!cancelled@2 a:cancelled@2 b:slept!cancelled@2 b:caught@2");
    ASSERT_DBL_EQ(cr_loop_time(&H), 0);
    ASSERT_EQ(H.heap_len, 0);
    ASSERT_EQ(a.core.fut.state, CR_CANCELLED);
    /* a task that catches the cancellation ends with its result */
    ASSERT_EQ(b.core.fut.state, CR_FINISHED);
    ASSERT_EQ(b.core.cancels_requested, 1);
    ASSERT_EQ(a.cancel_steps, 0); /* the wait future was cancelled instead */
    ASSERT_TRUE(cr_loop_is_idle(&H));
    h_teardown();
}

static void t_task_uncancel(void) {
    static const act s[] = {YIELD(), LOGT("a2"), END()};
    ttask a;
    h_setup();
    h_spawn(&a, "a", s);
    h_iter();
    ASSERT_TRUE(a.core.waiting_on == NULL);
    ASSERT_EQ(cr_task_cancel(&a.core), 1);
    ASSERT_EQ(a.core.must_cancel, 1);
    ASSERT_EQ(cr_task_cancel(&a.core), 1);
    ASSERT_EQ(a.core.cancels_requested, 2);
    ASSERT_EQ(cr_task_uncancel(&a.core), 1);
    ASSERT_EQ(a.core.must_cancel, 1);
    ASSERT_EQ(cr_task_uncancel(&a.core), 0);
    ASSERT_EQ(a.core.must_cancel, 0);
    ASSERT_EQ(cr_task_uncancel(&a.core), 0);
    ASSERT_EQ(a.core.cancels_requested, 0);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "a:a2@2");
    ASSERT_EQ(a.core.fut.state, CR_FINISHED);
    h_teardown();
}

static void t_task_must_cancel_queued(void) {
    cr_future f;
    ttask a, b;
    act sa[] = {AWAIT(&f), LOGT("after"), END()};
    static const act sb[] = {SLEEP(1), LOGT("after"), END()};
    h_setup();
    cr_future_init(&f, &H);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_iter();
    cr_future_set_result(&f, 7);
    ASSERT_EQ(a.core.step.where, CR_IN_READY);
    /* the step is already queued: the cancellation is thrown at it and
     * the result is dropped */
    ASSERT_EQ(cr_task_cancel(&a.core), 1);
    ASSERT_EQ(a.core.must_cancel, 1);
    ASSERT_EQ(f.state, CR_FINISHED);
    h_iter();
    ASSERT_EQ(b.core.step.where, CR_IN_CALLBACKS);
    h_iter(); /* jumps to 1: b's timer fires */
    ASSERT_DBL_EQ(cr_loop_time(&H), 1);
    ASSERT_EQ(b.core.step.where, CR_IN_READY);
    ASSERT_EQ(cr_task_cancel(&b.core), 1);
    ASSERT_EQ(b.core.must_cancel, 1);
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "a:await!cancelled@2 a:cancelled@2 b:slept!cancelled@4 b:cancelled@4");
    ASSERT_EQ(a.cancel_steps, 1);
    ASSERT_EQ(f.value, 7);
    ASSERT_EQ(a.core.fut.state, CR_CANCELLED);
    h_teardown();
}

static void t_task_cancel_propagates(void) {
    ttask a, b, c, d;
    act sb[] = {SLEEP_C(10), LOGT("b-caught"), END()};
    act sa[] = {AWAIT(&b.core.fut), LOGT("a-after"), END()};
    act sd[] = {SLEEP(10), END()};
    act sc[] = {AWAIT(&d.core.fut), LOGT("c-after"), END()};
    h_setup();
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_spawn(&c, "c", sc);
    h_spawn(&d, "d", sd);
    h_iter();
    /* cancelling a task that awaits another cancels the other one */
    ASSERT_EQ(cr_task_cancel(&a.core), 1);
    ASSERT_EQ(a.core.cancels_requested, 1);
    ASSERT_EQ(a.core.must_cancel, 0);
    ASSERT_EQ(b.core.cancels_requested, 1);
    ASSERT_EQ(b.core.wait.fut.state, CR_CANCELLED);
    ASSERT_EQ(cr_task_cancel(&c.core), 1);
    ASSERT_EQ(d.core.cancels_requested, 1);
    h_run(10);
    /* b catches and returns: a gets b's result, not a cancellation (as
     * asyncio); d does not: c sees the cancellation */
    ASSERT_STR_EQ(h_logstr(), "b:slept!cancelled@2 b:b-caught@2 d:slept!cancelled@2 d:cancelled@2 "
                              "a:await=0@3 a:a-after@3 c:await!cancelled@3 c:cancelled@3");
    ASSERT_EQ(a.core.fut.state, CR_FINISHED);
    ASSERT_EQ(c.core.fut.state, CR_CANCELLED);
    ASSERT_DBL_EQ(cr_loop_time(&H), 0);
    h_teardown();
}

static void t_task_self_cancel(void) {
    ttask a, b;
    act sa[] = {CANCEL(&a.core), END()};
    act sb[] = {CANCEL(&b.core), SLEEP(5), LOGT("woke"), END()};
    h_setup();
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_run(10);
    /* returning with a pending cancellation ends cancelled; blocking
     * with one cancels what the task blocks on at once */
    ASSERT_STR_EQ(h_logstr(), "a:cancel=1@1 b:cancel=1@1 b:slept!cancelled@2 b:cancelled@2");
    ASSERT_EQ(a.core.fut.state, CR_CANCELLED);
    ASSERT_EQ(b.core.fut.state, CR_CANCELLED);
    ASSERT_DBL_EQ(cr_loop_time(&H), 0);
    ASSERT_EQ(H.heap_len, 0);
    h_teardown();
}

static void t_task_interrupt(void) {
    ttask a, b, c, d, e;
    act sa[] = {SLEEP(10), LOGT("woke"), END()};
    act sb[] = {SLEEP(1), LOGT("b-done"), END()};
    act sc[] = {AWAIT(&b.core.fut), LOGT("c-after"), END()};
    act sd[] = {YIELD(), LOGT("d-after"), END()};
    act se[] = {LOGT("e-body"), END()};
    h_setup();
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_spawn(&c, "c", sc);
    h_spawn(&d, "d", sd);
    h_spawn(&e, "e", se);
    cr_task_interrupt(&e.core); /* before its first step */
    ASSERT_EQ(e.core.cancels_requested, 0);
    h_iter();
    ASSERT_STR_EQ(h_logstr(), "e:cancelled@1");
    cr_task_interrupt(&a.core);
    ASSERT_EQ(a.core.step.where, CR_IN_READY);
    ASSERT_TRUE(a.core.waiting_on == NULL);
    ASSERT_EQ(a.core.wait.fut.state, CR_PENDING); /* not cancelled */
    cr_task_interrupt(&c.core);
    ASSERT_TRUE(cr_list_is_empty(&b.core.fut.callbacks));
    cr_task_interrupt(&d.core); /* step already queued: not queued twice */
    ASSERT_EQ(d.core.step.where, CR_IN_READY);
    cr_task_interrupt(&e.core); /* done: no-op */
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "e:cancelled@1 d:yield!cancelled@2 d:cancelled@2 a:slept!cancelled@2 "
                              "a:cancelled@2 c:await!cancelled@2 c:cancelled@2 b:slept@4 b:b-done@4");
    ASSERT_EQ(a.core.cancels_requested, 0);
    ASSERT_EQ(b.core.fut.state, CR_FINISHED); /* the awaited task goes on */
    ASSERT_EQ(c.core.fut.state, CR_CANCELLED);
    ASSERT_EQ(H.heap_len, 0);
    ASSERT_EQ(H.ntasks, 0);
    h_teardown();
}

static void t_task_interrupt_lock(void) {
    /* interrupted while queued on a lock: the waiter leaves the queue */
    cr_lock l;
    ttask a, b;
    act sa[] = {LOCK(&l), UNLOCK(&l), END()};
    act sb[] = {LOCK(&l), UNLOCK(&l), END()};
    h_setup();
    cr_lock_init(&l);
    ASSERT_EQ(cr_lock_try(&l, NULL), 1);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_iter();
    ASSERT_EQ(l.waiters.n, 2);
    cr_task_interrupt(&a.core);
    ASSERT_EQ(cr_lock_release(&l), CR_OK); /* wakes a's (pending) wait future */
    h_run(10);
    ASSERT_STR_EQ(h_logstr(), "a:lock!cancelled@2 a:cancelled@2 b:lock@3");
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(l.locked, 0);
    h_teardown();
}

static void t_task_fail_and_abandon(void) {
    cr_lock l;
    ttask a, b, c;
    act sa[] = {LOCK(&l), END()};
    act sb[] = {SLEEP(3), END()};
    act sc[] = {YIELD(), END()};
    h_setup();
    cr_lock_init(&l);
    cr_lock_try(&l, NULL);
    h_spawn(&a, "a", sa);
    h_spawn(&b, "b", sb);
    h_spawn(&c, "c", sc);
    h_iter();
    ASSERT_EQ(H.ntasks, 3);
    cr_task_abandon(&a.core);
    ASSERT_EQ(l.waiters.n, 0);
    ASSERT_EQ(a.core.fut.state, CR_CANCELLED);
    cr_task_abandon(&b.core);
    ASSERT_EQ(H.heap_len, 0);
    cr_task_abandon(&c.core);
    ASSERT_EQ(H.ntasks, 0);
    ASSERT_TRUE(cr_loop_is_idle(&H));
    cr_task_abandon(&c.core); /* twice: harmless */
    ASSERT_EQ(h_iter(), 0);
    h_teardown();
}

void suite_core(void) {
    TEST("list: push, remove, pop, splice", t_list());
    TEST("heap: timers fire by (deadline, arming order)", t_heap_order());
    TEST("heap: detach from the middle keeps the order", t_heap_detach());
    TEST("heap: 5000 random timers pop sorted", t_heap_random());
    TEST("loop: handles queued during an iteration run the next", t_loop_snapshot());
    TEST("loop: a due timer armed during an iteration runs the next", t_loop_timer_armed_during_iteration());
    TEST("loop: ready handles run before timers due in the iteration", t_loop_ready_before_timers());
    TEST("loop: detached and cancelled handles are skipped", t_loop_detach_in_batch());
    TEST("loop: virtual clock and next_deadline", t_loop_clock());
    TEST("loop: custom and monotonic clocks", t_loop_custom_and_real_clock());
    TEST("loop: allocation failure arming a timer (and a sleep)", t_loop_alloc_failure());
    TEST("future: callbacks queued in order, never inline", t_future_callbacks());
    TEST("future: cancel, fail, drop and detach callbacks", t_future_cancel_fail());
    TEST("future: cancel override", t_future_cancel_override());
    TEST("task: first step on the next iteration", t_task_first_step());
    TEST("task: a bare yield costs one iteration", t_task_yield());
    TEST("task: sleeps wake by deadline, one iteration after the timer", t_task_sleep_order());
    TEST("task: await a future", t_task_await_future());
    TEST("task: await a task", t_task_await_task());
    TEST("task: cancel before the first step", t_task_cancel_before_start());
    TEST("task: cancel while blocked on the wait future", t_task_cancel_blocked());
    TEST("task: cancels_requested and uncancel", t_task_uncancel());
    TEST("task: must_cancel when the step is already queued", t_task_must_cancel_queued());
    TEST("task: cancel propagates to the awaited task", t_task_cancel_propagates());
    TEST("task: a task cancelling itself", t_task_self_cancel());
    TEST("task: interrupt", t_task_interrupt());
    TEST("task: interrupt while queued on a lock", t_task_interrupt_lock());
    TEST("task: abandon", t_task_fail_and_abandon());
}
