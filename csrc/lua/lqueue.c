/*
 * lqueue.c - corral.Queue, corral.LifoQueue and corral.PriorityQueue.
 *
 * The core queue holds item ids; the Lua values live in the userdata's
 * uservalue tables, keyed by id: UV_ITEMS holds the items (a nil item is
 * simply absent), UV_KEYS the sort keys of a priority queue (the priority
 * given to put, or the item itself).  Keys are validated at put time so
 * that the heap's comparisons (lua_compare on two numbers or two strings)
 * can never raise in the middle of a heap operation.
 */
#include <math.h>

#include "lcorral.h"

#define LCR_QUEUE "corral.Queue"
#define LCR_LIFOQUEUE "corral.LifoQueue"
#define LCR_PRIOQUEUE "corral.PriorityQueue"

/* Uservalue slots. */
enum { UV_ITEMS = 1, UV_KEYS, UV_COUNT = UV_KEYS };

/* How a priority queue's items are put: fixed by the first put. */
enum { FORM_NONE = 0, FORM_BY_ITEM, FORM_BY_PRIORITY };

/* Its address marks a queue userdata (see check_queue). */
static const char queue_magic;

typedef struct lqueue {
    const void *magic;       /* &queue_magic: a fast, exact type test */
    cr_queue core;           /* the core queue */
    lua_State *L;            /* state of the running method; the queue is at
                              * its index 1 (read by key_less) */
    lua_Integer maxsize;     /* as given to the constructor */
    lua_Integer last_id;     /* the highest item id handed out */
    lua_Integer *free_ids;   /* ids free for reuse (keeps the tables dense) */
    int nfree;               /* entries in free_ids */
    int cap_free;            /* allocated entries of free_ids */
    int form;                /* priority queues: FORM_* */
    int key_type;            /* priority queues: LUA_TNONE, or the type of
                              * every key (LUA_TNUMBER or LUA_TSTRING) */
    const char *cls;         /* "Queue", "LifoQueue" or "PriorityQueue" */
} lqueue;

static lqueue *check_queue(lua_State *L, int idx) {
    /* A full userdata of our exact size whose first word is our marker can
     * only have been made here: Lua code cannot write userdata memory. */
    lqueue *queue = lua_touserdata(L, idx);
    if (queue == NULL || lua_type(L, idx) != LUA_TUSERDATA || lua_rawlen(L, idx) != sizeof *queue
        || queue->magic != &queue_magic)
        queue = lcr_testudata_range(L, idx, LCR_C_QUEUE, 3);
    if (queue == NULL)
        luaL_typeerror(L, idx, LCR_QUEUE);
    queue->L = L;
    return queue;
}

/* The priority order: keys were checked to be all numbers (not NaN) or
 * all strings, so lua_compare neither raises nor calls metamethods. */
static int key_less(void *data, cr_queue_item a, cr_queue_item b) {
    lqueue *queue = data;
    lua_State *L = queue->L;
    lua_getiuservalue(L, 1, UV_KEYS);
    lua_rawgeti(L, -1, (lua_Integer)a);
    lua_rawgeti(L, -2, (lua_Integer)b);
    int less = lua_compare(L, -2, -1, LUA_OPLT);
    lua_pop(L, 3);
    return less;
}

static int queue_create(lua_State *L, int cls, const char *name, int kind) {
    lua_Integer maxsize = 0;
    if (!lua_isnoneornil(L, 1)) {
        int isnum;
        maxsize = lua_tointegerx(L, 1, &isnum);
        if (!isnum && lua_isnumber(L, 1))
            return luaL_error(L, "bad argument #1 to '%s' (number has no integer representation)",
                              name);
        if (!isnum)
            return luaL_error(L, "bad argument #1 to '%s' (integer expected, got %s)", name,
                              luaL_typename(L, 1));
    }
    lqueue *queue = lua_newuserdatauv(L, sizeof *queue, UV_COUNT);
    queue->magic = &queue_magic;
    void *alloc_data;
    lua_Alloc alloc = lua_getallocf(L, &alloc_data);
    size_t bound = 0;
    if (maxsize > 0)
        bound = (lua_Unsigned)maxsize > SIZE_MAX ? SIZE_MAX : (size_t)maxsize;
    cr_queue_init(&queue->core, kind, bound, alloc, alloc_data);
    if (kind == CR_QUEUE_PRIORITY)
        cr_queue_set_less(&queue->core, key_less, queue);
    queue->L = L;
    queue->maxsize = maxsize;
    queue->last_id = 0;
    queue->free_ids = NULL;
    queue->nfree = queue->cap_free = 0;
    queue->form = FORM_NONE;
    queue->key_type = LUA_TNONE;
    queue->cls = name;
    lcr_setmetatable(L, cls);
    lua_newtable(L);
    lua_setiuservalue(L, -2, UV_ITEMS);
    lua_newtable(L);
    lua_setiuservalue(L, -2, UV_KEYS);
    return 1;
}

