/*
 * prim.h - pieces the primitives share inside the core: the two halves
 * of a lock acquisition and of a condition wait, so that composite
 * operations (Condition.wait, Barrier.wait) can nest them.
 */
#ifndef CORRAL_PRIM_H
#define CORRAL_PRIM_H

#include "core.h"

/* CR_OK when taken at once, CR_WAIT when queued (the task must block). */
int cr_lock_acquire_begin(cr_task *task, cr_lock *lock);
/* After the wakeup: CR_OK (taken) or CR_ECANCELLED. */
int cr_lock_acquire_end(cr_task *task, cr_lock *lock);

/* A condition wait as a sub-machine: `*sub` starts at 0, `*error` at 0.
 * Returns CR_WAIT to suspend, CR_OK or CR_ECANCELLED when over; the lock
 * is held again in both cases. */
int cr_cond_wait_step(cr_task *task, cr_cond *cond, int8_t *sub, int8_t *error);

#endif
