#!/usr/bin/env python3
"""Differential-testing program generator: corral (Lua) vs asyncio (Python 3.13).

From a seed, builds one random concurrent program as a small tree of
operations and emits it twice: as a Python asyncio script and as a Lua
script for build/corral.  Both print the same event log line by line, so
their stdout must be identical.

Time: both sides run on a virtual clock.  The Python side uses an event
loop whose selector advances a virtual time instead of sleeping, and whose
timers are ordered by (deadline, creation sequence) -- asyncio's heap leaves
the order of equal deadlines unspecified, corral (SEMANTICS.md) makes it
FIFO.  All durations are multiples of 1/8 s, so every deadline is exact in
binary floating point on both sides.  Two more places where asyncio's order
depends on set iteration (object hashes) are pinned to the order corral
uses: TaskGroup._abort cancels in creation order, as_completed registers its
callbacks in list order.  If asyncio ever finds nothing ready and no timer
(it would hang), the Python side prints DEADLOCK; the Lua side prints
DEADLOCK when corral raises DeadlockError in main.

What a program does: main spawns 2-6 workers (and maybe a ticker task that
logs "tick i" at each sleep(0), which makes iteration offsets visible), runs
its own ops under timeout(100), then cancels whatever is left in rounds and
logs every task's final state.  Workers and children run random ops on
Lock, Event, Semaphore/BoundedSemaphore, Condition, Queue/LifoQueue/
PriorityQueue, Barrier and Future, and compound ops: catch CancelledError
(maybe uncancel), timeout, wait_for (function and task), children awaited
or gathered (with/without return_exceptions), TaskGroup, shield, wait,
as_completed, repeat, raise, cancel (maybe with a message), callbacks.

Usage:
  gen.py SEED py|lua            print one form
  gen.py SEED both DIR          write DIR/SEED.py and DIR/SEED.lua
The program tree is also available to other tools: gen.generate(seed) ->
Program, emit_py(prog), emit_lua(prog).
"""
import random
import sys

# ---------------------------------------------------------------------------
# program model
#
# A program: primitives, workers (each a list of ops), main's ops.
# An op is a dict with key 'k' (kind) and parameters; compound ops carry
# 'body' (list of ops) and/or 'kids' (list of child specs
# {'label', 'body', 'raise'}).


class Program:
    def __init__(self, seed):
        self.seed = seed
        self.prims = []      # dicts: {'name', 'kind', ...}
        self.workers = []    # list of (label, ops)
        self.main = []       # ops run by main after spawning the workers
        self.ticker = 0      # a task logging 'tick i' at each sleep(0), i = 1..ticker
        self.ticker_first = True

    def names(self, kind):
        return [p['name'] for p in self.prims if p['kind'] == kind]

    def prim(self, name):
        for p in self.prims:
            if p['name'] == name:
                return p
        raise KeyError(name)


