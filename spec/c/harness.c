/*
 * harness.c - the scripted test tasks of harness.h.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

cr_loop H;
int h_iteration;
int h_quiet;

static char log_buf[1 << 16];
static size_t log_len;

void h_log_clear(void) {
    log_len = 0;
    log_buf[0] = '\0';
}

void h_log(const char *fmt, ...) {
    if (h_quiet || log_len + 2 >= sizeof log_buf)
        return;
    if (log_len > 0)
        log_buf[log_len++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(log_buf + log_len, sizeof log_buf - log_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        log_len += (size_t)n < sizeof log_buf - log_len ? (size_t)n : sizeof log_buf - log_len - 1;
    log_buf[log_len] = '\0';
}

void h_tlog(const ttask *t, const char *what) {
    h_log("%s:%s@%d", t->name, what, h_iteration);
}

const char *h_logstr(void) {
    return log_buf;
}

const char *h_errname(int rc) {
    switch (rc) {
    case CR_OK: return "ok";
    case CR_WAIT: return "wait";
    case CR_ECANCELLED: return "cancelled";
    case CR_EFAILED: return "failed";
    case CR_EBROKEN: return "broken";
    case CR_ERESET: return "reset";
    case CR_ENOMEM: return "nomem";
    case CR_EINVAL: return "einval";
    case CR_EQUEUE_EMPTY: return "empty";
    case CR_EQUEUE_FULL: return "full";
    case CR_EQUEUE_SHUTDOWN: return "shutdown";
    default: return "?";
    }
}

static ttask *as_ttask(cr_task *task) {
    return cr_container_of(task, ttask, core);
}

/* Log name of an action, or NULL for a silent one. */
static const char *act_name(const act *a) {
    if (a->tag != NULL)
        return a->tag;
    switch (a->kind) {
    case A_SLEEP: return "slept";
    case A_LOCK: return "lock";
    case A_EV_WAIT: return "ev";
    case A_COND_WAIT: return "cwait";
    case A_SEMA_ACQ: return "acq";
    case A_BAR_WAIT: return "bar";
    case A_BAR_RESET: return "reset";
    case A_BAR_ABORT: return "abort";
    case A_AWAIT: return "await";
    case A_Q_PUT: return "put";
    case A_Q_GET: return "get";
    case A_Q_JOIN: return "join";
    case A_UNLOCK: return "unlock";
    case A_NOTIFY: return "notify";
    case A_SEMA_REL: return "rel";
    case A_YIELD: return "yield";
    default: return "?";
    }
}

static int act_silent_on_success(const act *a) {
    if (a->kind == A_LOG || a->kind == A_CANCEL)
        return 1; /* logged by run_script */
    if (a->tag != NULL)
        return 0;
    switch (a->kind) {
    case A_YIELD:
    case A_BLOCK_NULL:
    case A_UNLOCK:
    case A_EV_SET:
    case A_EV_CLEAR:
    case A_NOTIFY:
    case A_SEMA_REL:
    case A_CALL:
        return 1;
    default:
        return 0;
    }
}

static void end_task(ttask *t, int result) {
    switch (result) {
    case CR_STEP_RETURNED:
        t->ended = T_RETURNED;
        break;
    case CR_STEP_FAILED:
        t->ended = T_FAILED;
        h_tlog(t, "failed");
        break;
    default:
        t->ended = T_CANCELLED;
        h_tlog(t, "cancelled");
        break;
    }
    cr_task_step_done(&t->core, result);
}

/* An action finished with `rc`: log it; 1 to go on, 0 if the task ended. */
static int act_finished(ttask *t, int rc) {
    const act *a = &t->script[t->pc];
    char buf[64];
    if (rc == CR_OK && a->kind == A_AWAIT) {
        /* As the Lua binding: inspect the awaited future's outcome. */
        cr_future *f = a->obj;
        if (f->state == CR_CANCELLED)
            rc = CR_ECANCELLED;
        else if (f->failed)
            rc = CR_EFAILED;
    }
    t->last_rc = rc;
    t->last_value = t->core.op.value;
    if (rc == CR_OK) {
        if (act_silent_on_success(a))
            return 1;
        if (a->kind == A_BAR_WAIT && a->tag == NULL)
            snprintf(buf, sizeof buf, "bar%ld", t->core.op.value);
        else if (a->kind == A_AWAIT && a->tag == NULL)
            snprintf(buf, sizeof buf, "await=%d", ((cr_future *)a->obj)->value);
        else if (a->kind == A_Q_GET && a->tag == NULL)
            snprintf(buf, sizeof buf, "get=%ld", t->core.op.value);
        else if (a->kind == A_Q_PUT && a->tag == NULL)
            snprintf(buf, sizeof buf, "put=%ld", a->n);
        else if (a->kind == A_Q_JOIN && a->tag == NULL)
            snprintf(buf, sizeof buf, "joined");
        else
            snprintf(buf, sizeof buf, "%s", act_name(a));
        h_tlog(t, buf);
        return 1;
    }
    snprintf(buf, sizeof buf, "%s!%s", act_name(a), h_errname(rc));
    h_tlog(t, buf);
    if (a->catch_)
        return 1;
    end_task(t, rc == CR_ECANCELLED ? CR_STEP_CANCELLED : CR_STEP_FAILED);
    return 0;
}

