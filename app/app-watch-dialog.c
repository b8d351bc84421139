/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-watch-dialog.h"
#include "sim-i18n.h"

/*
 * Where a PBX's HEP copies arrive (docs/watch.md): an address of this machine, a UDP port, the
 * optional HEP auth key and a users file for the digest verdicts.  A failure (a port in use, a
 * bad users line) stays in the dialog so it can be corrected; success closes it and the
 * document shows the network live (sim_document_watch()).  Built in code: it is five rows.
 */

/* Homer's and sngrep's customary HEP port. */
#define WATCH_DIALOG_DEFAULT_PORT 9060

struct _AppWatchDialog {
  GtkWindow parent_instance;

  GtkEntry *address;
  GtkSpinButton *port;
  GtkPasswordEntry *key;
  GtkEntry *users;
  GtkLabel *error_label;
  SimDocument *document;
};

G_DEFINE_FINAL_TYPE (AppWatchDialog, app_watch_dialog, GTK_TYPE_WINDOW)

static char *
entry_text (GtkEditable *editable)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (editable)));
}

static void
watch_clicked_cb (AppWatchDialog *self)
{
  g_autofree char *address = entry_text (GTK_EDITABLE (self->address));
  g_autofree char *key = entry_text (GTK_EDITABLE (self->key));
  g_autofree char *users = entry_text (GTK_EDITABLE (self->users));
  g_autofree char *spec = NULL;
  g_autoptr(GError) error = NULL;
  guint port = (guint) gtk_spin_button_get_value_as_int (self->port);

  /* An IPv6 address goes in brackets (sim_watch_parse_address()). */
  spec = strchr (address, ':') != NULL ? g_strdup_printf ("udp:[%s]:%u", address, port)
                                       : g_strdup_printf ("udp:%s:%u", address, port);
  if (!sim_document_watch (self->document, spec, key, users, &error))
    {
      gtk_label_set_text (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return;
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
app_watch_dialog_dispose (GObject *object)
{
  AppWatchDialog *self = APP_WATCH_DIALOG (object);

  g_clear_object (&self->document);
  G_OBJECT_CLASS (app_watch_dialog_parent_class)->dispose (object);
}

static void
app_watch_dialog_class_init (AppWatchDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = app_watch_dialog_dispose;
  gtk_widget_class_add_binding_action (GTK_WIDGET_CLASS (klass), GDK_KEY_Escape, 0,
                                       "window.close", NULL);
}

/* A labelled row of the grid. */
static void
add_row (GtkGrid    *grid,
         int         row,
         const char *label_text,
         GtkWidget  *field,
         const char *tooltip)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (label_text);

  gtk_label_set_mnemonic_widget (GTK_LABEL (label), field);
  gtk_widget_set_halign (label, GTK_ALIGN_END);
  gtk_widget_set_hexpand (field, TRUE);
  gtk_widget_set_tooltip_text (field, tooltip);
  gtk_grid_attach (grid, label, 0, row, 1, 1);
  gtk_grid_attach (grid, field, 1, row, 1, 1);
}

static void
app_watch_dialog_init (AppWatchDialog *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *intro, *button;

  gtk_window_set_title (GTK_WINDOW (self), _("Watch a SIP Network"));
  gtk_window_set_default_size (GTK_WINDOW (self), 460, -1);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);

  intro = gtk_label_new (_("Receive HEPv3 copies of a PBX's SIP messages (Kamailio siptrace, "
                           "OpenSIPS, Asterisk res_hep, FreeSWITCH) and explain them live. "
                           "docs/watch.md shows the PBX side."));
  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_xalign (GTK_LABEL (intro), 0);
  gtk_box_append (GTK_BOX (box), intro);

  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  self->address = GTK_ENTRY (gtk_entry_new ());
  gtk_editable_set_text (GTK_EDITABLE (self->address), "127.0.0.1");
  add_row (GTK_GRID (grid), 0, _("_Address"), GTK_WIDGET (self->address),
           _("An IP address of this machine (0.0.0.0: every interface)"));
  self->port = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 65535, 1));
  gtk_spin_button_set_value (self->port, WATCH_DIALOG_DEFAULT_PORT);
  add_row (GTK_GRID (grid), 1, _("UDP _port"), GTK_WIDGET (self->port),
           _("The port the PBX sends HEP to (its duplicate_uri, capture_address)"));
  self->key = GTK_PASSWORD_ENTRY (gtk_password_entry_new ());
  gtk_password_entry_set_show_peek_icon (self->key, TRUE);
  add_row (GTK_GRID (grid), 2, _("HEP _key"), GTK_WIDGET (self->key),
           _("Optional: only packets carrying this auth key are shown"));
  self->users = GTK_ENTRY (gtk_entry_new ());
  gtk_entry_set_placeholder_text (self->users, _("optional: name:password file"));
  add_row (GTK_GRID (grid), 3, _("_Users file"), GTK_WIDGET (self->users),
           _("To judge every Authorization (the same file as serve --users)"));
  gtk_box_append (GTK_BOX (box), grid);

  self->error_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->error_label, TRUE);
  gtk_label_set_xalign (self->error_label, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->error_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->error_label));

  button = gtk_button_new_with_mnemonic (_("_Watch"));
  gtk_widget_add_css_class (button, "suggested-action");
  gtk_widget_set_halign (button, GTK_ALIGN_END);
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (watch_clicked_cb), self);
  gtk_box_append (GTK_BOX (box), button);
  gtk_window_set_child (GTK_WINDOW (self), box);
  gtk_window_set_default_widget (GTK_WINDOW (self), button);
}

AppWatchDialog *
app_watch_dialog_new (GtkWindow   *parent,
                      SimDocument *document)
{
  AppWatchDialog *self = g_object_new (APP_TYPE_WATCH_DIALOG, "transient-for", parent,
                                       "modal", TRUE, NULL);

  self->document = g_object_ref (document);
  return self;
}
