/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-scene-editor.h"

#include "app-window.h"

/*
 * The "Scene" popover: change the scene while it runs.  Every button is one AppWindow edit,
 * which is a SimWorld command (so the trace shows it) remembered with its time (so restart,
 * step back and Save replay it).
 */

struct _AppSceneEditor {
  GtkPopover parent_instance;

  GtkEntry *user_entry;
  GtkEntry *device_entry;
  GtkEntry *ip_entry;
  GtkEntry *password_entry;
  GtkDropDown *phone_dropdown;
  GtkStringList *phones;
  GtkEntry *move_entry;
  GtkEntry *wrong_entry;
  GtkSpinButton *loss_spin;
  GtkLabel *status;

  AppWindow *window;      /* weak */
};

G_DEFINE_FINAL_TYPE (AppSceneEditor, app_scene_editor, GTK_TYPE_POPOVER)

static const char *
entry_text (GtkEntry *entry)
{
  return gtk_editable_get_text (GTK_EDITABLE (entry));
}

static void
refresh_phones (AppSceneEditor *self)
{
  SimWorld *world = self->window ? app_window_get_world (self->window) : NULL;
  GPtrArray *phones = world ? sim_world_get_phones (world) : NULL;
  g_autofree char *keep = NULL;
  guint selected = gtk_drop_down_get_selected (self->phone_dropdown);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->phones));
  g_autoptr(GPtrArray) names = g_ptr_array_new_null_terminated (0, NULL, TRUE);

  if (selected < n)
    keep = g_strdup (gtk_string_list_get_string (self->phones, selected));
  for (guint i = 0; phones != NULL && i < phones->len; i++)
    g_ptr_array_add (names, (gpointer) sim_phone_get_device (phones->pdata[i]));
  gtk_string_list_splice (self->phones, 0, n, (const char * const *) names->pdata);
  for (guint i = 0; keep != NULL && i < names->len; i++)
    if (g_strcmp0 (names->pdata[i], keep) == 0)
      gtk_drop_down_set_selected (self->phone_dropdown, i);
}

static const char *
selected_phone (AppSceneEditor *self)
{
  guint selected = gtk_drop_down_get_selected (self->phone_dropdown);

  if (selected >= g_list_model_get_n_items (G_LIST_MODEL (self->phones)))
    return NULL;
  return gtk_string_list_get_string (self->phones, selected);
}

/* Shows how an edit went, and keeps the list of phones current. */
static void
report (AppSceneEditor *self,
        gboolean        ok,
        GError         *error,
        const char     *done)
{
  if (ok)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->status), "error");
      gtk_label_set_text (self->status, done);
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->status), "error");
      gtk_label_set_text (self->status, error ? error->message : "Choose a phone first");
    }
  refresh_phones (self);
}

static void
popover_show_cb (AppSceneEditor *self)
{
  gtk_label_set_text (self->status, "");
  refresh_phones (self);
}

static void
add_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = app_window_add_phone (self->window, entry_text (self->user_entry),
                             entry_text (self->password_entry), entry_text (self->device_entry),
                             entry_text (self->ip_entry), &error);
  report (self, ok, error, "Phone added.");
}

static void
register_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  report (self, phone && app_window_register (self->window, phone, &error), error,
          "REGISTER sent.");
}

static void
power_off_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  report (self, phone && app_window_set_power (self->window, phone, FALSE, &error), error,
          "Powered off: no more refreshes, and no goodbye to the registrar.");
}

static void
power_on_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  report (self, phone && app_window_set_power (self->window, phone, TRUE, &error), error,
          "Powered on.");
}

static void
remove_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *phone = g_strdup (selected_phone (self));

  report (self, phone && app_window_remove_phone (self->window, phone, &error), error,
          "Phone removed.");
}

static void
move_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  report (self, phone && app_window_move_phone (self->window, phone, entry_text (self->move_entry),
                                                &error),
          error, "Moved.");
}

static void
password_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  report (self, phone && app_window_set_phone_password (self->window, phone,
                                                        entry_text (self->wrong_entry), &error),
          error, "The phone uses this password from its next REGISTER on.");
}

static void
registrar_mode_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;

  report (self, app_window_set_mode (self->window, SIM_MODE_REGISTRAR, &error), error,
          "Registrar mode: phones register and call through the registrar.");
}

static void
p2p_mode_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;

  report (self, app_window_set_mode (self->window, SIM_MODE_P2P, &error), error,
          "Point-to-point: phones call the addresses in their address books.");
}

static void
loss_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  double loss = gtk_spin_button_get_value (self->loss_spin) / 100.0;

  report (self, app_window_set_link_loss (self->window, NULL, NULL, loss, &error), error,
          "Link loss changed.");
}

static void
app_scene_editor_dispose (GObject *object)
{
  AppSceneEditor *self = APP_SCENE_EDITOR (object);

  g_clear_weak_pointer (&self->window);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_SCENE_EDITOR);
  G_OBJECT_CLASS (app_scene_editor_parent_class)->dispose (object);
}

static void
app_scene_editor_class_init (AppSceneEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_scene_editor_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/siplab/SipLab/app-scene-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, user_entry);
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, device_entry);
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, ip_entry);
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, password_entry);
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, phone_dropdown);
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, phones);
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, move_entry);
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, wrong_entry);
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, loss_spin);
  gtk_widget_class_bind_template_child (widget_class, AppSceneEditor, status);
  gtk_widget_class_bind_template_callback (widget_class, popover_show_cb);
  gtk_widget_class_bind_template_callback (widget_class, add_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, register_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, power_off_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, power_on_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, remove_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, move_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, password_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, registrar_mode_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, p2p_mode_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, loss_clicked_cb);
}

static void
app_scene_editor_init (AppSceneEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
app_scene_editor_new (void)
{
  return g_object_new (APP_TYPE_SCENE_EDITOR, NULL);
}

void
app_scene_editor_set_window (AppSceneEditor *self,
                             AppWindow      *window)
{
  g_return_if_fail (APP_IS_SCENE_EDITOR (self));
  g_set_weak_pointer (&self->window, window);
}