DURS = [0.125, 0.25, 0.375, 0.5]
# wait_for(function, 0): asyncio runs the coroutine as a task it cancels and
# waits for (3 loop iterations); corral raises at once -- see REPORT.
WF_FN_DURS = [0.125, 0.25, 0.5, None]
# cancel(msg) on some cancels, and the message logged where caught
CANCEL_MSGS = True


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.p = Program(seed)
        self.nchild = 0
        self.nitem = 0

    # --- primitives -------------------------------------------------------
    def make_prims(self):
        r, p = self.r, self.p
        kinds = ['lock', 'event', 'sem', 'cond', 'queue', 'barrier', 'fut']
        chosen = r.sample(kinds, 1 if self.focused else r.randint(1, 4))
        for k in chosen:
            for i in range(1, (2 if r.random() < 0.3 else 1) + 1):
                if k == 'lock':
                    p.prims.append({'name': 'L%d' % i, 'kind': 'lock'})
                elif k == 'event':
                    p.prims.append({'name': 'E%d' % i, 'kind': 'event'})
                elif k == 'sem':
                    p.prims.append({'name': 'S%d' % i, 'kind': 'sem',
                                    'value': r.choice([0, 1, 1, 2, 3]),
                                    'bounded': r.random() < 0.5})
                elif k == 'cond':
                    share = None
                    if r.random() < 0.3:
                        share = 'CL%d' % i
                    p.prims.append({'name': 'C%d' % i, 'kind': 'cond', 'lock': share})
                elif k == 'queue':
                    qk = r.choice(['fifo', 'fifo', 'lifo', 'prio'])
                    p.prims.append({'name': 'Q%d' % i, 'kind': 'queue', 'qkind': qk,
                                    'maxsize': r.choice([0, 0, 1, 2, 3]),
                                    'pform': qk == 'prio' and r.random() < 0.5})
                elif k == 'barrier':
                    p.prims.append({'name': 'B%d' % i, 'kind': 'barrier',
                                    'parties': r.choice([1, 2, 2, 3, 3, 4])})
                elif k == 'fut':
                    p.prims.append({'name': 'F%d' % i, 'kind': 'fut'})

    def item(self):
        self.nitem += 1
        if self.r.random() < 0.3:
            return self.r.randint(1, 9)
        return self.nitem * 10 + self.r.randint(0, 9)

    # --- operations -------------------------------------------------------
    def simple_op(self, in_main):
        """One leaf op using the program's primitives."""
        r, p = self.r, self.p
        opts = [('sleep0', 8 if (in_main and self.focused) else 3), ('sleep', 3), ('callback', 1)]
        for pr in p.prims:
            n, k = pr['name'], pr['kind']
            if k == 'event':
                opts += [(('evwait', n), 1 if in_main else 3), (('evset', n), 3), (('evclear', n), 1)]
            elif k == 'cond':
                opts += [(('condwait', n), 0 if in_main else 2), (('condwaitfor', n), 0 if in_main else 2),
                         (('condnotify', n), 3)]
            elif k == 'queue':
                opts += [(('qput', n), 1 if in_main else 3), (('qget', n), 0 if in_main else 3),
                         (('qputnw', n), 2), (('qgetnw', n), 2),
                         (('qtaskdone', n), 2), (('qjoin', n), 0 if in_main else 1),
                         (('qshutdown', n), 0.3)]
            elif k == 'barrier':
                opts += [(('bwait', n), 0 if in_main else 4), (('babort', n), 0.5), (('breset', n), 0.5)]
            elif k == 'sem':
                opts += [(('semrel', n), 0.5)]
            elif k == 'fut':
                opts += [(('futawait', n), 0.5 if in_main else 3), (('futset', n), 2),
                         (('futcancel', n), 0.7)]
            opts.append((('peek', n), 0.7))
        if in_main:
            opts += [('cancel', 1), ('cancelany', 0.5)]
        elif len(p.workers) > 1:
            opts += [('cancel', 1.5), ('cancelany', 1), ('cancelmain', 0.3)]
        opts.append(('donecb', 0.7))
        tot = sum(w for _, w in opts)
        x = r.random() * tot
        for o, w in opts:
            x -= w
            if x <= 0:
                break
        if isinstance(o, str):
            kind, name = o, None
        else:
            kind, name = o
        op = {'k': kind}
        if name:
            op['p'] = name
        if kind in ('cancel', 'cancelany', 'cancelmain') and r.random() < 0.5 and CANCEL_MSGS:
            self.nmsg = getattr(self, 'nmsg', 0) + 1
            op['msg'] = 'm%d' % self.nmsg
        if kind == 'sleep':
            op['d'] = r.choice(DURS)
        elif kind in ('qput', 'qputnw', 'futset'):
            op['item'] = self.item()
            if kind != 'futset' and p.prim(name).get('pform'):
                op['prio'] = r.randint(1, 3)
        elif kind == 'callback':
            self.ncb = getattr(self, 'ncb', 0) + 1
            op['id'] = self.ncb
            op['d'] = r.choice([None, None, 0, 0.125, 0.25])
            evs = p.names('event')
            op['set'] = r.choice(evs) if evs and r.random() < 0.5 else None
        elif kind == 'condnotify':
            op['n'] = r.choice([1, 1, 2, 'all'])
        elif kind == 'condwaitfor':
            op['n'] = r.randint(1, 3)
        elif kind == 'qshutdown':
            op['imm'] = r.random() < 0.5
        elif kind == 'cancel':
            op['t'] = r.randint(1, len(p.workers))
        elif kind == 'cancelany':
            op['i'] = r.randint(1, len(p.workers) + 4)
        elif kind == 'donecb':
            self.ncb = getattr(self, 'ncb', 0) + 1
            op['id'] = self.ncb
            futs = p.names('fut')
            if futs and r.random() < 0.4:
                op['f'] = r.choice(futs)
            else:
                op['t'] = r.randint(1, len(p.workers))
        return op

    def ops(self, depth, n, me_worker=None, in_main=False):
        out = []
        for _ in range(n):
            out.append(self.op(depth, me_worker, in_main))
        return out

    def kid(self, depth, can_raise=True):
        self.nchild += 1
        label = 'c%d' % self.nchild
        body = self.ops(depth + 1, self.r.randint(0, 3))
        return {'label': label, 'body': body,
                'raise': can_raise and self.r.random() < 0.3}

    def pre(self):
        """sleep(0)s between spawning children and waiting for them"""
        return self.r.choice([0, 0, 0, 1, 2, 3])

    def op(self, depth, me_worker, in_main):
        r, p = self.r, self.p
        if depth >= (2 if self.focused else 3) or r.random() < (0.75 if self.focused else 0.55):
            op = self.simple_op(in_main)
            if op['k'] == 'cancel' and me_worker is not None and op['t'] == me_worker and r.random() < 0.7:
                op['t'] = (op['t'] % len(p.workers)) + 1
            return op
        comp = [('catch', 3), ('timeout', 2), ('waitfor_fn', 1.5), ('waitfor_task', 1),
                ('children', 2), ('group', 1.5), ('raise', 0.4 if not in_main else 0),
                ('shield', 0.7), ('wait', 1), ('as_completed', 1), ('repeat', 1.5)]
        for pr in p.prims:
            if pr['kind'] in ('lock', 'sem', 'cond'):
                comp.append((('with', pr['name']), 3))
        if me_worker is not None and me_worker < len(p.workers):
            # only later workers: an await cycle makes cancel() recurse
            # forever (asyncio: RecursionError; corral: see REPORT)
            comp.append(('awaitw', 0.7))
        tot = sum(w for _, w in comp)
        x = r.random() * tot
        for o, w in comp:
            x -= w
            if x <= 0:
                break
        if isinstance(o, tuple):
            return {'k': 'with', 'p': o[1], 'body': self.ops(depth + 1, r.randint(0, 3), me_worker, in_main)}
        k = o
        if k == 'catch':
            return {'k': 'catch', 'uncancel': r.random() < 0.3,
                    'body': self.ops(depth + 1, r.randint(1, 3), me_worker, in_main)}
        if k == 'timeout':
            return {'k': 'timeout', 'd': r.choice([0, None] + DURS),
                    'body': self.ops(depth + 1, r.randint(1, 3), me_worker, in_main)}
        if k == 'waitfor_fn':
            return {'k': 'waitfor_fn', 'd': r.choice(WF_FN_DURS),
                    'body': self.ops(depth + 1, r.randint(1, 3), me_worker, in_main)}
        if k == 'waitfor_task':
            return {'k': 'waitfor_task', 'd': r.choice([0, 0.125, 0.25, 0.5]), 'pre': self.pre(),
                    'kid': self.kid(depth)}
        if k == 'children':
            return {'k': 'children', 'mode': r.choice(['await', 'gather', 'gather_rx', 'gather_fn']), 'pre': self.pre(),
                    'kids': [self.kid(depth) for _ in range(r.randint(1, 3))]}
        if k == 'group':
            return {'k': 'group', 'kids': [self.kid(depth) for _ in range(r.randint(1, 3))],
                    'body': self.ops(depth + 1, r.randint(0, 2), me_worker, in_main)}
        if k == 'raise':
            return {'k': 'raise'}
        if k == 'repeat':
            return {'k': 'repeat', 'n': r.randint(2, 3),
                    'body': self.ops(depth + 1, r.randint(1, 3), me_worker, in_main)}
        if k == 'shield':
            return {'k': 'shield', 'kid': self.kid(depth), 'pre': self.pre()}
        if k == 'wait':
            return {'k': 'wait', 'd': r.choice([None, None, 0, 0.125, 0.25, 0.5]), 'pre': self.pre(),
                    'when': r.choice(['ALL_COMPLETED', 'FIRST_COMPLETED', 'FIRST_EXCEPTION']),
                    'kids': [self.kid(depth) for _ in range(r.randint(1, 3))]}
        if k == 'as_completed':
            return {'k': 'as_completed', 'd': r.choice([None, None, 0.125, 0.25, 0.5]), 'pre': self.pre(),
                    'kids': [self.kid(depth) for _ in range(r.randint(1, 3))]}
        if k == 'awaitw':
            return {'k': 'awaitw', 't': r.randint(me_worker + 1, len(p.workers))}
        raise AssertionError(k)

    def generate(self):
        r, p = self.r, self.p
        # focused: one kind of primitive, more workers, main pokes at them
        # (cancel, set, notify...) between sleep(0)s
        self.focused = r.random() < 0.5
        self.make_prims()
        nw = r.randint(3, 6) if self.focused else r.randint(2, 5)
        p.workers = [('t%d' % i, None) for i in range(1, nw + 1)]
        for i in range(1, nw + 1):
            p.workers[i - 1] = ('t%d' % i, self.ops(0, r.randint(2, 6) if self.focused else r.randint(1, 5),
                                                    me_worker=i))
        p.main = self.ops(1, r.randint(3, 10) if self.focused else r.randint(0, 5), in_main=True)
        # the ticker shows at which loop iteration everything else happens
        if r.random() < 0.6:
            p.ticker = r.randint(5, 30)
            p.ticker_first = r.random() < 0.5
        if r.random() < 0.85:
            p.main.append({'k': 'sleep', 'd': 5})
        return p


def generate(seed):
    return Gen(seed).generate()


def fmt_num(x):
    if x is None:
        return None
    s = repr(float(x))
    if s.endswith('.0'):
        s = s[:-2]
    return s

# ---------------------------------------------------------------------------
# Python emitter


