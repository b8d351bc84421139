/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-location-view.h"
#include "sim-i18n.h"

#include <string.h>

#include "app-ticker.h"
#include "sim-capture-world.h"

/*
 * The registrar's location service as a table: one row per binding (RFC 3261 §10.3), with the
 * granted expiry counting down on the session clock, and the Call-ID and CSeq that last touched
 * it (how a refresh is recognised).  Rebuilt when SimLocation says it changed; the countdown
 * cells are updated as the clock moves.
 */

/* The AOR heads a group of rows (one per Contact), so the table fits a narrow pane. */
static const char *column_titles[] = { N_("Contact"), N_("Expires in"), N_("CSeq"), N_("Call-ID"),
                                       N_("Source") };

struct _AppLocationView {
  GtkWidget parent_instance;

  GtkLabel *caption;
  GtkGrid *grid;

  SimWorld *world;
  GPtrArray *countdowns;  /* AppTicker*, parallel to expiries */
  GPtrArray *cseqs;       /* AppTicker*, parallel to expiries */
  GPtrArray *call_ids;    /* GtkLabel*, parallel to expiries */
  char *shape;            /* the AORs and Contacts shown, one per line */
  GArray *expiries;       /* SimTime */
  GArray *granted;        /* guint32 */
  gboolean dirty;
  char *books;            /* point-to-point: the address books as last shown */
  char *highlight_aor;    /* the binding a lesson step talks about, or NULL */
  char *highlight_contact;
};

G_DEFINE_FINAL_TYPE (AppLocationView, app_location_view, GTK_TYPE_WIDGET)

static void apply_highlight (AppLocationView *self);

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
      app_ticker_set_text (self->countdowns->pdata[i], text);
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
  gtk_grid_attach (self->grid, cell (_("User"), "column-title", 0), 0, 0, 1, 1);
  gtk_grid_attach (self->grid, cell (_("Address (typed in by hand)"), "column-title", 0), 1, 0, 1, 1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++, y++)
    {
      const char *tab = strchr (lines[i], '\t');

      if (tab == NULL)
        {
          g_autofree char *title = g_strdup_printf (_("%s knows"), lines[i]);

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
    gtk_grid_attach (self->grid, cell (_("The phones know nobody's address yet."), "dim", 0),
                     0, 1, 2, 1);
}

/*
 * The tables shown: the scene's registrar's, or, for a capture or a watch, one per registrar
 * the observer found (its tables rebuilt from REGISTER/200 OK pairs), with the registrar's
 * node name in @names_out (NULL for a scene's single table).  Borrowed pointers.
 */
static GPtrArray *
tables_of (AppLocationView *self,
           GPtrArray      **names_out)
{
  GPtrArray *tables = g_ptr_array_new ();
  SimObserver *observer = self->world ? sim_capture_world_get_observer (self->world) : NULL;

  *names_out = g_ptr_array_new ();
  if (observer != NULL)
    {
      g_autoptr(GPtrArray) registrars = sim_observer_get_registrars (observer);

      for (guint i = 0; i < registrars->len; i++)
        {
          SimLocation *location = sim_observer_get_location (observer, registrars->pdata[i]);

          if (location == NULL)
            continue;
          g_ptr_array_add (tables, location);
          g_ptr_array_add (*names_out, registrars->pdata[i]);
        }
    }
  else if (self->world != NULL && sim_world_get_location (self->world) != NULL)
    {
      g_ptr_array_add (tables, sim_world_get_location (self->world));
      g_ptr_array_add (*names_out, NULL);
    }
  return tables;
}

/* "aor\tcontact\n..." for every binding, in table order. */
static void
describe_shape (SimLocation *location,
                GString     *out)
{
  g_autoptr(GPtrArray) aors = sim_location_list_aors (location);

  for (guint a = 0; a < aors->len; a++)
    {
      GPtrArray *bindings = sim_location_lookup (location, aors->pdata[a]);

      for (guint b = 0; bindings != NULL && b < bindings->len; b++)
        {
          const SimBinding *binding = bindings->pdata[b];
          g_autofree char *source = sim_addr_to_string (&binding->source);

          g_string_append_printf (out, "%s\t%s\t%s\n", (char *) aors->pdata[a], binding->contact,
                                  source);
        }
    }
}

/* Every table's shape, each after its registrar's name. */
static char *
describe_tables (GPtrArray *tables,
                 GPtrArray *names)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < tables->len; i++)
    {
      g_string_append_printf (out, "%s\n", names->pdata[i] ? (char *) names->pdata[i] : "");
      describe_shape (tables->pdata[i], out);
    }
  return g_string_free (out, FALSE);
}

/*
 * A refresh changes a binding's expiry, CSeq and perhaps Call-ID, not the table's shape: then
 * the labels are updated where they are, which is much cheaper than a new grid (fifty phones
 * refresh several times a second at fast-forward).
 */
