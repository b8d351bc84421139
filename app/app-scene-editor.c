/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-scene-editor.h"
#include "sim-i18n.h"

/*
 * The "Scene" popover: change the scene while it runs.  Every button is one edit of the
 * document (a SimCommand of the command language): the world runs it at once, so the trace
 * shows it, and the document remembers it with its time, so restart, step back and Save replay
 * it.
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

  SimDocument *document;
};

enum {
  PROP_0,
  PROP_DOCUMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AppSceneEditor, app_scene_editor, GTK_TYPE_POPOVER)

static const char *
entry_text (GtkEntry *entry)
{
  return gtk_editable_get_text (GTK_EDITABLE (entry));
}

static void
refresh_phones (AppSceneEditor *self)
{
  SimWorld *world = self->document ? sim_document_get_world (self->document) : NULL;
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
      gtk_label_set_text (self->status, error ? error->message : _("Choose a phone first"));
    }
  refresh_phones (self);
}

static void
popover_show_cb (AppSceneEditor *self)
{
  gtk_label_set_text (self->status, "");
  refresh_phones (self);
}

/* An edit that names a phone only: @verb on @device. */
static gboolean
edit (AppSceneEditor  *self,
      SimVerb          verb,
      const char      *device,
      GError         **error)
{
  g_autoptr(SimCommand) command = sim_command_new (verb);

  if (self->document == NULL)
    return FALSE;
  command->device = g_strdup (device);
  return sim_document_apply (self->document, command, error);
}

static void
add_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(SimCommand) command = sim_command_new (SIM_VERB_ADD_PHONE);
  g_autoptr(GError) error = NULL;
  const char *password = entry_text (self->password_entry);

  command->device = g_strdup (entry_text (self->device_entry));
  command->user = g_strdup (entry_text (self->user_entry));
  command->value = g_strdup (entry_text (self->ip_entry));
  /* An existing user's phone needs none: it uses the user's. */
  command->password = *password != '\0' ? g_strdup (password) : NULL;
  report (self, self->document != NULL && sim_document_apply (self->document, command, &error),
          error, _("Phone added."));
}

static void
register_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  report (self, phone && edit (self, SIM_VERB_REGISTER, phone, &error), error, _("REGISTER sent."));
}

static void
power_off_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  report (self, phone && edit (self, SIM_VERB_POWER_OFF, phone, &error), error,
          _("Powered off: no more refreshes, and no goodbye to the registrar."));
}

static void
power_on_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  report (self, phone && edit (self, SIM_VERB_POWER_ON, phone, &error), error, _("Powered on."));
}

static void
remove_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *phone = g_strdup (selected_phone (self));

  report (self, phone && edit (self, SIM_VERB_REMOVE_PHONE, phone, &error), error,
          _("Phone removed."));
}

static void
move_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(SimCommand) command = sim_command_new (SIM_VERB_MOVE);
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  command->device = g_strdup (phone);
  command->value = g_strdup (entry_text (self->move_entry));
  report (self, phone && self->document != NULL &&
                sim_document_apply (self->document, command, &error),
          error, "Moved.");
}

static void
password_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(SimCommand) command = sim_command_new (SIM_VERB_PASSWORD);
  g_autoptr(GError) error = NULL;
  const char *phone = selected_phone (self);

  command->device = g_strdup (phone);
  command->value = g_strdup (entry_text (self->wrong_entry));
  report (self, phone && self->document != NULL &&
                sim_document_apply (self->document, command, &error),
          error, _("The phone uses this password from its next REGISTER on."));
}

static gboolean
set_mode (AppSceneEditor  *self,
          SimMode          mode,
          GError         **error)
{
  g_autoptr(SimCommand) command = sim_command_new (SIM_VERB_MODE);

  command->mode = mode;
  return self->document != NULL && sim_document_apply (self->document, command, error);
}

static void
registrar_mode_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;

  report (self, set_mode (self, SIM_MODE_REGISTRAR, &error), error,
          _("Registrar mode: phones register and call through the registrar."));
}

static void
p2p_mode_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(GError) error = NULL;

  report (self, set_mode (self, SIM_MODE_P2P, &error), error,
          _("Point-to-point: phones call the addresses in their address books."));
}

static void
loss_clicked_cb (AppSceneEditor *self)
{
  g_autoptr(SimCommand) command = sim_command_new (SIM_VERB_LINK);
  g_autoptr(GError) error = NULL;

  /* "link default loss N%": every link, the other parameters as they are. */
  command->link.fields = SIM_LINK_FIELD_LOSS;
  command->link.params.loss = gtk_spin_button_get_value (self->loss_spin) / 100.0;
  report (self, self->document != NULL && sim_document_apply (self->document, command, &error),
          error, _("Link loss changed."));
}

static void
app_scene_editor_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  AppSceneEditor *self = APP_SCENE_EDITOR (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
app_scene_editor_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  AppSceneEditor *self = APP_SCENE_EDITOR (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      app_scene_editor_set_document (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
app_scene_editor_dispose (GObject *object)
{
  AppSceneEditor *self = APP_SCENE_EDITOR (object);

  g_clear_object (&self->document);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_SCENE_EDITOR);
  G_OBJECT_CLASS (app_scene_editor_parent_class)->dispose (object);
}

static void
app_scene_editor_class_init (AppSceneEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_scene_editor_dispose;
  object_class->get_property = app_scene_editor_get_property;
  object_class->set_property = app_scene_editor_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, SIM_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

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

SimDocument *
app_scene_editor_get_document (AppSceneEditor *self)
{
  g_return_val_if_fail (APP_IS_SCENE_EDITOR (self), NULL);
  return self->document;
}

void
app_scene_editor_set_document (AppSceneEditor *self,
                               SimDocument    *document)
{
  g_return_if_fail (APP_IS_SCENE_EDITOR (self));
  g_return_if_fail (document == NULL || SIM_IS_DOCUMENT (document));

  if (g_set_object (&self->document, document))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}