static int queue_new(lua_State *L) {
    return queue_create(L, LCR_C_QUEUE, "Queue", CR_QUEUE_FIFO);
}

static int lifoqueue_new(lua_State *L) {
    return queue_create(L, LCR_C_LIFOQUEUE, "LifoQueue", CR_QUEUE_LIFO);
}

static int prioqueue_new(lua_State *L) {
    return queue_create(L, LCR_C_PRIOQUEUE, "PriorityQueue", CR_QUEUE_PRIORITY);
}

/* ---- item storage ---- */

/* A priority queue's put: check that the key at `idx` can be ordered
 * against every other key this queue will ever hold. */
static void check_key(lua_State *L, lqueue *queue, int idx, int form) {
    if (queue->form != FORM_NONE && queue->form != form)
        luaL_error(L, "PriorityQueue: cannot mix put(item) and put(item, priority) in one queue");
    int type = lua_type(L, idx);
    if (type != LUA_TNUMBER && type != LUA_TSTRING)
        luaL_typeerror(L, idx, "number or string");
    if (type == LUA_TNUMBER && isnan(lua_tonumber(L, idx)))
        luaL_argerror(L, idx, "NaN cannot be ordered");
    if (queue->key_type != LUA_TNONE && queue->key_type != type)
        luaL_error(L, "PriorityQueue: attempt to compare %s with %s", lua_typename(L, type),
                   lua_typename(L, queue->key_type));
    queue->form = form;
    queue->key_type = type;
}

/* Store the item at index 2 (and its key) under a new id. */
static cr_queue_item store_item(lua_State *L, lqueue *queue) {
    int key_idx = 0;
    if (queue->core.kind == CR_QUEUE_PRIORITY) {
        int by_priority = !lua_isnoneornil(L, 3);
        key_idx = by_priority ? 3 : 2;
        check_key(L, queue, key_idx, by_priority ? FORM_BY_PRIORITY : FORM_BY_ITEM);
    }
    lua_Integer id = queue->nfree > 0 ? queue->free_ids[--queue->nfree] : ++queue->last_id;
    if (key_idx) {
        lua_getiuservalue(L, 1, UV_KEYS);
        lua_pushvalue(L, key_idx);
        lua_rawseti(L, -2, id);
        lua_pop(L, 1);
    }
    lua_getiuservalue(L, 1, UV_ITEMS);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, id);
    lua_pop(L, 1);
    return (cr_queue_item)id;
}

/* Forget an item (never raises: it only assigns nil) and recycle its id. */
static void drop_item(lua_State *L, lqueue *queue, cr_queue_item id) {
    int last = queue->core.kind == CR_QUEUE_PRIORITY ? UV_KEYS : UV_ITEMS;
    for (int uv = UV_ITEMS; uv <= last; uv++) {
        lua_getiuservalue(L, 1, uv);
        lua_pushnil(L);
        lua_rawseti(L, -2, (lua_Integer)id);
        lua_pop(L, 1);
    }
    if (queue->nfree == queue->cap_free) {
        void *ud;
        lua_Alloc alloc = lua_getallocf(L, &ud);
        int cap = queue->cap_free ? queue->cap_free * 2 : 16;
        lua_Integer *ids = alloc(ud, queue->free_ids, (size_t)queue->cap_free * sizeof *ids,
                                 (size_t)cap * sizeof *ids);
        if (ids == NULL)
            return; /* the id is simply not reused */
        queue->free_ids = ids;
        queue->cap_free = cap;
    }
    queue->free_ids[queue->nfree++] = (lua_Integer)id;
}