/* Run the op set up in the task: 1 to go on, 0 if the step is over. */
static int run_op(ttask *t) {
    int rc = cr_op_run(&t->core);
    if (rc == CR_WAIT) {
        t->in_op = 1;
        cr_task_step_done(&t->core, CR_STEP_BLOCKED);
        return 0;
    }
    if (!act_finished(t, rc))
        return 0;
    t->pc++;
    return 1;
}

static void run_script(ttask *t) {
    cr_task *ct = &t->core;
    for (;;) {
        const act *a = &t->script[t->pc];
        int rc = CR_OK;
        switch (a->kind) {
        case A_END:
            end_task(t, CR_STEP_RETURNED);
            return;
        case A_FAIL:
            end_task(t, CR_STEP_FAILED);
            return;
        case A_SLEEP:
            cr_op_sleep(ct, a->d);
            if (!run_op(t))
                return;
            continue;
        case A_YIELD:
            cr_op_sleep(ct, 0);
            if (!run_op(t))
                return;
            continue;
        case A_BLOCK_NULL:
            /* A bare yield without an op: the next step just goes on. */
            t->pc++;
            cr_task_block_on(ct, NULL);
            cr_task_step_done(ct, CR_STEP_BLOCKED);
            return;
        case A_LOCK:
            cr_op_lock_acquire(ct, a->obj);
            if (!run_op(t))
                return;
            continue;
        case A_UNLOCK:
            rc = cr_lock_release(a->obj);
            break;
        case A_EV_WAIT:
            cr_op_event_wait(ct, a->obj);
            if (!run_op(t))
                return;
            continue;
        case A_EV_SET:
            cr_event_set(a->obj);
            break;
        case A_EV_CLEAR:
            cr_event_clear(a->obj);
            break;
        case A_COND_WAIT:
            rc = cr_op_cond_wait(ct, a->obj);
            if (rc != CR_OK)
                break;
            if (!run_op(t))
                return;
            continue;
        case A_NOTIFY:
            rc = cr_cond_notify(a->obj, (size_t)a->n);
            break;
        case A_SEMA_ACQ:
            cr_op_sema_acquire(ct, a->obj);
            if (!run_op(t))
                return;
            continue;
        case A_SEMA_REL:
            rc = cr_sema_release(a->obj);
            break;
        case A_BAR_WAIT:
            cr_op_barrier_wait(ct, a->obj);
            if (!run_op(t))
                return;
            continue;
        case A_BAR_RESET:
            cr_op_barrier_reset(ct, a->obj);
            if (!run_op(t))
                return;
            continue;
        case A_BAR_ABORT:
            cr_op_barrier_abort(ct, a->obj);
            if (!run_op(t))
                return;
            continue;
        case A_AWAIT:
            cr_op_await(ct, a->obj);
            if (!run_op(t))
                return;
            continue;
        case A_Q_PUT:
            cr_op_queue_put(ct, a->obj, a->n);
            if (!run_op(t))
                return;
            continue;
        case A_Q_GET:
            cr_op_queue_get(ct, a->obj);
            if (!run_op(t))
                return;
            continue;
        case A_Q_JOIN:
            cr_op_queue_join(ct, a->obj);
            if (!run_op(t))
                return;
            continue;
        case A_CANCEL: {
            char buf[32];
            snprintf(buf, sizeof buf, "cancel=%d", cr_task_cancel(a->obj));
            h_tlog(t, buf);
            break;
        }
        case A_CALL:
            a->fn(t, a->obj);
            break;
        case A_LOG:
            h_tlog(t, a->tag);
            break;
        default:
            assert(0);
            return;
        }
        /* A synchronous action. */
        if (!act_finished(t, rc))
            return;
        t->pc++;
    }
}

static void step_fn(cr_loop *loop, cr_task *task, int cancel) {
    ttask *t = as_ttask(task);
    (void)loop;
    assert(loop->current == task);
    assert(!t->ended);
    t->steps++;
    if (cancel)
        t->cancel_steps++;
    if (!t->launched) {
        t->launched = 1;
        if (cancel) {
            /* Cancelled before its first step: the body never runs. */
            end_task(t, CR_STEP_CANCELLED);
            return;
        }
    } else if (t->in_op) {
        t->in_op = 0;
        if (!run_op(t))
            return;
    } else if (cancel) {
        /* Resumed from a bare yield (A_BLOCK_NULL) with a cancellation. */
        h_tlog(t, "yield!cancelled");
        end_task(t, CR_STEP_CANCELLED);
        return;
    }
    run_script(t);
}

void h_setup(void) {
    cr_loop_init(&H, step_fn, 1);
    h_iteration = 0;
    h_quiet = 0;
    h_log_clear();
}

void h_teardown(void) {
    cr_loop_free(&H);
}

void h_abandon_all(void) {
    while (!cr_list_is_empty(&H.tasks))
        cr_task_abandon(cr_container_of(H.tasks.next, cr_task, tasks_link));
}

void h_spawn(ttask *t, const char *name, const act *script) {
    memset(t, 0, sizeof *t);
    t->name = name;
    t->script = script;
    cr_task_init(&t->core, &H);
}

size_t h_iter(void) {
    h_iteration++;
    return cr_loop_run_once(&H, INFINITY);
}

int h_run(int max) {
    int n = 0;
    while (n < max && !cr_loop_is_idle(&H)) {
        h_iter();
        n++;
    }
    return n;
}
