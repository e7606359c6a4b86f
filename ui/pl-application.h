/* pl-application.h — the PruneLab application: app actions, style, the main window */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PL_APPLICATION_ID "io.github.prunelab.PruneLab"
#define PL_TYPE_APPLICATION (pl_application_get_type ())

G_DECLARE_FINAL_TYPE (PlApplication, pl_application, PL, APPLICATION, AdwApplication)

PlApplication *pl_application_new (void);

G_END_DECLS
