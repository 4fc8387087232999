/*
 * harness.h - drive the corral core from C: test tasks are C state
 * machines running a script of actions, with an event log.
 *
 * A test task (ttask) embeds a cr_task and runs `script` from `pc`.  Each
 * step runs actions until one blocks (a cr_op returned CR_WAIT: the step
 * reports CR_STEP_BLOCKED and the next step runs the op again) or the
 * script ends.  This is the protocol of csrc/lua/lloop.c (loop_step) and
 * the Lua primitives (lcr_op_wait): a task cancelled before its first
 * step runs none of its script; an op that returns an error ends the task
 * (CR_STEP_CANCELLED for CR_ECANCELLED, CR_STEP_FAILED otherwise) unless
 * the action is marked `catch_`.
 *
 * The log is a string of space-separated events "name:what@iteration",
 * where iteration is the 1-based number of the cr_loop_run_once call made
 * through h_iter()/h_run().
 */
#ifndef CORRAL_TEST_HARNESS_H
#define CORRAL_TEST_HARNESS_H

#include <stddef.h>

#include "../../csrc/core/core.h"
#include "../../csrc/core/prim.h"

enum act_kind {
    A_END = 0,     /* return normally */
    A_FAIL,        /* raise an error */
    A_SLEEP,       /* cr_op_sleep(d); logs "slept" */
    A_YIELD,       /* cr_op_sleep(0); silent */
    A_BLOCK_NULL,  /* cr_task_block_on(NULL) directly (bare yield); silent */
    A_LOCK,        /* cr_op_lock_acquire; logs "lock" */
    A_UNLOCK,      /* cr_lock_release; silent unless it fails */
    A_EV_WAIT,     /* cr_op_event_wait; logs "ev" */
    A_EV_SET,      /* cr_event_set; silent */
    A_EV_CLEAR,    /* cr_event_clear; silent */
    A_COND_WAIT,   /* cr_op_cond_wait; logs "cwait" */
    A_NOTIFY,      /* cr_cond_notify(n); silent unless it fails */
    A_SEMA_ACQ,    /* cr_op_sema_acquire; logs "acq" */
    A_SEMA_REL,    /* cr_sema_release; silent unless it fails */
    A_BAR_WAIT,    /* cr_op_barrier_wait; logs "bar<index>" */
    A_BAR_RESET,   /* cr_op_barrier_reset; logs "reset" */
    A_BAR_ABORT,   /* cr_op_barrier_abort; logs "abort" */
    A_AWAIT,       /* cr_op_await(obj = cr_future*); logs "await=<value>" */
    A_Q_PUT,       /* cr_op_queue_put(obj = cr_queue*, item n); logs "put=<item>" */
    A_Q_GET,       /* cr_op_queue_get(obj = cr_queue*); logs "get=<item>" */
    A_Q_JOIN,      /* cr_op_queue_join(obj = cr_queue*); logs "joined" */
    A_CANCEL,      /* cr_task_cancel(obj = cr_task*); logs "cancel=<rc>" */
    A_CALL,        /* fn(self, obj); silent */
    A_LOG,         /* logs tag */
};

typedef struct ttask ttask;
typedef void (*act_fn)(ttask *self, void *obj);

typedef struct act {
    int kind;          /* enum act_kind */
    void *obj;         /* the primitive / queue / future / task operated on */
    double d;          /* sleep delay */
    long n;            /* notify count; the item (A_Q_PUT) */
    int catch_;        /* errors of this action are logged and the script goes on */
    const char *tag;   /* log text (A_LOG), or overrides the op's log name */
    act_fn fn;         /* A_CALL */
} act;

