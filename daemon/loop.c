/* loop.c - epoll + a binary heap of timers. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "util.h"

int
loop_init(struct loop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->heap = NULL;
	l->n_timers = l->cap_timers = 0;
	l->stop = 0;
	l->n_ready = 0;
	l->now = time_mono_ms();
	return l->epfd < 0 ? -1 : 0;
}

void
loop_free(struct loop *l)
{
	size_t i;

	for (i = 0; i < l->n_timers; i++)
		l->heap[i]->heap_idx = 0;
	free(l->heap);
	l->heap = NULL;
	l->n_timers = l->cap_timers = 0;
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int
loop_fd_add(struct loop *l, struct loop_fd *lfd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = lfd };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, lfd->fd, &ev) < 0)
		return -1;
	lfd->registered = true;
	return 0;
}

int
loop_fd_mod(struct loop *l, struct loop_fd *lfd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = lfd };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, lfd->fd, &ev);
}

void
loop_fd_del(struct loop *l, struct loop_fd *lfd)
{
	int i;

	if (lfd->registered && lfd->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, lfd->fd, NULL);
	lfd->registered = false;
	/* The owner may free lfd right after this: forget it in the batch
	 * of events being dispatched so that it is never touched again. */
	for (i = 0; i < l->n_ready; i++)
		if (l->ready[i] == lfd)
			l->ready[i] = NULL;
}

/* Heap helpers: heap_idx is position + 1 so that 0 means "not pending". */
static void
heap_place(struct loop *l, struct loop_timer *t, size_t i)
{
	l->heap[i] = t;
	t->heap_idx = i + 1;
}

static void
heap_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->deadline <= t->deadline)
			break;
		heap_place(l, l->heap[p], i);
		i = p;
	}
	heap_place(l, t, i);
}

static void
heap_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->n_timers)
			break;
		if (c + 1 < l->n_timers && l->heap[c + 1]->deadline < l->heap[c]->deadline)
			c++;
		if (t->deadline <= l->heap[c]->deadline)
			break;
		heap_place(l, l->heap[c], i);
		i = c;
	}
	heap_place(l, t, i);
}

bool
loop_timer_pending(const struct loop_timer *t)
{
	return t->heap_idx != 0;
}

void
loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	struct loop_timer *moved;
	size_t i;

	if (t->heap_idx == 0)
		return;
	i = t->heap_idx - 1;
	t->heap_idx = 0;
	l->n_timers--;
	if (i == l->n_timers)
		return;
	moved = l->heap[l->n_timers];
	heap_place(l, moved, i);
	heap_down(l, i);
	heap_up(l, moved->heap_idx - 1);
}

void
loop_timer_set_at(struct loop *l, struct loop_timer *t, uint64_t deadline)
{
	loop_timer_cancel(l, t);
	if (l->n_timers == l->cap_timers) {
		size_t cap = l->cap_timers ? l->cap_timers * 2 : 16;
		struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));
		if (h == NULL)
			fatal("timer heap");
		l->heap = h;
		l->cap_timers = cap;
	}
	t->deadline = deadline;
	heap_place(l, t, l->n_timers++);
	heap_up(l, l->n_timers - 1);
}

void
loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t ms)
{
	loop_timer_set_at(l, t, time_mono_ms() + ms);
}

static void
run_timers(struct loop *l)
{
	l->now = time_mono_ms();
	while (l->n_timers > 0 && l->heap[0]->deadline <= l->now) {
		struct loop_timer *t = l->heap[0];
		loop_timer_cancel(l, t);
		t->cb(t);
	}
}

int
loop_once(struct loop *l, int max_wait_ms)
{
	struct epoll_event evs[LOOP_MAX_READY];
	int timeout = max_wait_ms, n, i;

	run_timers(l);
	if (l->n_timers > 0) {
		uint64_t now = time_mono_ms();
		uint64_t d = l->heap[0]->deadline > now ? l->heap[0]->deadline - now : 0;
		if (d > 60000)
			d = 60000;
		if (timeout < 0 || (uint64_t)timeout > d)
			timeout = (int)d;
	}
	n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	l->now = time_mono_ms();
	for (i = 0; i < n; i++)
		l->ready[i] = evs[i].data.ptr;
	l->n_ready = n;
	for (i = 0; i < n; i++) {
		struct loop_fd *lfd = l->ready[i];
		if (lfd != NULL && lfd->registered)
			lfd->cb(lfd, evs[i].events);
	}
	l->n_ready = 0;
	run_timers(l);
	return n;
}

void
loop_run(struct loop *l, volatile int *stop_flag)
{
	while (!*stop_flag && !l->stop) {
		if (loop_once(l, -1) < 0)
			fatal("epoll_wait");
	}
}