static void drop_cb(void *data, cr_queue_item id) {
    lqueue *queue = data;
    drop_item(queue->L, queue, id);
}

/* Push a taken item (item, and priority for a priority queue) and forget
 * it.  Returns the number of values pushed. */
static int push_taken(lua_State *L, lqueue *queue, cr_queue_item id) {
    lua_getiuservalue(L, 1, UV_ITEMS);
    lua_rawgeti(L, -1, (lua_Integer)id);
    lua_remove(L, -2);
    int n = 1;
    if (queue->core.kind == CR_QUEUE_PRIORITY) {
        if (queue->form == FORM_BY_PRIORITY) {
            lua_getiuservalue(L, 1, UV_KEYS);
            lua_rawgeti(L, -1, (lua_Integer)id);
            lua_remove(L, -2);
        } else {
            lua_pushnil(L);
        }
        n = 2;
    }
    drop_item(L, queue, id);
    return n;
}

/* Raise the error for a failed queue operation. */
static int raise_rc(lua_State *L, ltask *task, int rc) {
    switch (rc) {
    case CR_EQUEUE_EMPTY:
        return lcr_error_raise(L, "QueueEmpty", NULL);
    case CR_EQUEUE_FULL:
        return lcr_error_raise(L, "QueueFull", NULL);
    case CR_EQUEUE_SHUTDOWN:
        return lcr_error_raise(L, "QueueShutDown", NULL);
    default:
        return lcr_raise_code(L, task, rc);
    }
}

/* ---- put ---- */

static int put_finish(lua_State *L, ltask *self, int rc) {
    self->blocker = NULL;
    if (rc != CR_OK) {
        drop_item(L, check_queue(L, 1), (cr_queue_item)self->core.op.value);
        return raise_rc(L, self, rc);
    }
    return 0;
}

static int put_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    ltask *self = (ltask *)ctx;
    check_queue(L, 1);
    return put_finish(L, self, lcr_op_wait(L, self, put_k));
}

static int queue_put(lua_State *L) {
    lqueue *queue = check_queue(L, 1);
    ltask *self = lcr_need_task(L, "queue:put");
    lua_settop(L, 3);
    cr_queue_item id = store_item(L, queue);
    static const lcr_blocker blocker = {"Queue.put", NULL};
    self->blocker = &blocker;
    cr_op_queue_put(&self->core, &queue->core, id);
    return put_finish(L, self, lcr_op_wait(L, self, put_k));
}

static int queue_put_nowait(lua_State *L) {
    lqueue *queue = check_queue(L, 1);
    lua_settop(L, 3);
    cr_queue_item id = store_item(L, queue);
    int rc = cr_queue_put_nowait(&queue->core, id);
    if (rc != CR_OK) {
        drop_item(L, queue, id);
        return raise_rc(L, NULL, rc);
    }
    return 0;
}

/* ---- get ---- */

static int get_finish(lua_State *L, ltask *self, int rc) {
    self->blocker = NULL;
    if (rc != CR_OK)
        return raise_rc(L, self, rc);
    return push_taken(L, check_queue(L, 1), (cr_queue_item)self->core.op.value);
}

static int get_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    ltask *self = (ltask *)ctx;
    check_queue(L, 1);
    return get_finish(L, self, lcr_op_wait(L, self, get_k));
}

static int queue_get(lua_State *L) {
    lqueue *queue = check_queue(L, 1);
    ltask *self = lcr_need_task(L, "queue:get");
    lua_settop(L, 1);
    static const lcr_blocker blocker = {"Queue.get", NULL};
    self->blocker = &blocker;
    cr_op_queue_get(&self->core, &queue->core);
    return get_finish(L, self, lcr_op_wait(L, self, get_k));
}

static int queue_get_nowait(lua_State *L) {
    lqueue *queue = check_queue(L, 1);
    lua_settop(L, 1);
    cr_queue_item id;
    int rc = cr_queue_get_nowait(&queue->core, &id);
    if (rc != CR_OK)
        return raise_rc(L, NULL, rc);
    return push_taken(L, queue, id);
}

/* ---- join, task_done, shutdown ---- */

