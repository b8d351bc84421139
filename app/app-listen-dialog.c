/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-listen-dialog.h"
#include "sim-i18n.h"

/*
 * Where the registrar listens for real phones: an address, a port, UDP and/or TCP, the domain
 * and a users file.  A failure (an address in use, a bad users line) stays in the dialog so it
 * can be corrected; success closes it and the document goes live (sim_document_listen()).
 */

struct _AppListenDialog {
  GtkWindow parent_instance;

  GtkEntry *address;
  GtkSpinButton *port;
  GtkDropDown *transport;
  GtkEntry *domain;
  GtkEntry *users;
  GtkCheckButton *with_scene;
  GtkLabel *error_label;
  GtkButton *listen_button;

  SimDocument *document;
  GtkFileChooserNative *chooser;
};

enum {
  PROP_0,
  PROP_DOCUMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AppListenDialog, app_listen_dialog, GTK_TYPE_WINDOW)

enum {
  TRANSPORT_UDP,
  TRANSPORT_TCP,
  TRANSPORT_BOTH,
};

static void
show_error (AppListenDialog *self,
            const char      *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static char *
entry_text (GtkEntry *entry)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
}

static void
start_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  AppListenDialog *self = APP_LISTEN_DIALOG (widget);
  guint transport = gtk_drop_down_get_selected (self->transport);
  g_autofree char *address = entry_text (self->address);
  g_autofree char *domain = entry_text (self->domain);
  g_autofree char *users = entry_text (self->users);
  SimListenOptions options = {
    .address = address,
    .port = (guint) gtk_spin_button_get_value_as_int (self->port),
    .udp = transport == TRANSPORT_UDP || transport == TRANSPORT_BOTH,
    .tcp = transport == TRANSPORT_TCP || transport == TRANSPORT_BOTH,
    .domain = domain,
    .users_path = users,
    .with_scene = gtk_check_button_get_active (self->with_scene),
  };
  g_autoptr(GError) error = NULL;

  if (self->document == NULL)
    return;
  if (!sim_document_listen (self->document, &options, &error))
    {
      show_error (self, error->message);
      return;
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
chooser_response_cb (AppListenDialog      *self,
                     int                   response,
                     GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        gtk_editable_set_text (GTK_EDITABLE (self->users), path);
    }
  g_clear_object (&self->chooser);
}

static void
choose_users_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  AppListenDialog *self = APP_LISTEN_DIALOG (widget);

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Users File"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (chooser_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* With the scene's phones, the scene's domain is the registrar's. */
static void
with_scene_toggled_cb (AppListenDialog *self)
{
  gboolean with_scene = gtk_check_button_get_active (self->with_scene);
  SimWorld *world = self->document ? sim_document_get_world (self->document) : NULL;

  if (with_scene && world != NULL && sim_world_get_domain (world) != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->domain), sim_world_get_domain (world));
  gtk_widget_set_sensitive (GTK_WIDGET (self->domain), !with_scene);
}

static void
app_listen_dialog_dispose (GObject *object)
{
  AppListenDialog *self = APP_LISTEN_DIALOG (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->document);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_LISTEN_DIALOG);
  G_OBJECT_CLASS (app_listen_dialog_parent_class)->dispose (object);
}

/* What the dialog proposes follows the document it is made for. */
static void
set_document (AppListenDialog *self,
              SimDocument     *document)
{
  SimWorld *world;
  SimScenario *scene;

  if (!g_set_object (&self->document, document) || document == NULL)
    return;
  world = sim_document_get_world (document);
  scene = sim_document_get_scenario (document);
  if (world != NULL && sim_world_get_domain (world) != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->domain), sim_world_get_domain (world));
  /* A scene with a registrar keeps its phones by default: the two kinds side by side. */
  gtk_check_button_set_active (self->with_scene,
                               scene != NULL && sim_scenario_get_server (scene) != NULL);
  with_scene_toggled_cb (self);
}

static void
app_listen_dialog_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  AppListenDialog *self = APP_LISTEN_DIALOG (object);

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
app_listen_dialog_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  AppListenDialog *self = APP_LISTEN_DIALOG (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      set_document (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
app_listen_dialog_class_init (AppListenDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_listen_dialog_dispose;
  object_class->get_property = app_listen_dialog_get_property;
  object_class->set_property = app_listen_dialog_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, SIM_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/siplab/SipLab/app-listen-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, AppListenDialog, address);
  gtk_widget_class_bind_template_child (widget_class, AppListenDialog, port);
  gtk_widget_class_bind_template_child (widget_class, AppListenDialog, transport);
  gtk_widget_class_bind_template_child (widget_class, AppListenDialog, domain);
  gtk_widget_class_bind_template_child (widget_class, AppListenDialog, users);
  gtk_widget_class_bind_template_child (widget_class, AppListenDialog, with_scene);
  gtk_widget_class_bind_template_child (widget_class, AppListenDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, AppListenDialog, listen_button);
  gtk_widget_class_install_action (widget_class, "listen.start", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "listen.choose-users", NULL,
                                   choose_users_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
app_listen_dialog_init (AppListenDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->with_scene, "toggled", G_CALLBACK (with_scene_toggled_cb), self,
                           G_CONNECT_SWAPPED);
}

AppListenDialog *
app_listen_dialog_new (GtkWindow   *parent,
                       SimDocument *document)
{
  AppListenDialog *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (SIM_IS_DOCUMENT (document), NULL);

  self = g_object_new (APP_TYPE_LISTEN_DIALOG, "transient-for", parent, "document", document,
                       NULL);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->listen_button));
  return self;
}
