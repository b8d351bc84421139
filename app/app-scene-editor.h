/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct _AppWindow AppWindow;

#define APP_TYPE_SCENE_EDITOR (app_scene_editor_get_type ())
G_DECLARE_FINAL_TYPE (AppSceneEditor, app_scene_editor, APP, SCENE_EDITOR, GtkPopover)

GtkWidget *app_scene_editor_new        (void);
/* The window whose session the editor changes (not owned). */
void       app_scene_editor_set_window (AppSceneEditor *self,
                                        AppWindow      *window);

G_END_DECLS
