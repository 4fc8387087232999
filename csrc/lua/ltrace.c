/*
 * ltrace.c - the `trace` option: a Chrome trace-event file (viewable in
 * Perfetto or chrome://tracing) with one track per task, a slice per step
 * ("run"), a slice per wait named after what the task waited on, and
 * instants for spawn, wake and cancel.  Times are the loop's clock.
 */
#include <stdio.h>
#include <string.h>

#include "lcorral.h"

/* Per anchor slot: when the task's current wait began, and whether its
 * track has been named. */
typedef struct trace_slot {
    double mark;             /* start of the current step or wait (µs) */
    const char *what;        /* what the task waits on, or NULL */
    int named;               /* its track name was written */
} trace_slot;

static double now_us(lloop *loop) {
    return (cr_loop_time(&loop->core) - loop->trace_t0) * 1e6;
}

static void write_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Start an event object (with the separating comma). */
static FILE *begin_event(lloop *loop) {
    FILE *f = loop->trace;
    if (!loop->trace_first)
        fputs(",\n", f);
    loop->trace_first = 0;
    return f;
}

static trace_slot *slot_of(lloop *loop, ltask *task) {
    if (task->slot <= 0)
        return NULL;
    if (task->slot >= loop->trace_cap) {
        int cap = loop->trace_cap ? loop->trace_cap : 64;
        while (cap <= task->slot)
            cap *= 2;
        trace_slot *slots = loop->core.alloc(loop->core.alloc_data, loop->trace_slots,
                                             (size_t)loop->trace_cap * sizeof *slots, (size_t)cap * sizeof *slots);
        if (slots == NULL)
            return NULL;
        memset(slots + loop->trace_cap, 0, (size_t)(cap - loop->trace_cap) * sizeof *slots);
        loop->trace_slots = slots;
        loop->trace_cap = cap;
    }
    return &((trace_slot *)loop->trace_slots)[task->slot];
}

void lcr_trace_open(lua_State *L, lloop *loop, const char *path) {
    FILE *f = fopen(path, "w");
    if (f == NULL)
        luaL_error(L, "bad option 'trace' (cannot open '%s' for writing)", path);
    loop->trace = f;
    loop->trace_first = 1;
    loop->trace_t0 = cr_loop_time(&loop->core);
    fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", f);
    FILE *e = begin_event(loop);
    fputs("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"loop\"}}", e);
}

void lcr_trace_close(lloop *loop) {
    if (loop->trace == NULL)
        return;
    fputs("\n]}\n", loop->trace);
    fclose(loop->trace);
    loop->trace = NULL;
    if (loop->trace_slots != NULL)
        loop->core.alloc(loop->core.alloc_data, loop->trace_slots,
                         (size_t)loop->trace_cap * sizeof(trace_slot), 0);
    loop->trace_slots = NULL;
    loop->trace_cap = 0;
}

static void instant(lloop *loop, unsigned long long tid, const char *name, const char *arg) {
    FILE *f = begin_event(loop);
    fprintf(f, "{\"name\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%llu,\"ts\":%.3f", name, tid,
            now_us(loop));
    if (arg != NULL) {
        fputs(",\"args\":{\"task\":", f);
        write_json_string(f, arg);
        fputc('}', f);
    }
    fputc('}', f);
}

void lcr_trace_spawn(lua_State *L, lloop *loop, ltask *task) {
    cr_task *parent = loop->core.current;
    char name[32];
    (void)L;
    trace_slot *slot = slot_of(loop, task); /* slots are reused: start afresh */
    if (slot != NULL) {
        slot->mark = 0;
        slot->what = NULL;
        slot->named = 0;
    }
    snprintf(name, sizeof name, "Task-%llu", (unsigned long long)task->core.id);
    instant(loop, parent ? (unsigned long long)parent->id : 0, "spawn", name);
}

void lcr_trace_cancel(lloop *loop, ltask *task) {
    instant(loop, (unsigned long long)task->core.id, "cancel", NULL);
}

void lcr_trace_step_begin(lua_State *L, lloop *loop, ltask *task) {
    trace_slot *slot = slot_of(loop, task);
    unsigned long long tid = (unsigned long long)task->core.id;
    if (slot != NULL && !slot->named) {
        slot->named = 1;
        lcr_push_pending_task(L, task);
        lcr_task_push_name(L, task, -1);
        FILE *f = begin_event(loop);
        fprintf(f, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%llu,\"args\":{\"name\":", tid);
        write_json_string(f, lua_tostring(L, -1));
        fputs("}}", f);
        lua_pop(L, 2);
    }
    if (slot != NULL && slot->what != NULL) {
        double start = slot->mark, end = now_us(loop);
        FILE *f = begin_event(loop);
        fputs("{\"name\":", f);
        write_json_string(f, slot->what);
        fprintf(f, ",\"cat\":\"wait\",\"ph\":\"X\",\"pid\":1,\"tid\":%llu,\"ts\":%.3f,\"dur\":%.3f}", tid, start,
                end - start);
        instant(loop, tid, "wake", NULL);
    }
    if (slot != NULL) {
        slot->mark = now_us(loop); /* the step starts */
        slot->what = NULL;
    }
}

void lcr_trace_step_end(lloop *loop, ltask *task) {
    trace_slot *slot = slot_of(loop, task);
    if (slot == NULL)
        return;
    double start = slot->mark, end = now_us(loop);
    FILE *f = begin_event(loop);
    fprintf(f, "{\"name\":\"run\",\"ph\":\"X\",\"pid\":1,\"tid\":%llu,\"ts\":%.3f,\"dur\":%.3f}",
            (unsigned long long)task->core.id, start, end - start);
    /* a blocked task's wait begins now */
    slot->what = task->blocker ? task->blocker->what : NULL;
    slot->mark = end;
}
