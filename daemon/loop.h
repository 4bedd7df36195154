/* loop.h - the event loop: epoll for descriptors, a heap of timers on the
 * monotonic clock.  The loop owns nothing but the wait: owners embed a
 * struct loop_fd / struct loop_timer and get back to themselves with
 * container_of() in the callback. */
#ifndef IGDD_LOOP_H
#define IGDD_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct loop_fd;
struct loop_timer;
typedef void (*loop_fd_cb)(struct loop_fd *lfd, uint32_t events);
typedef void (*loop_timer_cb)(struct loop_timer *t);

struct loop_fd {
	int fd;
	loop_fd_cb cb;
	bool registered;
};

struct loop_timer {
	uint64_t deadline;	/* monotonic ms */
	loop_timer_cb cb;
	size_t heap_idx;	/* 0 = not pending, else position + 1 */
};

#define LOOP_MAX_READY 64

struct loop {
	int epfd;
	struct loop_fd *ready[LOOP_MAX_READY];	/* batch being dispatched */
	int n_ready;
	struct loop_timer **heap;
	size_t n_timers, cap_timers;
	volatile int stop;
	uint64_t now;		/* monotonic ms, refreshed each iteration */
};

int loop_init(struct loop *l);
void loop_free(struct loop *l);
/* events: EPOLLIN/EPOLLOUT... 0 ok, -1 error (errno). */
int loop_fd_add(struct loop *l, struct loop_fd *lfd, uint32_t events);
int loop_fd_mod(struct loop *l, struct loop_fd *lfd, uint32_t events);
/* Unregister; safe to free lfd right after, even inside a callback. */
void loop_fd_del(struct loop *l, struct loop_fd *lfd);
/* Arm (or re-arm) a timer to fire ms from now. */
void loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t ms);
/* Arm at an absolute monotonic deadline. */
void loop_timer_set_at(struct loop *l, struct loop_timer *t, uint64_t deadline);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
bool loop_timer_pending(const struct loop_timer *t);
/* One wait + dispatch, waiting at most max_wait_ms (-1 = until a timer). */
int loop_once(struct loop *l, int max_wait_ms);
/* Run until l->stop is set (signal handlers set a flag; main checks it). */
void loop_run(struct loop *l, volatile int *stop_flag);

#endif