static gboolean
update_in_place (AppLocationView *self,
                 GPtrArray       *tables,
                 GPtrArray       *names)
{
  g_autofree char *shape = describe_tables (tables, names);
  guint i = 0;

  if (g_strcmp0 (shape, self->shape) != 0)
    return FALSE;
  for (guint t = 0; t < tables->len; t++)
    {
      SimLocation *location = tables->pdata[t];
      g_autoptr(GPtrArray) aors = sim_location_list_aors (location);

      for (guint a = 0; a < aors->len; a++)
        {
          GPtrArray *bindings = sim_location_lookup (location, aors->pdata[a]);

          for (guint b = 0; bindings != NULL && b < bindings->len; b++, i++)
            {
              const SimBinding *binding = bindings->pdata[b];
              char cseq[16];

              g_snprintf (cseq, sizeof cseq, "%u", binding->cseq);
              app_ticker_set_text (self->cseqs->pdata[i], cseq);
              if (g_strcmp0 (gtk_label_get_text (self->call_ids->pdata[i]),
                             binding->call_id) != 0)
                {
                  gtk_label_set_text (self->call_ids->pdata[i], binding->call_id);
                  gtk_widget_set_tooltip_text (self->call_ids->pdata[i], binding->call_id);
                }
              g_array_index (self->expiries, SimTime, i) = binding->expires_at;
              g_array_index (self->granted, guint32, i) = binding->granted;
            }
        }
    }
  self->dirty = FALSE;
  update_countdowns (self);
  return TRUE;
}

/* One table's rows from row @y on: an AOR heading, then a row per Contact.  Returns the next. */
static int
add_table_rows (AppLocationView *self,
                SimLocation     *location,
                int              y)
{
  g_autoptr(GPtrArray) aors = sim_location_list_aors (location);

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
          GtkWidget *countdown = app_ticker_new ("00000 s / 00000");
          GtkWidget *contact = cell (binding->contact, "contact", 0);
          GtkWidget *cseq_cell = app_ticker_new ("0000000");
          GtkWidget *call_id = cell (binding->call_id, "dim", 8);

          gtk_grid_attach (self->grid, contact, 0, y, 1, 1);
          gtk_grid_attach (self->grid, countdown, 1, y, 1, 1);
          gtk_grid_attach (self->grid, cseq_cell, 2, y, 1, 1);
          gtk_grid_attach (self->grid, call_id, 3, y, 1, 1);
          gtk_widget_add_css_class (countdown, "countdown");
          app_ticker_set_text (APP_TICKER (cseq_cell), cseq);
          g_ptr_array_add (self->cseqs, cseq_cell);
          g_ptr_array_add (self->call_ids, call_id);
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
  return y;
}

static void
rebuild (AppLocationView *self)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GPtrArray) tables = tables_of (self, &names);
  GtkWidget *child;
  int y = 1;

  if (tables->len > 0 && self->shape != NULL && update_in_place (self, tables, names))
    return;
  g_clear_pointer (&self->shape, g_free);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->grid))) != NULL)
    gtk_grid_remove (self->grid, child);
  g_ptr_array_set_size (self->countdowns, 0);
  g_ptr_array_set_size (self->cseqs, 0);
  g_ptr_array_set_size (self->call_ids, 0);
  g_array_set_size (self->expiries, 0);
  g_array_set_size (self->granted, 0);
  self->dirty = FALSE;

  for (guint c = 0; c < G_N_ELEMENTS (column_titles); c++)
    gtk_grid_attach (self->grid, cell (_(column_titles[c]), "column-title", 0), c, 0, 1, 1);

  if (tables->len == 0 && (self->world == NULL ||
                           sim_capture_world_get_observer (self->world) == NULL))
    return;

  self->shape = describe_tables (tables, names);
  for (guint t = 0; t < tables->len; t++)
    {
      int first = y;

      /* A capture may show several registrars: each has a table of its own. */
      if (names->pdata[t] != NULL)
        {
          g_autofree char *title = g_strdup_printf (_("Kept by %s"), (char *) names->pdata[t]);

          gtk_grid_attach (self->grid, cell (title, "registrar", 0), 0, y++,
                           G_N_ELEMENTS (column_titles), 1);
        }
      y = add_table_rows (self, tables->pdata[t], y);
      if (names->pdata[t] != NULL && y == first + 1)
        gtk_grid_attach (self->grid, cell ("No bindings at the end of the capture.", "dim", 0),
                         0, y++, G_N_ELEMENTS (column_titles), 1);
    }
  if (y == 1)
    gtk_grid_attach (self->grid, cell (_("No bindings yet: nobody has registered."), "dim", 0),
                     0, 1, G_N_ELEMENTS (column_titles), 1);
  update_countdowns (self);
  apply_highlight (self);
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
app_location_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (app_location_view_parent_class)->map (widget);
  app_location_view_update (APP_LOCATION_VIEW (widget));
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
  g_clear_pointer (&self->cseqs, g_ptr_array_unref);
  g_clear_pointer (&self->call_ids, g_ptr_array_unref);
  g_clear_pointer (&self->shape, g_free);
  g_clear_pointer (&self->expiries, g_array_unref);
  g_clear_pointer (&self->granted, g_array_unref);
  g_clear_pointer (&self->books, g_free);
  g_clear_pointer (&self->highlight_aor, g_free);
  g_clear_pointer (&self->highlight_contact, g_free);
  G_OBJECT_CLASS (app_location_view_parent_class)->finalize (object);
}

