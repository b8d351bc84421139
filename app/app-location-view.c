/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-location-view.h"

#include <string.h>

/*
 * The registrar's location service as a table: one row per binding (RFC 3261 §10.3), with the
 * granted expiry counting down on the session clock, and the Call-ID and CSeq that last touched
 * it (how a refresh is recognised).  Rebuilt when SimLocation says it changed; the countdown
 * cells are updated as the clock moves.
 */

/* The AOR heads a group of rows (one per Contact), so the table fits a narrow pane. */
static const char *column_titles[] = { "Contact", "Expires in", "CSeq", "Call-ID", "Source" };

struct _AppLocationView {
  GtkWidget parent_instance;

  GtkLabel *caption;
  GtkGrid *grid;

  SimWorld *world;
  GPtrArray *countdowns;  /* GtkLabel*, parallel to expiries */
  GArray *expiries;       /* SimTime */
  GArray *granted;        /* guint32 */
  gboolean dirty;
  char *books;            /* point-to-point: the address books as last shown */
};

G_DEFINE_FINAL_TYPE (AppLocationView, app_location_view, GTK_TYPE_WIDGET)

static GtkWidget *
cell (const char *text,
      const char *css_class,
      int         max_chars)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (max_chars > 0)
    {
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), max_chars);
    }
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  gtk_widget_set_tooltip_text (label, text);
  return label;
}

static void
update_countdowns (AppLocationView *self)
{
  SimTime now = sim_world_now (self->world);

  for (guint i = 0; i < self->countdowns->len; i++)
    {
      SimTime left = g_array_index (self->expiries, SimTime, i) - now;
      char text[32];

      g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT " s / %u", MAX (left, 0) / G_USEC_PER_SEC,
                  g_array_index (self->granted, guint32, i));
      gtk_label_set_text (self->countdowns->pdata[i], text);
    }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* "device: user=ip:port, ...; device: ..." so a change is noticed without a signal. */
static char *
describe_address_books (SimWorld *world)
{
  GPtrArray *phones = sim_world_get_phones (world);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < phones->len; i++)
    {
      GHashTable *book = sim_phone_get_address_book (phones->pdata[i]);
      g_autofree gpointer *users = (gpointer *) g_hash_table_get_keys_as_array (book, NULL);
      guint n = g_hash_table_size (book);

      g_qsort_with_data (users, n, sizeof (gpointer), compare_strings, NULL);
      g_string_append_printf (out, "%s\n", sim_phone_get_device (phones->pdata[i]));
      for (guint u = 0; u < n; u++)
        g_string_append_printf (out, "%s\t%s\n", (char *) users[u],
                                (char *) g_hash_table_lookup (book, users[u]));
    }
  return g_string_free (out, FALSE);
}

/*
 * Without a registrar there is no location service: what stands in for it is every phone's
 * address book, filled by hand (SEED-CLAIMS 2, 3).
 */
static void
rebuild_address_books (AppLocationView *self)
{
  g_auto(GStrv) lines = g_strsplit (self->books, "\n", -1);
  GtkWidget *child;
  int y = 1;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->grid))) != NULL)
    gtk_grid_remove (self->grid, child);
  gtk_grid_attach (self->grid, cell ("User", "column-title", 0), 0, 0, 1, 1);
  gtk_grid_attach (self->grid, cell ("Address (typed in by hand)", "column-title", 0), 1, 0, 1, 1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++, y++)
    {
      const char *tab = strchr (lines[i], '\t');

      if (tab == NULL)
        {
          g_autofree char *title = g_strdup_printf ("%s knows", lines[i]);

          gtk_grid_attach (self->grid, cell (title, "aor", 0), 0, y, 2, 1);
        }
      else
        {
          g_autofree char *user = g_strndup (lines[i], tab - lines[i]);

          gtk_grid_attach (self->grid, cell (user, "contact", 0), 0, y, 1, 1);
          gtk_grid_attach (self->grid, cell (tab + 1, NULL, 0), 1, y, 1, 1);
        }
    }
  if (y == 1)
    gtk_grid_attach (self->grid, cell ("The phones know nobody's address yet.", "dim", 0),
                     0, 1, 2, 1);
}