#define END()            {.kind = A_END}
#define FAIL()           {.kind = A_FAIL}
#define SLEEP(x)         {.kind = A_SLEEP, .d = (x)}
#define SLEEP_C(x)       {.kind = A_SLEEP, .d = (x), .catch_ = 1}
#define YIELD()          {.kind = A_YIELD}
#define YIELD_C()        {.kind = A_YIELD, .catch_ = 1}
#define BLOCK_NULL()     {.kind = A_BLOCK_NULL}
#define LOCK(o)          {.kind = A_LOCK, .obj = (o)}
#define LOCK_C(o)        {.kind = A_LOCK, .obj = (o), .catch_ = 1}
#define UNLOCK(o)        {.kind = A_UNLOCK, .obj = (o)}
#define UNLOCK_C(o)      {.kind = A_UNLOCK, .obj = (o), .catch_ = 1}
#define EV_WAIT(o)       {.kind = A_EV_WAIT, .obj = (o)}
#define EV_SET(o)        {.kind = A_EV_SET, .obj = (o)}
#define EV_CLEAR(o)      {.kind = A_EV_CLEAR, .obj = (o)}
#define COND_WAIT(o)     {.kind = A_COND_WAIT, .obj = (o)}
#define COND_WAIT_C(o)   {.kind = A_COND_WAIT, .obj = (o), .catch_ = 1}
#define NOTIFY(o, k)     {.kind = A_NOTIFY, .obj = (o), .n = (k)}
#define NOTIFY_C(o, k)   {.kind = A_NOTIFY, .obj = (o), .n = (k), .catch_ = 1}
#define SEMA_ACQ(o)      {.kind = A_SEMA_ACQ, .obj = (o)}
#define SEMA_ACQ_C(o)    {.kind = A_SEMA_ACQ, .obj = (o), .catch_ = 1}
#define SEMA_REL(o)      {.kind = A_SEMA_REL, .obj = (o)}
#define SEMA_REL_C(o)    {.kind = A_SEMA_REL, .obj = (o), .catch_ = 1}
#define BAR_WAIT(o)      {.kind = A_BAR_WAIT, .obj = (o)}
#define BAR_WAIT_C(o)    {.kind = A_BAR_WAIT, .obj = (o), .catch_ = 1}
#define BAR_RESET(o)     {.kind = A_BAR_RESET, .obj = (o)}
#define BAR_ABORT(o)     {.kind = A_BAR_ABORT, .obj = (o)}
#define Q_PUT(o, x)      {.kind = A_Q_PUT, .obj = (o), .n = (x)}
#define Q_PUT_C(o, x)    {.kind = A_Q_PUT, .obj = (o), .n = (x), .catch_ = 1}
#define Q_GET(o)         {.kind = A_Q_GET, .obj = (o)}
#define Q_GET_C(o)       {.kind = A_Q_GET, .obj = (o), .catch_ = 1}
#define Q_JOIN(o)        {.kind = A_Q_JOIN, .obj = (o)}
#define AWAIT(o)         {.kind = A_AWAIT, .obj = (o)}
#define AWAIT_C(o)       {.kind = A_AWAIT, .obj = (o), .catch_ = 1}
#define CANCEL(o)        {.kind = A_CANCEL, .obj = (o)}
#define CALL(f, o)       {.kind = A_CALL, .fn = (f), .obj = (o)}
#define LOGT(t)          {.kind = A_LOG, .tag = (t)}

enum { T_RUNNING = 0, T_RETURNED, T_FAILED, T_CANCELLED };

struct ttask {
    cr_task core;        /* the core task (first member) */
    const char *name;    /* for the log */
    const act *script;   /* actions, ended by A_END or A_FAIL */
    int pc;              /* next action */
    int in_op;           /* an op is suspended: the next step resumes it */
    int launched;        /* the first step ran */
    int ended;           /* T_* */
    int last_rc;         /* result of the last finished action */
    long last_value;     /* op.value of the last op (barrier index) */
    int steps;           /* steps run */
    int cancel_steps;    /* steps run with cancel = 1 */
    long user;           /* free for the test */
};

/* The loop every harness task runs on. */
extern cr_loop H;
/* Iterations run through h_iter() since h_setup(). */
extern int h_iteration;
/* 1: h_log() records nothing (stress tests). */
extern int h_quiet;

/* Fresh loop (virtual clock), empty log. */
void h_setup(void);
/* Free the loop's storage. */
void h_teardown(void);
/* Abandon every task still on the loop (cr_task_abandon), detaching it from
 * what it waits on: before a test frees that itself (a queue). */
void h_abandon_all(void);
/* Initialise `t` with `script` and schedule its first step. */
void h_spawn(ttask *t, const char *name, const act *script);
/* One iteration (timeout INFINITY); returns cr_loop_run_once's count. */
size_t h_iter(void);
/* Iterate until the loop is idle (at most `max` iterations); returns the
 * number of iterations run. */
int h_run(int max);
/* Append a formatted event to the log (adds the separator). */
void h_log(const char *fmt, ...);
/* Log an event for a task: "name:what@iteration". */
void h_tlog(const ttask *t, const char *what);
/* The log so far (events separated by single spaces). */
const char *h_logstr(void);
void h_log_clear(void);
/* Name of a CR_* code. */
const char *h_errname(int rc);

#endif
