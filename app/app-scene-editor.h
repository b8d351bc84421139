/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "sim-document.h"

G_BEGIN_DECLS

#define APP_TYPE_SCENE_EDITOR (app_scene_editor_get_type ())
G_DECLARE_FINAL_TYPE (AppSceneEditor, app_scene_editor, APP, SCENE_EDITOR, GtkPopover)

GtkWidget   *app_scene_editor_new          (void);
/* The document whose session the editor changes (the "document" property). */
SimDocument *app_scene_editor_get_document (AppSceneEditor *self);
void         app_scene_editor_set_document (AppSceneEditor *self,
                                            SimDocument    *document);

G_END_DECLS