static void
app_location_view_class_init (AppLocationViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_location_view_dispose;
  object_class->finalize = app_location_view_finalize;
  widget_class->map = app_location_view_map;

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
  self->cseqs = g_ptr_array_new ();
  self->call_ids = g_ptr_array_new ();
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
  g_clear_pointer (&self->shape, g_free);
  if (world != NULL)
    {
      g_autofree char *caption = NULL;

      if (sim_capture_world_get_observer (world) != NULL)
        caption = g_strdup ("Location rebuilt from REGISTER / 200 OK, per registrar "
                            "(capture clock)");
      else if (sim_world_get_server_name (world) != NULL)
        caption = g_strdup_printf ("Location service of %s (%s)",
                                   sim_world_get_server_name (world),
                                   sim_world_get_domain (world)
                                   ? sim_world_get_domain (world) : "");
      else
        caption = g_strdup (_("No registrar: each phone keeps its own address book"));
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
  /* An observer's tables appear as registrars do, unannounced: checked on every update. */
  if (sim_capture_world_get_observer (self->world) != NULL)
    self->dirty = TRUE;
  else if (sim_world_get_location (self->world) == NULL)
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
  /* Hidden behind another pane: catch up when shown (or asked for its rows). */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  if (self->dirty)
    rebuild (self);
  else
    update_countdowns (self);
}

gboolean
app_location_view_needs_rebuild (AppLocationView *self)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GPtrArray) tables = NULL;
  g_autofree char *shape = NULL;

  g_return_val_if_fail (APP_IS_LOCATION_VIEW (self), FALSE);

  tables = tables_of (self, &names);
  if (!self->dirty || tables->len == 0 || self->shape == NULL)
    return self->dirty;
  shape = describe_tables (tables, names);
  return g_strcmp0 (shape, self->shape) != 0;
}

guint
app_location_view_get_n_rows (AppLocationView *self)
{
  g_return_val_if_fail (APP_IS_LOCATION_VIEW (self), 0);
  if (self->dirty)
    rebuild (self);
  return self->countdowns->len;
}

/* ------------------------------------------------------------------------------------------ */
/* Lesson highlight: the binding a lesson step talks about (app-lesson-pane.c)                */

/* Marks the AOR's heading and its Contact's row (every Contact's when none is named). */
static void
apply_highlight (AppLocationView *self)
{
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean in_aor = FALSE;
  int n_rows = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->grid)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      int row, width;

      gtk_widget_remove_css_class (child, "lesson-highlight");
      gtk_grid_query_child (self->grid, child, NULL, &row, &width, NULL);
      n_rows = MAX (n_rows, row + 1);
    }
  if (self->highlight_aor == NULL)
    return;

  /* Rows in order: an AOR heading spans the table; its Contacts follow it. */
  for (int row = 1; row < n_rows; row++)
    {
      GtkWidget *first = gtk_grid_get_child_at (self->grid, 0, row);
      const char *text = GTK_IS_LABEL (first) ? gtk_label_get_text (GTK_LABEL (first)) : "";

      if (first != NULL && gtk_widget_has_css_class (first, "aor"))
        {
          in_aor = g_strcmp0 (text, self->highlight_aor) == 0;
          if (in_aor)
            g_array_append_val (rows, row);
        }
      else if (in_aor && (self->highlight_contact == NULL ||
                          g_strcmp0 (text, self->highlight_contact) == 0))
        g_array_append_val (rows, row);
    }
  for (guint i = 0; i < rows->len; i++)
    for (guint c = 0; c < G_N_ELEMENTS (column_titles); c++)
      {
        GtkWidget *cell_widget = gtk_grid_get_child_at (self->grid, c,
                                                        g_array_index (rows, int, i));

        if (cell_widget != NULL)
          gtk_widget_add_css_class (cell_widget, "lesson-highlight");
      }
}

void
app_location_view_highlight_binding (AppLocationView *self,
                                     const char      *aor,
                                     const char      *contact)
{
  g_return_if_fail (APP_IS_LOCATION_VIEW (self));

  g_free (self->highlight_aor);
  g_free (self->highlight_contact);
  self->highlight_aor = g_strdup (aor);
  self->highlight_contact = aor != NULL ? g_strdup (contact) : NULL;
  apply_highlight (self);
}

guint
app_location_view_get_n_highlighted (AppLocationView *self)
{
  guint n = 0;

  g_return_val_if_fail (APP_IS_LOCATION_VIEW (self), 0);

  if (self->dirty)
    rebuild (self);
  for (int row = 1; row < 1000; row++)
    {
      GtkWidget *first = gtk_grid_get_child_at (self->grid, 0, row);

      if (first == NULL)
        break;
      if (gtk_widget_has_css_class (first, "lesson-highlight") &&
          !gtk_widget_has_css_class (first, "aor"))
        n++;
    }
  return n;
}
