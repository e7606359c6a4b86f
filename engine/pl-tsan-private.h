/* pl-tsan-private.h — telling ThreadSanitizer where GLib orders memory
 *
 * TSan intercepts pthread calls, but GLib on Linux implements GMutex, GCond (and so GAsyncQueue
 * and the main-context lock) with futexes, and reference counts (GBytes, rc-boxes) with atomics,
 * all inside an uninstrumented libglib: TSan sees none of that ordering and reports every
 * hand-over through them as a race. These annotations state the ordering that the GLib call
 * next to them provides — no more — at the engine thread's few hand-over points. They compile
 * to nothing without -fsanitize=thread.
 */
#pragma once

#include <glib.h>

#if defined(__SANITIZE_THREAD__)
# define PL_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define PL_TSAN 1
# endif
#endif

#ifdef PL_TSAN
void __tsan_acquire (void *addr);
void __tsan_release (void *addr);
/* after a lock, a pop: what the matching release published is visible */
# define PL_TSAN_ACQUIRE(p) __tsan_acquire ((void *) (p))
/* before an unlock, a push */
# define PL_TSAN_RELEASE(p) __tsan_release ((void *) (p))
#else
# define PL_TSAN_ACQUIRE(p) G_STMT_START { (void) (p); } G_STMT_END
# define PL_TSAN_RELEASE(p) G_STMT_START { (void) (p); } G_STMT_END
#endif

/* g_bytes_unref() decrements with a sequentially consistent atomic, so every unref orders
 * after the ones before it, and whoever frees sees every holder's reads: release, then acquire
 * on the object, as the atomic does. */
static inline void
pl_bytes_unref (GBytes *bytes)
{
  PL_TSAN_RELEASE (bytes);
  PL_TSAN_ACQUIRE (bytes);
  g_bytes_unref (bytes);
}