PY_PRELUDE = r'''import asyncio, heapq, os, selectors, sys

class Boom(Exception):
    pass

_SEQ = [0]

class _Timer(asyncio.TimerHandle):
    __slots__ = ('_seq',)
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        _SEQ[0] += 1
        self._seq = _SEQ[0]
    def __lt__(self, o):
        return (self._when, self._seq) < (o._when, o._seq)

class _VSel(selectors.DefaultSelector):
    def select(self, timeout=None):
        if timeout is None:
            print("DEADLOCK")
            sys.stdout.flush()
            os._exit(0)
        if timeout > 0:
            self.vloop._vt += timeout
        return super().select(0)

class _VLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        self._vt = 0.0
        sel = _VSel()
        sel.vloop = self
        super().__init__(sel)
    def time(self):
        return self._vt
    def call_at(self, when, callback, *args, context=None):
        t = _Timer(when, callback, args, self, context)
        heapq.heappush(self._scheduled, t)
        t._scheduled = True
        return t

# TaskGroup._abort cancels its tasks in set order (unspecified); corral
# cancels them in spawn order.  Make asyncio do the same.
def _abort(self):
    self._aborting = True
    for t in sorted(self._tasks, key=lambda t: int(t.get_name()[5:])):
        if not t.done():
            t.cancel()
asyncio.TaskGroup._abort = _abort

# as_completed registers its callbacks in set order (unspecified: tasks
# already done come out in hash order); corral uses list order.
def _ac_init(self, aws, timeout):
    self._done = asyncio.Queue()
    self._timeout_handle = None
    loop = asyncio.get_event_loop()
    todo = [asyncio.ensure_future(aw, loop=loop) for aw in dict.fromkeys(aws)]
    for f in todo:
        f.add_done_callback(self._handle_completion)
    if todo and timeout is not None:
        self._timeout_handle = loop.call_later(timeout, self._handle_timeout)
    self._todo = set(todo)
    self._todo_left = len(todo)
asyncio.tasks._AsCompletedIterator.__init__ = _ac_init

def log(s):
    print(s)

def now():
    return '%g' % asyncio.get_running_loop().time()

def ename(e):
    if isinstance(e, Boom): return 'Boom'
    if isinstance(e, asyncio.CancelledError): return 'CancelledError'
    if isinstance(e, TimeoutError): return 'TimeoutError'
    if isinstance(e, asyncio.BrokenBarrierError): return 'BrokenBarrierError'
    if isinstance(e, asyncio.QueueShutDown): return 'QueueShutDown'
    if isinstance(e, asyncio.QueueEmpty): return 'QueueEmpty'
    if isinstance(e, asyncio.QueueFull): return 'QueueFull'
    if isinstance(e, BaseExceptionGroup): return 'GroupError'
    if isinstance(e, (ValueError, RuntimeError)): return 'misuse'
    return 'other:' + type(e).__name__

def b(x):
    return str(x).lower()

def cmsg(ce):
    return (' msg=' + str(ce)) if str(ce) else ''

import itertools
QSEQ = itertools.count()

def qv(v):
    if isinstance(v, tuple):
        return '%s:%s' % (v[2], v[0])
    return str(v)

MAIN = []

def fmt(v):
    if isinstance(v, BaseException): return 'E:' + ename(v)
    return str(v)

def state(t):
    if t.cancelled(): return 'cancelled'
    if t.exception() is not None: return 'error ' + ename(t.exception())
    return 'done'

ALL = []
def spawn(coro):
    t = asyncio.create_task(coro)
    ALL.append(t)
    return t

ST = {}
'''

LUA_PRELUDE = r'''local function log(s) print(s) end
local function now() return ("%g"):format(corral.now()) end
local function ename(e)
  if corral.is_error(e) then
    if e.type == "GroupError" then return "GroupError" end
    return e.type
  end
  if type(e) == "string" and e:find("boom ", 1, true) then return "Boom" end
  io.stderr:write("misuse: ", tostring(e), "\n")
  return "misuse"
end
local function fmt(v)
  if corral.is_error(v) then return "E:" .. ename(v) end
  if type(v) == "string" and v:find("boom ", 1, true) then return "E:Boom" end
  if type(v) == "string" and v:find(":%d+: ") then return "E:misuse" end
  return tostring(v)
end
local function state(t)
  if t:cancelled() then return "cancelled" end
  if t:exception() ~= nil then return "error " .. ename(t:exception()) end
  return "done"
end
local ALL = {}
local function spawn(f)
  local t = corral.spawn(f)
  ALL[#ALL + 1] = t
  return t
end
local ST = {}
local T = {}
local MAIN
local function cmsg(e)
  if e.message ~= nil and e.message ~= "" then return " msg=" .. e.message end
  return ""
end
local function qv(v, pr)
  if pr ~= nil then return tostring(v) .. ":" .. tostring(pr) end
  return tostring(v)
end
'''