static int join_finish(lua_State *L, ltask *self, int rc) {
    self->blocker = NULL;
    if (rc != CR_OK)
        return raise_rc(L, self, rc);
    return 0;
}

static int join_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    ltask *self = (ltask *)ctx;
    return join_finish(L, self, lcr_op_wait(L, self, join_k));
}

static int queue_join(lua_State *L) {
    lqueue *queue = check_queue(L, 1);
    ltask *self = lcr_need_task(L, "queue:join");
    static const lcr_blocker blocker = {"Queue.join", NULL};
    self->blocker = &blocker;
    cr_op_queue_join(&self->core, &queue->core);
    return join_finish(L, self, lcr_op_wait(L, self, join_k));
}

static int queue_task_done(lua_State *L) {
    lqueue *queue = check_queue(L, 1);
    if (cr_queue_task_done(&queue->core) != CR_OK)
        return luaL_error(L, "task_done() called too many times");
    return 0;
}

static int queue_shutdown(lua_State *L) {
    lqueue *queue = check_queue(L, 1);
    int immediate = lua_toboolean(L, 2);
    lua_settop(L, 1);
    cr_queue_shutdown(&queue->core, immediate, drop_cb, queue);
    return 0;
}

/* ---- inspection ---- */

static int queue_qsize(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)cr_queue_size(&check_queue(L, 1)->core));
    return 1;
}

static int queue_empty(lua_State *L) {
    lua_pushboolean(L, cr_queue_size(&check_queue(L, 1)->core) == 0);
    return 1;
}

static int queue_full(lua_State *L) {
    lua_pushboolean(L, cr_queue_full(&check_queue(L, 1)->core));
    return 1;
}

static int queue_maxsize(lua_State *L) {
    lua_pushinteger(L, check_queue(L, 1)->maxsize);
    return 1;
}

static int queue_tostring(lua_State *L) {
    lqueue *queue = check_queue(L, 1);
    lua_pushfstring(L, "<corral.%s %p maxsize=%I size=%I getters=%I putters=%I tasks=%I%s>",
                    queue->cls, (void *)queue, queue->maxsize,
                    (lua_Integer)cr_queue_size(&queue->core),
                    (lua_Integer)queue->core.getters.n, (lua_Integer)queue->core.putters.n,
                    (lua_Integer)queue->core.unfinished,
                    queue->core.is_shutdown ? " shutdown" : "");
    return 1;
}

static int queue_gc(lua_State *L) {
    lqueue *queue = check_queue(L, 1);
    cr_queue_free(&queue->core);
    if (queue->free_ids != NULL) {
        void *ud;
        lua_Alloc alloc = lua_getallocf(L, &ud);
        alloc(ud, queue->free_ids, (size_t)queue->cap_free * sizeof *queue->free_ids, 0);
        queue->free_ids = NULL;
        queue->nfree = queue->cap_free = 0;
    }
    return 0;
}

void lcr_queue_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"put", queue_put},
        {"get", queue_get},
        {"put_nowait", queue_put_nowait},
        {"get_nowait", queue_get_nowait},
        {"qsize", queue_qsize},
        {"empty", queue_empty},
        {"full", queue_full},
        {"maxsize", queue_maxsize},
        {"task_done", queue_task_done},
        {"join", queue_join},
        {"shutdown", queue_shutdown},
        {NULL, NULL},
    };
    static const luaL_Reg metamethods[] = {
        {"__tostring", queue_tostring},
        {"__gc", queue_gc},
        {NULL, NULL},
    };
    lcr_new_class_fast(L, LCR_C_QUEUE, LCR_QUEUE, methods, metamethods);
    lcr_new_class_fast(L, LCR_C_LIFOQUEUE, LCR_LIFOQUEUE, methods, metamethods);
    lcr_new_class_fast(L, LCR_C_PRIOQUEUE, LCR_PRIOQUEUE, methods, metamethods);
    lua_pushcfunction(L, queue_new);
    lua_setfield(L, -2, "Queue");
    lua_pushcfunction(L, lifoqueue_new);
    lua_setfield(L, -2, "LifoQueue");
    lua_pushcfunction(L, prioqueue_new);
    lua_setfield(L, -2, "PriorityQueue");
}
