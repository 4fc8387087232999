/*
 * list.h - intrusive circular doubly-linked lists.
 *
 * A list is a cr_link used as a sentinel head; elements embed a cr_link.
 * Unlinked nodes have both pointers NULL so that a double unlink or a
 * double insert fails an assertion instead of corrupting memory.
 */
#ifndef CORRAL_LIST_H
#define CORRAL_LIST_H

#include <assert.h>
#include <stddef.h>

typedef struct cr_link {
    struct cr_link *prev; /* previous node, or NULL when unlinked */
    struct cr_link *next; /* next node, or NULL when unlinked */
} cr_link;

/* Recover the struct that embeds `ptr` as member `member`. */
#define cr_container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void cr_list_init(cr_link *head) {
    head->prev = head->next = head;
}

static inline void cr_link_clear(cr_link *node) {
    node->prev = node->next = NULL;
}

static inline int cr_link_is_linked(const cr_link *node) {
    return node->next != NULL;
}

static inline int cr_list_is_empty(const cr_link *head) {
    return head->next == head;
}

/* Append `node` (which must be unlinked) at the back of `head`. */
static inline void cr_list_push_back(cr_link *head, cr_link *node) {
    assert(node->next == NULL && node->prev == NULL);
    node->prev = head->prev;
    node->next = head;
    head->prev->next = node;
    head->prev = node;
}

/* Unlink `node` from whatever list holds it. */
static inline void cr_list_remove(cr_link *node) {
    assert(node->next != NULL && node->prev != NULL);
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = NULL;
}

/* Remove and return the first node, or NULL when the list is empty. */
static inline cr_link *cr_list_pop_front(cr_link *head) {
    cr_link *node = head->next;
    if (node == head)
        return NULL;
    cr_list_remove(node);
    return node;
}

/* Move every node of `from` to the back of `to`, leaving `from` empty. */
static inline void cr_list_splice_back(cr_link *to, cr_link *from) {
    if (cr_list_is_empty(from))
        return;
    from->next->prev = to->prev;
    from->prev->next = to;
    to->prev->next = from->next;
    to->prev = from->prev;
    cr_list_init(from);
}

#define cr_list_for_each(pos, head) \
    for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

#endif