class PyEmit:
    def __init__(self, prog):
        self.prog = prog
        self.lines = []
        self.nwf = 0

    def w(self, ind, s):
        self.lines.append('    ' * ind + s)

    def block(self, ops, ind, me):
        if not ops:
            self.w(ind, 'pass')
        for op in ops:
            self.op(op, ind, me)

    def pre(self, op, ind):
        for _ in range(op.get('pre', 0)):
            self.w(ind, 'await asyncio.sleep(0)')

    def kid_def(self, kid, ind):
        lab = kid['label']
        self.w(ind, 'async def %s():' % lab)
        self.w(ind + 1, 'try:')
        self.block(kid['body'], ind + 2, lab)
        if kid['raise']:
            self.w(ind + 2, 'raise Boom(%r)' % lab)
        self.w(ind + 1, 'except asyncio.CancelledError:')
        self.w(ind + 2, 'log(%r)' % (lab + ' cancelled'))
        self.w(ind + 2, 'raise')
        self.w(ind + 1, 'return %r' % lab)

    def op(self, op, ind, me):
        k = op['k']
        w = self.w
        P = op.get('p')
        if k == 'sleep0':
            w(ind, 'await asyncio.sleep(0)')
        elif k == 'sleep':
            w(ind, 'await asyncio.sleep(%s)' % fmt_num(op['d']))
            w(ind, 'log(%r + now())' % (me + ' woke @'))
        elif k == 'evwait':
            w(ind, 'await %s.wait()' % P)
            w(ind, 'log(%r)' % ('%s %s ok' % (me, P)))
        elif k == 'evset':
            w(ind, 'log(%r)' % ('%s set %s' % (me, P)))
            w(ind, '%s.set()' % P)
        elif k == 'evclear':
            w(ind, 'log(%r)' % ('%s clear %s' % (me, P)))
            w(ind, '%s.clear()' % P)
        elif k in ('condwait', 'condwaitfor'):
            w(ind, 'async with %s:' % P)
            w(ind + 1, 'log(%r)' % ('%s in %s' % (me, P)))
            if k == 'condwait':
                w(ind + 1, 'await %s.wait()' % P)
            else:
                w(ind + 1, 'await %s.wait_for(lambda: ST[%r] >= %d)' % (P, P, op['n']))
            w(ind + 1, 'log(%r + str(ST[%r]))' % ('%s %s woke n=' % (me, P), P))
        elif k == 'condnotify':
            w(ind, 'async with %s:' % P)
            w(ind + 1, 'ST[%r] += 1' % P)
            if op['n'] == 'all':
                w(ind + 1, '%s.notify_all()' % P)
            else:
                w(ind + 1, '%s.notify(%d)' % (P, op['n']))
            w(ind + 1, 'log(%r)' % ('%s notify %s %s' % (me, P, op['n'])))
        elif k == 'qput' and 'prio' in op:
            w(ind, 'await %s.put((%d, next(QSEQ), %d))' % (P, op['prio'], op['item']))
            w(ind, 'log(%r)' % ('%s put %d' % (me, op['item'])))
        elif k == 'qputnw' and 'prio' in op:
            w(ind, 'try:')
            w(ind + 1, '%s.put_nowait((%d, next(QSEQ), %d))' % (P, op['prio'], op['item']))
            w(ind + 1, 'log(%r)' % ('%s putnw %d' % (me, op['item'])))
            w(ind, 'except asyncio.QueueFull:')
            w(ind + 1, 'log(%r)' % ('%s %s full' % (me, P)))
        elif k == 'qput':
            w(ind, 'await %s.put(%d)' % (P, op['item']))
            w(ind, 'log(%r)' % ('%s put %d' % (me, op['item'])))
        elif k == 'qputnw':
            w(ind, 'try:')
            w(ind + 1, '%s.put_nowait(%d)' % (P, op['item']))
            w(ind + 1, 'log(%r)' % ('%s putnw %d' % (me, op['item'])))
            w(ind, 'except asyncio.QueueFull:')
            w(ind + 1, 'log(%r)' % ('%s %s full' % (me, P)))
        elif k == 'qget':
            w(ind, 'v = await %s.get()' % P)
            w(ind, 'log(%r + qv(v))' % ('%s got ' % me))
        elif k == 'qgetnw':
            w(ind, 'try:')
            w(ind + 1, 'v = %s.get_nowait()' % P)
            w(ind + 1, 'log(%r + qv(v))' % ('%s gotnw ' % me))
            w(ind, 'except asyncio.QueueEmpty:')
            w(ind + 1, 'log(%r)' % ('%s %s empty' % (me, P)))
        elif k == 'qtaskdone':
            w(ind, 'try:')
            w(ind + 1, '%s.task_done()' % P)
            w(ind + 1, 'log(%r)' % ('%s task_done' % me))
            w(ind, 'except ValueError:')
            w(ind + 1, 'log(%r)' % ('%s task_done misuse' % me))
        elif k == 'qjoin':
            w(ind, 'await %s.join()' % P)
            w(ind, 'log(%r)' % ('%s joined %s' % (me, P)))
        elif k == 'qshutdown':
            w(ind, 'log(%r)' % ('%s shutdown %s' % (me, P)))
            w(ind, '%s.shutdown(%s)' % (P, op['imm']))
        elif k == 'bwait':
            w(ind, 'try:')
            w(ind + 1, 'i = await %s.wait()' % P)
            w(ind + 1, 'log(%r + str(i + 1))' % ('%s %s pass ' % (me, P)))
            w(ind, 'except asyncio.BrokenBarrierError:')
            w(ind + 1, 'log(%r)' % ('%s %s broken' % (me, P)))
        elif k == 'babort':
            w(ind, 'await %s.abort()' % P)
            w(ind, 'log(%r)' % ('%s aborted %s' % (me, P)))
        elif k == 'breset':
            w(ind, 'await %s.reset()' % P)
            w(ind, 'log(%r)' % ('%s reset %s' % (me, P)))
        elif k == 'semrel':
            w(ind, 'try:')
            w(ind + 1, '%s.release()' % P)
            w(ind + 1, 'log(%r)' % ('%s released %s' % (me, P)))
            w(ind, 'except ValueError:')
            w(ind + 1, 'log(%r)' % ('%s release misuse' % me))
        elif k == 'cancel':
            w(ind, 'log(%r + str(T[%d].cancel(%s)).lower())' % ('%s cancel t%d ' % (me, op['t']), op['t'] - 1, pymsg(op)))
        elif k == 'cancelany':
            i = op['i']
            w(ind, 'log(%r + (str(ALL[%d].cancel()).lower() if len(ALL) >= %d else "none"))'
              % ('%s cancel #%d ' % (me, i), i - 1, i))
            self.lines[-1] = self.lines[-1].replace('.cancel()', '.cancel(%s)' % pymsg(op))
        elif k == 'with':
            w(ind, 'async with %s:' % P)
            w(ind + 1, 'log(%r)' % ('%s got %s' % (me, P)))
            self.block(op['body'], ind + 1, me)
            w(ind + 1, 'log(%r)' % ('%s rel %s' % (me, P)))
        elif k == 'catch':
            w(ind, 'try:')
            self.block(op['body'], ind + 1, me)
            w(ind, 'except asyncio.CancelledError as ce:')
            w(ind + 1, 'log(%r + str(asyncio.current_task().cancelling()) + cmsg(ce))' % ('%s caught cancel ' % me))
            if op['uncancel']:
                w(ind + 1, 'asyncio.current_task().uncancel()')
        elif k == 'timeout':
            w(ind, 'try:')
            w(ind + 1, 'async with asyncio.timeout(%s):' % fmt_num(op['d']))
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'log(%r)' % ('%s in time' % me))
            w(ind, 'except TimeoutError:')
            w(ind + 1, 'log(%r)' % ('%s timed out' % me))
        elif k == 'waitfor_fn':
            self.nwf += 1
            fn = '_wf%d' % self.nwf
            w(ind, 'async def %s():' % fn)
            self.block(op['body'], ind + 1, me)
            w(ind + 1, 'return "wf"')
            w(ind, 'try:')
            w(ind + 1, 'v = await asyncio.wait_for(%s(), %s)' % (fn, fmt_num(op['d'])))
            w(ind + 1, 'log(%r + str(v))' % ('%s wait_for ' % me))
            w(ind, 'except TimeoutError:')
            w(ind + 1, 'log(%r)' % ('%s wait_for timeout' % me))
        elif k == 'waitfor_task':
            kid = op['kid']
            self.kid_def(kid, ind)
            w(ind, 'tk = spawn(%s())' % kid['label'])
            self.pre(op, ind)
            w(ind, 'try:')
            w(ind + 1, 'v = await asyncio.wait_for(tk, %s)' % fmt_num(op['d']))
            w(ind + 1, 'log(%r + str(v))' % ('%s wait_for ' % me))
            w(ind, 'except TimeoutError:')
            w(ind + 1, 'log(%r)' % ('%s wait_for timeout' % me))
        elif k == 'children':
            for kid in op['kids']:
                self.kid_def(kid, ind)
            labs = [kid['label'] for kid in op['kids']]
            mode = op['mode']
            if mode == 'gather_fn':
                w(ind, 'res = await asyncio.gather(%s)' % ', '.join('%s()' % l for l in labs))
                w(ind, 'log(%r + ",".join(fmt(x) for x in res))' % ('%s gathered ' % me))
            else:
                w(ind, 'ts = [%s]' % ', '.join('spawn(%s())' % l for l in labs))
                self.pre(op, ind)
                if mode == 'await':
                    w(ind, 'for t in ts:')
                    w(ind + 1, 'v = await t')
                    w(ind + 1, 'log(%r + str(v))' % ('%s awaited ' % me))
                else:
                    rx = mode == 'gather_rx'
                    w(ind, 'res = await asyncio.gather(*ts, return_exceptions=%s)' % rx)
                    w(ind, 'log(%r + ",".join(fmt(x) for x in res))' % ('%s gathered ' % me))
        elif k == 'group':
            for kid in op['kids']:
                self.kid_def(kid, ind)
            w(ind, 'try:')
            w(ind + 1, 'async with asyncio.TaskGroup() as g:')
            for kid in op['kids']:
                w(ind + 2, 'ALL.append(g.create_task(%s()))' % kid['label'])
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'log(%r)' % ('%s group ok' % me))
            w(ind, 'except BaseExceptionGroup as eg:')
            w(ind + 1, 'log(%r + ",".join(ename(x) for x in eg.exceptions))' % ('%s group failed ' % me))
        elif k == 'raise':
            w(ind, 'raise Boom(%r)' % me)
        elif k == 'repeat':
            w(ind, 'for _ in range(%d):' % op['n'])
            self.block(op['body'], ind + 1, me)
        elif k == 'futawait':
            w(ind, 'v = await %s' % P)
            w(ind, 'log(%r + str(v))' % ('%s %s result ' % (me, P)))
        elif k == 'futset':
            w(ind, 'try:')
            w(ind + 1, '%s.set_result(%d)' % (P, op['item']))
            w(ind + 1, 'log(%r)' % ('%s set %s %d' % (me, P, op['item'])))
            w(ind, 'except asyncio.InvalidStateError:')
            w(ind + 1, 'log(%r)' % ('%s set %s invalid' % (me, P)))
        elif k == 'futcancel':
            w(ind, 'log(%r + str(%s.cancel()).lower())' % ('%s cancel %s ' % (me, P), P))
        elif k == 'cancelmain':
            w(ind, 'log(%r + b(MAIN[0].cancel(%s)))' % ('%s cancel main ' % me, pymsg(op)))
        elif k == 'donecb':
            tgt = op['f'] if 'f' in op else 'T[%d]' % (op['t'] - 1)
            w(ind, '%s.add_done_callback(lambda f: log(%r + state(f)))' % (tgt, 'cb%d ' % op['id']))
        elif k == 'peek':
            kind = self.prog.prim(P)['kind']
            ex = {'lock': 'b({P}.locked())', 'cond': 'b({P}.locked())', 'sem': 'b({P}.locked())',
                  'event': 'b({P}.is_set())',
                  'queue': '"%d %s %s" % ({P}.qsize(), b({P}.empty()), b({P}.full()))',
                  'barrier': '"%d %s" % ({P}.n_waiting, b({P}.broken))',
                  'fut': '"%s %s" % (b({P}.done()), b({P}.cancelled()))'}[kind]
            w(ind, 'log(%r + %s)' % ('%s peek %s ' % (me, P), ex.replace('{P}', P)))
        elif k == 'callback':
            parts = ['log(%r)' % ('cb%d' % op['id'])]
            if op['set']:
                parts.append('%s.set()' % op['set'])
            w(ind, 'def _cb%d():' % op['id'])
            for x in parts:
                w(ind + 1, x)
            if op['d'] is None:
                w(ind, 'asyncio.get_running_loop().call_soon(_cb%d)' % op['id'])
            else:
                w(ind, 'asyncio.get_running_loop().call_later(%s, _cb%d)' % (fmt_num(op['d']), op['id']))
        elif k == 'shield':
            kid = op['kid']
            self.kid_def(kid, ind)
            w(ind, 'tk = spawn(%s())' % kid['label'])
            self.pre(op, ind)
            w(ind, 'v = await asyncio.shield(tk)')
            w(ind, 'log(%r + str(v))' % ('%s shielded ' % me))
        elif k == 'wait':
            for kid in op['kids']:
                self.kid_def(kid, ind)
            labs = [kid['label'] for kid in op['kids']]
            w(ind, 'ts = [%s]' % ', '.join('spawn(%s())' % l for l in labs))
            self.pre(op, ind)
            w(ind, 'done, pending = await asyncio.wait(ts, timeout=%s, return_when=asyncio.%s)'
              % (fmt_num(op['d']), op['when']))
            w(ind, 'log(%r + "".join("d" if t in done else "p" for t in ts))' % ('%s waited ' % me))
        elif k == 'as_completed':
            for kid in op['kids']:
                self.kid_def(kid, ind)
            labs = [kid['label'] for kid in op['kids']]
            w(ind, 'ts = [%s]' % ', '.join('spawn(%s())' % l for l in labs))
            self.pre(op, ind)
            w(ind, 'try:')
            w(ind + 1, 'async for t in asyncio.as_completed(ts, timeout=%s):' % fmt_num(op['d']))
            w(ind + 2, 'try:')
            w(ind + 3, 'v = await t')
            w(ind + 2, 'except Exception as e:')
            w(ind + 3, 'v = fmt(e)')
            w(ind + 2, 'log(%r + str(v))' % ('%s completed ' % me))
            w(ind, 'except TimeoutError:')
            w(ind + 1, 'log(%r)' % ('%s as_completed timeout' % me))
        elif k == 'awaitw':
            w(ind, 'await T[%d]' % (op['t'] - 1))
            w(ind, 'log(%r)' % ('%s awaited t%d' % (me, op['t'])))
        else:
            raise AssertionError(k)

    def emit(self):
        p = self.prog
        out = [PY_PRELUDE]
        for pr in p.prims:
            n = pr['name']
            if pr['kind'] == 'lock':
                out.append('%s = asyncio.Lock()' % n)
            elif pr['kind'] == 'event':
                out.append('%s = asyncio.Event()' % n)
            elif pr['kind'] == 'sem':
                out.append('%s = asyncio.%s(%d)' % (n, 'BoundedSemaphore' if pr['bounded'] else 'Semaphore', pr['value']))
            elif pr['kind'] == 'cond':
                if pr['lock']:
                    out.append('%s = asyncio.Lock()' % pr['lock'])
                    out.append('%s = asyncio.Condition(%s)' % (n, pr['lock']))
                else:
                    out.append('%s = asyncio.Condition()' % n)
                out.append('ST[%r] = 0' % n)
            elif pr['kind'] == 'queue':
                cls = {'fifo': 'Queue', 'lifo': 'LifoQueue', 'prio': 'PriorityQueue'}[pr['qkind']]
                out.append('%s = asyncio.%s(%d)' % (n, cls, pr['maxsize']))
            elif pr['kind'] == 'barrier':
                out.append('%s = asyncio.Barrier(%d)' % (n, pr['parties']))
            elif pr['kind'] == 'fut':
                out.append('%s = None' % n)
        out.append('T = []')
        self.lines = []
        for label, ops in p.workers:
            self.w(0, 'async def w_%s():' % label)
            self.w(1, 'try:')
            self.block(ops, 2, label)
            self.w(2, 'log(%r)' % (label + ' done'))
            self.w(1, 'except asyncio.CancelledError as ce:')
            self.w(2, 'log(%r + cmsg(ce))' % (label + ' cancelled'))
            self.w(2, 'raise')
            self.w(1, 'except Exception as e:')
            self.w(2, 'log(%r + ename(e))' % (label + ' error '))
            self.w(0, '')
        self.w(0, 'async def ticker():')
        self.w(1, 'for i in range(1, %d):' % (p.ticker + 1))
        self.w(2, 'log("tick %d" % i)')
        self.w(2, 'await asyncio.sleep(0)')
        self.w(0, '')
        self.w(0, 'async def main():')
        self.w(1, 'MAIN.append(asyncio.current_task())')
        for pr in p.prims:
            if pr['kind'] == 'fut':
                self.w(1, 'globals()[%r] = asyncio.get_running_loop().create_future()' % pr['name'])
        if p.ticker and p.ticker_first:
            self.w(1, 'spawn(ticker())')
        for label, _ in p.workers:
            self.w(1, 'T.append(spawn(w_%s()))' % label)
        if p.ticker and not p.ticker_first:
            self.w(1, 'spawn(ticker())')
        self.w(1, 'try:')
        self.w(2, 'async with asyncio.timeout(100):')
        self.block(p.main, 3, 'main')
        self.w(1, 'except TimeoutError:')
        self.w(2, 'log("main timed out")')
        self.w(1, 'except asyncio.CancelledError:')
        self.w(2, 'log("main cancelled")')
        self.w(2, 'asyncio.current_task().uncancel()')
        self.w(1, 'except Exception as e:')
        self.w(2, 'log("main error " + ename(e))')
        self.w(1, 'log("main final @" + now())')
        self.w(1, 'for r in range(6):')
        self.w(2, 'pend = [t for t in ALL if not t.done()]')
        self.w(2, 'if not pend:')
        self.w(3, 'break')
        self.w(2, 'log("round %d: %d pending" % (r + 1, len(pend)))')
        self.w(2, 'for t in pend:')
        self.w(3, 't.cancel()')
        self.w(2, 'try:')
        self.w(3, 'await asyncio.sleep(1)')
        self.w(2, 'except asyncio.CancelledError:')
        self.w(3, 'log("main cancelled")')
        self.w(3, 'asyncio.current_task().uncancel()')
        self.w(1, 'for i, t in enumerate(ALL):')
        self.w(2, 'log("task%d %s" % (i + 1, state(t) if t.done() else "pending"))')
        self.w(1, 'sys.stdout.flush()')
        self.w(1, 'os._exit(0)')
        self.w(0, '')
        self.w(0, 'asyncio.run(main(), loop_factory=_VLoop)')
        out.append('\n'.join(self.lines))
        return '\n'.join(out) + '\n'


