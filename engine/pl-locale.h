/* pl-locale.h — the user's locale and PruneLab's translations, for every program
 *
 * Translations are looked up in LOCALEDIR (the install prefix's share/locale), or, for a
 * program run from its build tree (build/app/prunelab, build/app/prunelab-cli), in the
 * translations that build compiled (build/po/LANG/LC_MESSAGES/prunelab.mo), so that an
 * uninstalled program speaks the user's language too. Numbers in files, JSON and CSV always
 * use '.', whatever the locale: LC_NUMERIC stays "C".
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call first in main(). Returns the folder translations are read from. (transfer none) */
const char *pl_locale_init (void);

G_END_DECLS
