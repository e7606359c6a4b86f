#define G_LOG_DOMAIN "pl-team"

#include "config.h"

#include "pl-team.h"

/* How long an idle member spins on the round counter before it sleeps on the condition. */
#define SPIN_USEC 40

typedef struct {
  PlTeam *team;
  guint   index;
} Member;

struct _PlTeam {
  guint       n_threads;
  Member      members[PL_TEAM_MAX_THREADS];
  GThread    *threads[PL_TEAM_MAX_THREADS];
  GMutex      lock;
  GCond       start_cond;
  GCond       done_cond;
  gint        generation;  /* atomic: raised to start a round */
  gint        pending;     /* atomic: members still running the round */
  gint        quit;        /* atomic */
  /* Who sleeps on a condition, so that rounds between spinning threads make no system call:
   * raised under the lock before the condition is checked a last time, and read after the
   * state it waits for is changed (both sequentially consistent), so that one of the two
   * threads sees the other. */
  gint        sleepers;       /* atomic: members waiting on start_cond */
  gint        caller_sleeps;  /* atomic: the caller waits on done_cond */
  PlTeamFunc  func;        /* written before generation is raised */
  gpointer    data;
};

/* One round of a bounded spin: pauses, and returns FALSE once SPIN_USEC have passed. */
static inline gboolean
spin_on (guint   round,
         gint64 *deadline)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
  if ((round & 63) == 0)
    {
      gint64 now = g_get_monotonic_time ();

      if (*deadline == 0)
        *deadline = now + SPIN_USEC;
      else if (now > *deadline)
        return FALSE;
    }
  return TRUE;
}

static gpointer
member_main (gpointer data)
{
  Member *m = data;
  PlTeam *team = m->team;
  guint seen = 0;

  for (;;)
    {
      gint64 deadline = 0;
      guint gen;

      for (guint i = 0; (gen = (guint) g_atomic_int_get (&team->generation)) == seen
                        && !g_atomic_int_get (&team->quit) && spin_on (i, &deadline); i++)
        ;
      if (gen == seen)
        {
          g_mutex_lock (&team->lock);
          g_atomic_int_inc (&team->sleepers);
          while ((guint) g_atomic_int_get (&team->generation) == seen && !g_atomic_int_get (&team->quit))
            g_cond_wait (&team->start_cond, &team->lock);
          g_atomic_int_add (&team->sleepers, -1);
          g_mutex_unlock (&team->lock);
        }
      if (g_atomic_int_get (&team->quit))
        break;

      seen = (guint) g_atomic_int_get (&team->generation);
      team->func (m->index, team->n_threads, team->data);

      if (g_atomic_int_dec_and_test (&team->pending) && g_atomic_int_get (&team->caller_sleeps))
        {
          g_mutex_lock (&team->lock);
          g_cond_signal (&team->done_cond);
          g_mutex_unlock (&team->lock);
        }
    }

  return NULL;
}

PlTeam *
pl_team_new (guint n_threads)
{
  PlTeam *team = g_new0 (PlTeam, 1);

  team->n_threads = CLAMP (n_threads, 1, PL_TEAM_MAX_THREADS);
  g_mutex_init (&team->lock);
  g_cond_init (&team->start_cond);
  g_cond_init (&team->done_cond);

  for (guint t = 0; t < team->n_threads; t++)
    {
      team->members[t] = (Member) { team, t };
      if (t > 0)
        team->threads[t] = g_thread_new ("pl-team", member_main, &team->members[t]);
    }

  return team;
}

void
pl_team_free (PlTeam *team)
{
  if (team == NULL)
    return;

  g_mutex_lock (&team->lock);
  g_atomic_int_set (&team->quit, TRUE);
  g_cond_broadcast (&team->start_cond);
  g_mutex_unlock (&team->lock);

  for (guint t = 1; t < team->n_threads; t++)
    g_thread_join (team->threads[t]);

  g_mutex_clear (&team->lock);
  g_cond_clear (&team->start_cond);
  g_cond_clear (&team->done_cond);
  g_free (team);
}

guint
pl_team_size (PlTeam *team)
{
  return team->n_threads;
}

void
pl_team_run (PlTeam     *team,
             PlTeamFunc  func,
             gpointer    data)
{
  if (team->n_threads == 1)
    {
      func (0, 1, data);
      return;
    }

  team->func = func;
  team->data = data;
  g_atomic_int_set (&team->pending, (gint) team->n_threads - 1);
  g_atomic_int_inc (&team->generation);
  if (g_atomic_int_get (&team->sleepers) > 0)
    {
      g_mutex_lock (&team->lock);
      g_cond_broadcast (&team->start_cond);
      g_mutex_unlock (&team->lock);
    }

  func (0, team->n_threads, data);

  {
    gint64 deadline = 0;

    for (guint i = 0; g_atomic_int_get (&team->pending) > 0 && spin_on (i, &deadline); i++)
      ;
    if (g_atomic_int_get (&team->pending) > 0)
      {
        g_mutex_lock (&team->lock);
        g_atomic_int_set (&team->caller_sleeps, TRUE);
        while (g_atomic_int_get (&team->pending) > 0)
          g_cond_wait (&team->done_cond, &team->lock);
        g_atomic_int_set (&team->caller_sleeps, FALSE);
        g_mutex_unlock (&team->lock);
      }
  }
}