static void
rebuild (AppLocationView *self)
{
  SimLocation *location = self->world ? sim_world_get_location (self->world) : NULL;
  g_autoptr(GPtrArray) aors = NULL;
  GtkWidget *child;
  int y = 1;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->grid))) != NULL)
    gtk_grid_remove (self->grid, child);
  g_ptr_array_set_size (self->countdowns, 0);
  g_array_set_size (self->expiries, 0);
  g_array_set_size (self->granted, 0);
  self->dirty = FALSE;

  for (guint c = 0; c < G_N_ELEMENTS (column_titles); c++)
    gtk_grid_attach (self->grid, cell (column_titles[c], "column-title", 0), c, 0, 1, 1);

  if (location == NULL)
    return;

  aors = sim_location_list_aors (location);
  for (guint a = 0; a < aors->len; a++)
    {
      GPtrArray *bindings = sim_location_lookup (location, aors->pdata[a]);

      if (bindings == NULL || bindings->len == 0)
        continue;
      gtk_grid_attach (self->grid, cell (aors->pdata[a], "aor", 0), 0, y++,
                       G_N_ELEMENTS (column_titles), 1);
      for (guint b = 0; b < bindings->len; b++, y++)
        {
          const SimBinding *binding = bindings->pdata[b];
          g_autofree char *cseq = g_strdup_printf ("%u", binding->cseq);
          g_autofree char *source = sim_addr_to_string (&binding->source);
          GtkWidget *countdown = cell ("", "countdown", 0);
          GtkWidget *contact = cell (binding->contact, "contact", 0);

          gtk_grid_attach (self->grid, contact, 0, y, 1, 1);
          gtk_grid_attach (self->grid, countdown, 1, y, 1, 1);
          gtk_grid_attach (self->grid, cell (cseq, NULL, 0), 2, y, 1, 1);
          gtk_grid_attach (self->grid, cell (binding->call_id, "dim", 8), 3, y, 1, 1);
          /* Behind a NAT the REGISTER comes from elsewhere than the Contact says (RFC 3581). */
          if (strstr (binding->contact, source) != NULL)
            gtk_grid_attach (self->grid, cell ("same", "dim", 0), 4, y, 1, 1);
          else
            gtk_grid_attach (self->grid, cell (source, "source-differs", 0), 4, y, 1, 1);

          g_ptr_array_add (self->countdowns, countdown);
          g_array_append_val (self->expiries, binding->expires_at);
          g_array_append_val (self->granted, binding->granted);
        }
    }
  if (y == 1)
    gtk_grid_attach (self->grid, cell ("No bindings yet: nobody has registered.", "dim", 0),
                     0, 1, G_N_ELEMENTS (column_titles), 1);
  update_countdowns (self);
}

static void
location_changed_cb (AppLocationView *self,
                     const char      *aor,
                     SimLocation     *location)
{
  /* Several changes can come in one step; rebuild once, on the next update. */
  self->dirty = TRUE;
}

static void
app_location_view_dispose (GObject *object)
{
  AppLocationView *self = APP_LOCATION_VIEW (object);
  GtkWidget *child;

  app_location_view_set_world (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_LOCATION_VIEW);
  /* dispose_template() only drops the children bound by name; the layout boxes go too. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (app_location_view_parent_class)->dispose (object);
}

static void
app_location_view_finalize (GObject *object)
{
  AppLocationView *self = APP_LOCATION_VIEW (object);

  g_clear_pointer (&self->countdowns, g_ptr_array_unref);
  g_clear_pointer (&self->expiries, g_array_unref);
  g_clear_pointer (&self->granted, g_array_unref);
  g_clear_pointer (&self->books, g_free);
  G_OBJECT_CLASS (app_location_view_parent_class)->finalize (object);
}

static void
app_location_view_class_init (AppLocationViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_location_view_dispose;
  object_class->finalize = app_location_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/siplab/SipLab/app-location-view.ui");
  gtk_widget_class_bind_template_child (widget_class, AppLocationView, caption);
  gtk_widget_class_bind_template_child (widget_class, AppLocationView, grid);
  gtk_widget_class_set_css_name (widget_class, "locationview");
}

static void
app_location_view_init (AppLocationView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->countdowns = g_ptr_array_new ();
  self->expiries = g_array_new (FALSE, FALSE, sizeof (SimTime));
  self->granted = g_array_new (FALSE, FALSE, sizeof (guint32));
  rebuild (self);
}

GtkWidget *
app_location_view_new (void)
{
  return g_object_new (APP_TYPE_LOCATION_VIEW, NULL);
}

void
app_location_view_set_world (AppLocationView *self,
                             SimWorld        *world)
{
  g_return_if_fail (APP_IS_LOCATION_VIEW (self));

  if (self->world == world)
    return;
  if (self->world != NULL && sim_world_get_location (self->world) != NULL)
    g_signal_handlers_disconnect_by_data (sim_world_get_location (self->world), self);
  g_set_object (&self->world, world);
  g_clear_pointer (&self->books, g_free);
  if (world != NULL)
    {
      g_autofree char *caption = NULL;

      if (sim_world_get_server_name (world) != NULL)
        caption = g_strdup_printf ("Location service of %s (%s)",
                                   sim_world_get_server_name (world),
                                   sim_world_get_domain (world)
                                   ? sim_world_get_domain (world) : "");
      else
        caption = g_strdup ("No registrar: each phone keeps its own address book");
      gtk_label_set_text (self->caption, caption);
      if (sim_world_get_location (world) != NULL)
        g_signal_connect_object (sim_world_get_location (world), "changed",
                                 G_CALLBACK (location_changed_cb), self, G_CONNECT_SWAPPED);
    }
  rebuild (self);
  if (world != NULL)
    app_location_view_update (self);
}

void
app_location_view_update (AppLocationView *self)
{
  g_return_if_fail (APP_IS_LOCATION_VIEW (self));

  if (self->world == NULL)
    return;
  if (sim_world_get_location (self->world) == NULL)
    {
      g_autofree char *books = describe_address_books (self->world);

      if (g_strcmp0 (books, self->books) != 0)
        {
          g_free (self->books);
          self->books = g_steal_pointer (&books);
          rebuild_address_books (self);
        }
      return;
    }
  if (self->dirty)
    rebuild (self);
  else
    update_countdowns (self);
}

guint
app_location_view_get_n_rows (AppLocationView *self)
{
  g_return_val_if_fail (APP_IS_LOCATION_VIEW (self), 0);
  return self->countdowns->len;
}