class LuaEmit:
    def __init__(self, prog):
        self.prog = prog
        self.lines = []

    def w(self, ind, s):
        self.lines.append('  ' * ind + s)

    def block(self, ops, ind, me):
        for op in ops:
            self.op(op, ind, me)

    def pre(self, op, ind):
        for _ in range(op.get('pre', 0)):
            self.w(ind, 'corral.sleep(0)')

    def kid_def(self, kid, ind):
        lab = kid['label']
        self.w(ind, 'local function %s()' % lab)
        self.w(ind + 1, 'local ok, e = pcall(function()')
        self.block(kid['body'], ind + 2, lab)
        if kid['raise']:
            self.w(ind + 2, 'error(%s, 0)' % lq('boom ' + lab))
        self.w(ind + 1, 'end)')
        self.w(ind + 1, 'if not ok then')
        self.w(ind + 2, 'if corral.is_error(e, "CancelledError") then log(%s) end' % lq(lab + ' cancelled'))
        self.w(ind + 2, 'error(e, 0)')
        self.w(ind + 1, 'end')
        self.w(ind + 1, 'return %s' % lq(lab))
        self.w(ind, 'end')

    def op(self, op, ind, me):
        k = op['k']
        w = self.w
        P = op.get('p')
        if k == 'sleep0':
            w(ind, 'corral.sleep(0)')
        elif k == 'sleep':
            w(ind, 'corral.sleep(%s)' % fmt_num(op['d']))
            w(ind, 'log(%s .. now())' % lq(me + ' woke @'))
        elif k == 'evwait':
            w(ind, '%s:wait()' % P)
            w(ind, 'log(%s)' % lq('%s %s ok' % (me, P)))
        elif k == 'evset':
            w(ind, 'log(%s)' % lq('%s set %s' % (me, P)))
            w(ind, '%s:set()' % P)
        elif k == 'evclear':
            w(ind, 'log(%s)' % lq('%s clear %s' % (me, P)))
            w(ind, '%s:clear()' % P)
        elif k in ('condwait', 'condwaitfor'):
            w(ind, 'do')
            w(ind + 1, 'local _ <close> = %s:acquire()' % P)
            w(ind + 1, 'log(%s)' % lq('%s in %s' % (me, P)))
            if k == 'condwait':
                w(ind + 1, '%s:wait()' % P)
            else:
                w(ind + 1, '%s:wait_for(function() return ST.%s >= %d end)' % (P, P, op['n']))
            w(ind + 1, 'log(%s .. ST.%s)' % (lq('%s %s woke n=' % (me, P)), P))
            w(ind, 'end')
        elif k == 'condnotify':
            w(ind, 'do')
            w(ind + 1, 'local _ <close> = %s:acquire()' % P)
            w(ind + 1, 'ST.%s = ST.%s + 1' % (P, P))
            if op['n'] == 'all':
                w(ind + 1, '%s:notify_all()' % P)
            else:
                w(ind + 1, '%s:notify(%d)' % (P, op['n']))
            w(ind + 1, 'log(%s)' % lq('%s notify %s %s' % (me, P, op['n'])))
            w(ind, 'end')
        elif k == 'qput' and 'prio' in op:
            w(ind, '%s:put(%d, %d)' % (P, op['item'], op['prio']))
            w(ind, 'log(%s)' % lq('%s put %d' % (me, op['item'])))
        elif k == 'qputnw' and 'prio' in op:
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function() %s:put_nowait(%d, %d) end)' % (P, op['item'], op['prio']))
            w(ind + 1, 'if ok then log(%s) elseif corral.is_error(e, "QueueFull") then log(%s) else error(e, 0) end'
              % (lq('%s putnw %d' % (me, op['item'])), lq('%s %s full' % (me, P))))
            w(ind, 'end')
        elif k == 'qput':
            w(ind, '%s:put(%d)' % (P, op['item']))
            w(ind, 'log(%s)' % lq('%s put %d' % (me, op['item'])))
        elif k == 'qputnw':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function() %s:put_nowait(%d) end)' % (P, op['item']))
            w(ind + 1, 'if ok then log(%s) elseif corral.is_error(e, "QueueFull") then log(%s) else error(e, 0) end'
              % (lq('%s putnw %d' % (me, op['item'])), lq('%s %s full' % (me, P))))
            w(ind, 'end')
        elif k == 'qget':
            w(ind, 'do')
            w(ind + 1, 'local v, pr = %s:get()' % P)
            w(ind + 1, 'log(%s .. qv(v, pr))' % lq('%s got ' % me))
            w(ind, 'end')
        elif k == 'qgetnw':
            w(ind, 'do')
            w(ind + 1, 'local ok, v, pr = pcall(function() return %s:get_nowait() end)' % P)
            w(ind + 1, 'if ok then log(%s .. qv(v, pr)) elseif corral.is_error(v, "QueueEmpty") then log(%s) else error(v, 0) end'
              % (lq('%s gotnw ' % me), lq('%s %s empty' % (me, P))))
            w(ind, 'end')
        elif k == 'qtaskdone':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function() %s:task_done() end)' % P)
            w(ind + 1, 'if ok then log(%s) elseif type(e) == "string" then log(%s) else error(e, 0) end'
              % (lq('%s task_done' % me), lq('%s task_done misuse' % me)))
            w(ind, 'end')
        elif k == 'qjoin':
            w(ind, '%s:join()' % P)
            w(ind, 'log(%s)' % lq('%s joined %s' % (me, P)))
        elif k == 'qshutdown':
            w(ind, 'log(%s)' % lq('%s shutdown %s' % (me, P)))
            w(ind, '%s:shutdown(%s)' % (P, 'true' if op['imm'] else 'false'))
        elif k == 'bwait':
            w(ind, 'do')
            w(ind + 1, 'local ok, i = pcall(function() return %s:wait() end)' % P)
            w(ind + 1, 'if ok then log(%s .. i) elseif corral.is_error(i, "BrokenBarrierError") then log(%s) else error(i, 0) end'
              % (lq('%s %s pass ' % (me, P)), lq('%s %s broken' % (me, P))))
            w(ind, 'end')
        elif k == 'babort':
            w(ind, '%s:abort()' % P)
            w(ind, 'log(%s)' % lq('%s aborted %s' % (me, P)))
        elif k == 'breset':
            w(ind, '%s:reset()' % P)
            w(ind, 'log(%s)' % lq('%s reset %s' % (me, P)))
        elif k == 'semrel':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function() %s:release() end)' % P)
            w(ind + 1, 'if ok then log(%s) elseif type(e) == "string" then log(%s) else error(e, 0) end'
              % (lq('%s released %s' % (me, P)), lq('%s release misuse' % me)))
            w(ind, 'end')
        elif k == 'cancel':
            w(ind, 'log(%s .. tostring(T[%d]:cancel(%s)))' % (lq('%s cancel t%d ' % (me, op['t'])), op['t'], luamsg(op)))
        elif k == 'cancelany':
            i = op['i']
            w(ind, 'log(%s .. (ALL[%d] and tostring(ALL[%d]:cancel()) or "none"))'
              % (lq('%s cancel #%d ' % (me, i)), i, i))
            self.lines[-1] = self.lines[-1].replace(':cancel()', ':cancel(%s)' % luamsg(op))
        elif k == 'with':
            w(ind, 'do')
            w(ind + 1, 'local _ <close> = %s:acquire()' % P)
            w(ind + 1, 'log(%s)' % lq('%s got %s' % (me, P)))
            self.block(op['body'], ind + 1, me)
            w(ind + 1, 'log(%s)' % lq('%s rel %s' % (me, P)))
            w(ind, 'end')
        elif k == 'catch':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function()')
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'end)')
            w(ind + 1, 'if not ok then')
            w(ind + 2, 'if not corral.is_error(e, "CancelledError") then error(e, 0) end')
            w(ind + 2, 'log(%s .. corral.current_task():cancelling() .. cmsg(e))' % lq('%s caught cancel ' % me))
            if op['uncancel']:
                w(ind + 2, 'corral.current_task():uncancel()')
            w(ind + 1, 'end')
            w(ind, 'end')
        elif k == 'timeout':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(corral.timeout, %s, function()' % (fmt_num(op['d']) or 'nil'))
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'end)')
            w(ind + 1, 'if ok then log(%s) elseif corral.is_error(e, "TimeoutError") then log(%s) else error(e, 0) end'
              % (lq('%s in time' % me), lq('%s timed out' % me)))
            w(ind, 'end')
        elif k == 'waitfor_fn':
            w(ind, 'do')
            w(ind + 1, 'local ok, v = pcall(corral.wait_for, function()')
            self.block(op['body'], ind + 2, me)
            w(ind + 2, 'return "wf"')
            d = fmt_num(op['d'])
            w(ind + 1, 'end, %s)' % (d if d is not None else 'nil'))
            w(ind + 1, 'if ok then log(%s .. tostring(v)) elseif corral.is_error(v, "TimeoutError") then log(%s) else error(v, 0) end'
              % (lq('%s wait_for ' % me), lq('%s wait_for timeout' % me)))
            w(ind, 'end')
        elif k == 'waitfor_task':
            kid = op['kid']
            w(ind, 'do')
            self.kid_def(kid, ind + 1)
            w(ind + 1, 'local tk = spawn(%s)' % kid['label'])
            self.pre(op, ind + 1)
            w(ind + 1, 'local ok, v = pcall(corral.wait_for, tk, %s)' % fmt_num(op['d']))
            w(ind + 1, 'if ok then log(%s .. tostring(v)) elseif corral.is_error(v, "TimeoutError") then log(%s) else error(v, 0) end'
              % (lq('%s wait_for ' % me), lq('%s wait_for timeout' % me)))
            w(ind, 'end')
        elif k == 'children':
            w(ind, 'do')
            for kid in op['kids']:
                self.kid_def(kid, ind + 1)
            labs = [kid['label'] for kid in op['kids']]
            mode = op['mode']
            if mode == 'gather_fn':
                w(ind + 1, 'local res = corral.gather(%s)' % ', '.join(labs))
                w(ind + 1, 'local parts = {} for i = 1, res.n do parts[i] = fmt(res[i]) end')
                w(ind + 1, 'log(%s .. table.concat(parts, ","))' % lq('%s gathered ' % me))
            else:
                w(ind + 1, 'local ts = {%s}' % ', '.join('spawn(%s)' % l for l in labs))
                self.pre(op, ind + 1)
                if mode == 'await':
                    w(ind + 1, 'for _, t in ipairs(ts) do')
                    w(ind + 2, 'local v = t:await()')
                    w(ind + 2, 'log(%s .. tostring(v))' % lq('%s awaited ' % me))
                    w(ind + 1, 'end')
                else:
                    rx = 'true' if mode == 'gather_rx' else 'false'
                    w(ind + 1, 'local res = corral.gather(ts, {return_exceptions = %s})' % rx)
                    w(ind + 1, 'local parts = {} for i = 1, res.n do parts[i] = fmt(res[i]) end')
                    w(ind + 1, 'log(%s .. table.concat(parts, ","))' % lq('%s gathered ' % me))
            w(ind, 'end')
        elif k == 'group':
            w(ind, 'do')
            for kid in op['kids']:
                self.kid_def(kid, ind + 1)
            w(ind + 1, 'local ok, e = pcall(corral.group, function(g)')
            for kid in op['kids']:
                w(ind + 2, 'ALL[#ALL + 1] = g:spawn(%s)' % kid['label'])
            self.block(op['body'], ind + 2, me)
            w(ind + 1, 'end)')
            w(ind + 1, 'if ok then log(%s)' % lq('%s group ok' % me))
            w(ind + 1, 'elseif corral.is_error(e, "GroupError") then')
            w(ind + 2, 'local parts = {} for i, x in ipairs(e.errors) do parts[i] = ename(x) end')
            w(ind + 2, 'log(%s .. table.concat(parts, ","))' % lq('%s group failed ' % me))
            w(ind + 1, 'else error(e, 0) end')
            w(ind, 'end')
        elif k == 'raise':
            w(ind, 'error(%s, 0)' % lq('boom ' + me))
        elif k == 'repeat':
            w(ind, 'for _ = 1, %d do' % op['n'])
            self.block(op['body'], ind + 1, me)
            w(ind, 'end')
        elif k == 'futawait':
            w(ind, 'log(%s .. tostring(%s:await()))' % (lq('%s %s result ' % (me, P)), P))
        elif k == 'futset':
            w(ind, 'do')
            w(ind + 1, 'local ok, e = pcall(function() %s:set_result(%d) end)' % (P, op['item']))
            w(ind + 1, 'if ok then log(%s) elseif corral.is_error(e, "InvalidStateError") then log(%s) else error(e, 0) end'
              % (lq('%s set %s %d' % (me, P, op['item'])), lq('%s set %s invalid' % (me, P))))
            w(ind, 'end')
        elif k == 'futcancel':
            w(ind, 'log(%s .. tostring(%s:cancel()))' % (lq('%s cancel %s ' % (me, P)), P))
        elif k == 'cancelmain':
            w(ind, 'log(%s .. tostring(MAIN:cancel(%s)))' % (lq('%s cancel main ' % me), luamsg(op)))
        elif k == 'donecb':
            tgt = op['f'] if 'f' in op else 'T[%d]' % op['t']
            w(ind, '%s:add_done_callback(function(f) log(%s .. state(f)) end)' % (tgt, lq('cb%d ' % op['id'])))
        elif k == 'peek':
            kind = self.prog.prim(P)['kind']
            ex = {'lock': 'tostring({P}:locked())', 'cond': 'tostring({P}:locked())', 'sem': 'tostring({P}:locked())',
                  'event': 'tostring({P}:is_set())',
                  'queue': '("%d %s %s"):format({P}:qsize(), {P}:empty(), {P}:full())',
                  'barrier': '("%d %s"):format({P}:n_waiting(), {P}:broken())',
                  'fut': '("%s %s"):format({P}:done(), {P}:cancelled())'}[kind]
            w(ind, 'log(%s .. %s)' % (lq('%s peek %s ' % (me, P)), ex.replace('{P}', P)))
        elif k == 'callback':
            body = 'log(%s)' % lq('cb%d' % op['id'])
            if op['set']:
                body += ' %s:set()' % op['set']
            if op['d'] is None:
                w(ind, 'corral.call_soon(function() %s end)' % body)
            else:
                w(ind, 'corral.call_later(%s, function() %s end)' % (fmt_num(op['d']), body))
        elif k == 'shield':
            kid = op['kid']
            w(ind, 'do')
            self.kid_def(kid, ind + 1)
            w(ind + 1, 'local tk = spawn(%s)' % kid['label'])
            self.pre(op, ind + 1)
            w(ind + 1, 'log(%s .. tostring(corral.shield(tk)))' % lq('%s shielded ' % me))
            w(ind, 'end')
        elif k == 'wait':
            w(ind, 'do')
            for kid in op['kids']:
                self.kid_def(kid, ind + 1)
            labs = [kid['label'] for kid in op['kids']]
            w(ind + 1, 'local ts = {%s}' % ', '.join('spawn(%s)' % l for l in labs))
            self.pre(op, ind + 1)
            d = fmt_num(op['d'])
            w(ind + 1, 'local done = corral.wait(ts, {timeout = %s, return_when = "%s"})' % (d if d is not None else 'nil', op['when']))
            w(ind + 1, 'local isdone, parts = {}, {}')
            w(ind + 1, 'for _, t in ipairs(done) do isdone[t] = true end')
            w(ind + 1, 'for i, t in ipairs(ts) do parts[i] = isdone[t] and "d" or "p" end')
            w(ind + 1, 'log(%s .. table.concat(parts))' % lq('%s waited ' % me))
            w(ind, 'end')
        elif k == 'as_completed':
            w(ind, 'do')
            for kid in op['kids']:
                self.kid_def(kid, ind + 1)
            labs = [kid['label'] for kid in op['kids']]
            w(ind + 1, 'local ts = {%s}' % ', '.join('spawn(%s)' % l for l in labs))
            self.pre(op, ind + 1)
            d = fmt_num(op['d'])
            w(ind + 1, 'local ok, e = pcall(function()')
            w(ind + 2, 'for t in corral.as_completed(ts, %s) do' % (d if d is not None else 'nil'))
            w(ind + 3, 'local ok, v = pcall(t.await, t)')
            w(ind + 3, 'if not ok then')
            w(ind + 4, 'if corral.is_error(v, "CancelledError") then error(v, 0) end')
            w(ind + 4, 'v = fmt(v)')
            w(ind + 3, 'end')
            w(ind + 3, 'log(%s .. tostring(v))' % lq('%s completed ' % me))
            w(ind + 2, 'end')
            w(ind + 1, 'end)')
            w(ind + 1, 'if not ok then')
            w(ind + 2, 'if corral.is_error(e, "TimeoutError") then log(%s) else error(e, 0) end' % lq('%s as_completed timeout' % me))
            w(ind + 1, 'end')
            w(ind, 'end')
        elif k == 'awaitw':
            w(ind, 'T[%d]:await()' % op['t'])
            w(ind, 'log(%s)' % lq('%s awaited t%d' % (me, op['t'])))
        else:
            raise AssertionError(k)

    def emit(self):
        p = self.prog
        out = ['-- generated by spec/fuzz/gen.py, seed %s' % p.seed, LUA_PRELUDE]
        for pr in p.prims:
            n = pr['name']
            if pr['kind'] == 'lock':
                out.append('local %s = corral.Lock()' % n)
            elif pr['kind'] == 'event':
                out.append('local %s = corral.Event()' % n)
            elif pr['kind'] == 'sem':
                out.append('local %s = corral.%s(%d)' % (n, 'BoundedSemaphore' if pr['bounded'] else 'Semaphore', pr['value']))
            elif pr['kind'] == 'cond':
                if pr['lock']:
                    out.append('local %s = corral.Lock()' % pr['lock'])
                    out.append('local %s = corral.Condition(%s)' % (n, pr['lock']))
                else:
                    out.append('local %s = corral.Condition()' % n)
                out.append('ST.%s = 0' % n)
            elif pr['kind'] == 'queue':
                cls = {'fifo': 'Queue', 'lifo': 'LifoQueue', 'prio': 'PriorityQueue'}[pr['qkind']]
                out.append('local %s = corral.%s(%d)' % (n, cls, pr['maxsize']))
            elif pr['kind'] == 'barrier':
                out.append('local %s = corral.Barrier(%d)' % (n, pr['parties']))
            elif pr['kind'] == 'fut':
                out.append('local %s -- a Future, made in main (it needs the loop)' % n)
        self.lines = []
        for label, ops in p.workers:
            self.w(0, 'local function w_%s()' % label)
            self.w(1, 'local ok, e = pcall(function()')
            self.block(ops, 2, label)
            self.w(1, 'end)')
            self.w(1, 'if ok then log(%s)' % lq(label + ' done'))
            self.w(1, 'elseif corral.is_error(e, "CancelledError") then log(%s .. cmsg(e)) error(e, 0)' % lq(label + ' cancelled'))
            self.w(1, 'else log(%s .. ename(e)) end' % lq(label + ' error '))
            self.w(0, 'end')
            self.w(0, '')
        self.w(0, 'local function ticker()')
        self.w(1, 'for i = 1, %d do' % p.ticker)
        self.w(2, 'log("tick " .. i)')
        self.w(2, 'corral.sleep(0)')
        self.w(1, 'end')
        self.w(0, 'end')
        self.w(0, '')
        self.w(0, 'local function main()')
        self.w(1, 'MAIN = corral.current_task()')
        for pr in p.prims:
            if pr['kind'] == 'fut':
                self.w(1, '%s = corral.Future()' % pr['name'])
        if p.ticker and p.ticker_first:
            self.w(1, 'spawn(ticker)')
        for label, _ in p.workers:
            self.w(1, 'T[#T + 1] = spawn(w_%s)' % label)
        if p.ticker and not p.ticker_first:
            self.w(1, 'spawn(ticker)')
        self.w(1, 'local ok, e = pcall(corral.timeout, 100, function()')
        self.block(p.main, 2, 'main')
        self.w(1, 'end)')
        self.w(1, 'if not ok then')
        self.w(2, 'if corral.is_error(e, "DeadlockError") then log("DEADLOCK") os.exit(0) end')
        self.w(2, 'if corral.is_error(e, "TimeoutError") then log("main timed out") else')
        self.w(2, 'if corral.is_error(e, "CancelledError") then log("main cancelled") corral.current_task():uncancel()')
        self.w(2, 'else log("main error " .. ename(e)) end')
        self.w(2, 'end')
        self.w(1, 'end')
        self.w(1, 'log("main final @" .. now())')
        self.w(1, 'for r = 1, 6 do')
        self.w(2, 'local pend = {}')
        self.w(2, 'for _, t in ipairs(ALL) do if not t:done() then pend[#pend + 1] = t end end')
        self.w(2, 'if #pend == 0 then break end')
        self.w(2, 'log(("round %d: %d pending"):format(r, #pend))')
        self.w(2, 'for _, t in ipairs(pend) do t:cancel() end')
        self.w(2, 'local ok, e = pcall(corral.sleep, 1)')
        self.w(2, 'if not ok then')
        self.w(3, 'if not corral.is_error(e, "CancelledError") then error(e, 0) end')
        self.w(3, 'log("main cancelled") corral.current_task():uncancel()')
        self.w(2, 'end')
        self.w(1, 'end')
        self.w(1, 'for i, t in ipairs(ALL) do')
        self.w(2, 'log(("task%d %s"):format(i, t:done() and state(t) or "pending"))')
        self.w(1, 'end')
        self.w(1, 'io.stdout:flush()')
        self.w(1, 'os.exit(0)')
        self.w(0, 'end')
        self.w(0, '')
        self.w(0, 'corral.run(main, {clock = "virtual"})')
        out.append('\n'.join(self.lines))
        return '\n'.join(out) + '\n'


def pymsg(op):
    return repr(op['msg']) if 'msg' in op else ''


def luamsg(op):
    return lq(op['msg']) if 'msg' in op else ''


def lq(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def emit_py(prog):
    return PyEmit(prog).emit()


def emit_lua(prog):
    return LuaEmit(prog).emit()


def main(argv):
    seed = int(argv[1])
    prog = generate(seed)
    if argv[2] == 'py':
        sys.stdout.write(emit_py(prog))
    elif argv[2] == 'lua':
        sys.stdout.write(emit_lua(prog))
    else:
        d = argv[3]
        with open('%s/%d.py' % (d, seed), 'w') as f:
            f.write(emit_py(prog))
        with open('%s/%d.lua' % (d, seed), 'w') as f:
            f.write(emit_lua(prog))


if __name__ == '__main__':
    main(sys.argv)
