/* pl-team.h — a fixed team of threads that runs one function on every member and waits
 *
 * The calling thread is member 0, so a team of one runs everything inline. Rounds are short
 * (about a millisecond) and follow each other closely: idle members spin briefly before they
 * sleep. One round at a time; a team is used from one thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PL_TEAM_MAX_THREADS 64

typedef struct _PlTeam PlTeam;

/* Called once on every member; index in 0..n_threads-1. */
typedef void (*PlTeamFunc) (guint    index,
                            guint    n_threads,
                            gpointer data);

PlTeam *pl_team_new     (guint       n_threads);
void    pl_team_free    (PlTeam     *team);
guint   pl_team_size    (PlTeam     *team);
/* Runs @func on every member (the caller as member 0) and returns when all have finished. */
void    pl_team_run     (PlTeam     *team,
                         PlTeamFunc  func,
                         gpointer    data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlTeam, pl_team_free)

G_END_DECLS
