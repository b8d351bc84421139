/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-location-view.h"
#include "sim-i18n.h"

#include <string.h>

#include "app-ticker.h"
#include "sim-capture-world.h"
#include "sim-observe.h"

/*
 * The registrar's location service as a table: one row per binding (RFC 3261 §10.3), with the
 * granted expiry counting down on the session clock, and the Call-ID and CSeq that last touched
 * it (how a refresh is recognised).  The rows are a list model (a GListStore of BindingItem
 * shown by a GtkColumnView): SimLocation's "changed" names the AOR that changed, and only that
 * AOR's rows are updated in place (a refresh) or spliced (a binding came or went), so fifty
 * phones refreshing at fast-forward never rebuild the table.  The countdowns are the items'
 * text, updated as the clock moves; the cells show it in fixed-width AppTicker labels.
 */

/* The AOR heads a group of rows (one per Contact), so the table fits a narrow pane. */
static const char *column_titles[] = { N_("Contact"), N_("Expires in"), N_("CSeq"), N_("Call-ID"),
                                       N_("Source") };

/* One row: an AOR's heading (contact NULL) or one of its bindings. */
#define BINDING_TYPE_ITEM (binding_item_get_type ())
G_DECLARE_FINAL_TYPE (BindingItem, binding_item, BINDING, ITEM, GObject)

struct _BindingItem {
  GObject parent_instance;

  char *aor;
  char *contact;          /* NULL: the AOR's heading */
  char *call_id;
  char *source;           /* where its REGISTER came from, "ip:port" */
  guint32 cseq;
  guint32 granted;
  SimTime expires_at;
  char countdown[32];
  gboolean highlighted;
};

/* "changed": something shown changed; the bound cells show it anew. */
static guint item_changed_signal;

G_DEFINE_FINAL_TYPE (BindingItem, binding_item, G_TYPE_OBJECT)

static void
binding_item_finalize (GObject *object)
{
  BindingItem *item = BINDING_ITEM (object);

  g_free (item->aor);
  g_free (item->contact);
  g_free (item->call_id);
  g_free (item->source);
  G_OBJECT_CLASS (binding_item_parent_class)->finalize (object);
}

static void
binding_item_class_init (BindingItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = binding_item_finalize;
  item_changed_signal = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
binding_item_init (BindingItem *item)
{
}

static BindingItem *
binding_item_new (const char       *aor,
                  const SimBinding *binding)
{
  BindingItem *item = g_object_new (BINDING_TYPE_ITEM, NULL);

  item->aor = g_strdup (aor);
  if (binding != NULL)
    {
      item->contact = g_strdup (binding->contact);
      item->call_id = g_strdup (binding->call_id);
      item->source = sim_addr_to_string (&binding->source);
      item->cseq = binding->cseq;
      item->granted = binding->granted;
      item->expires_at = binding->expires_at;
    }
  return item;
}

/* @to shows what @from does; @from is left with @to's old strings. */
static void
binding_item_assign (BindingItem *to,
                     BindingItem *from)
{
  char *aor = to->aor, *contact = to->contact, *call_id = to->call_id, *source = to->source;

  to->aor = from->aor;
  to->contact = from->contact;
  to->call_id = from->call_id;
  to->source = from->source;
  from->aor = aor;
  from->contact = contact;
  from->call_id = call_id;
  from->source = source;
  to->cseq = from->cseq;
  to->granted = from->granted;
  to->expires_at = from->expires_at;
  memcpy (to->countdown, from->countdown, sizeof to->countdown);
  to->highlighted = from->highlighted;
}

struct _AppLocationView {
  GtkWidget parent_instance;

  GtkLabel *caption;
  GtkGrid *grid;          /* point-to-point: the phones' address books */
  GtkColumnView *table;
  GtkWidget *table_scroller;  /* the table scrolls by itself, so it shows only the rows in view */
  GtkWidget *grid_scroller;
  GtkLabel *empty;

  SimWorld *world;
  SimLocation *location;  /* the table shown: the world's, or a capture's first registrar's */
  GListStore *rows;       /* BindingItem, by AOR: its heading, then its bindings */
  GHashTable *dirty_aors; /* AORs changed since the rows were last brought up to date */
  gboolean refill;        /* another location: every row is made anew on the next update */
  gboolean had_bindings;  /* for the empty table's sentence */
  char *books;            /* point-to-point: the address books as last shown */
  char *highlight_aor;    /* the binding a lesson step talks about, or NULL */
  char *highlight_contact;
};

G_DEFINE_FINAL_TYPE (AppLocationView, app_location_view, GTK_TYPE_WIDGET)

/*
 * The location table to show: the world's registrar's, or for a capture (or a watched
 * network) the first registrar the observer rebuilt a table for (docs/watch.md), whose name
 * goes in @name_out.  A watched network's first registrar can appear at any time.
 */
static SimLocation *
current_location (AppLocationView *self,
                  const char     **name_out)
{
  SimObserver *observer = self->world ? sim_capture_world_get_observer (self->world) : NULL;

  *name_out = NULL;
  if (observer != NULL)
    {
      g_autoptr(GPtrArray) registrars = sim_observer_get_registrars (observer);

      for (guint i = 0; i < registrars->len; i++)
        {
          SimLocation *location = sim_observer_get_location (observer, registrars->pdata[i]);

          if (location != NULL)
            {
              *name_out = sim_location_get_node_name (location);
              return location;
            }
        }
      return NULL;
    }
  return self->world ? sim_world_get_location (self->world) : NULL;
}

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
  /* An empty cell of the list (set up before it shows a row) has no tooltip to query X for. */
  if (text != NULL && *text != '\0')
    gtk_widget_set_tooltip_text (label, text);
  return label;
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

/* ------------------------------------------------------------------------------------------ */
/* The rows                                                                                   */

static void
set_countdown (BindingItem *item,
               SimTime      now)
{
  SimTime left = item->expires_at - now;
  char text[32];

  g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT " s / %u", MAX (left, 0) / G_USEC_PER_SEC,
              item->granted);
  if (strcmp (text, item->countdown) != 0)
    {
      memcpy (item->countdown, text, sizeof text);
      g_signal_emit (item, item_changed_signal, 0);
    }
}

static void
update_countdowns (AppLocationView *self)
{
  SimTime now = sim_world_now (self->world);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->rows));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(BindingItem) item = g_list_model_get_item (G_LIST_MODEL (self->rows), i);

      if (item->contact != NULL)
        set_countdown (item, now);
    }
}

static gboolean
is_highlighted (AppLocationView *self,
                BindingItem     *item)
{
  return self->highlight_aor != NULL && g_strcmp0 (item->aor, self->highlight_aor) == 0 &&
         (item->contact == NULL || self->highlight_contact == NULL ||
          g_strcmp0 (item->contact, self->highlight_contact) == 0);
}

/* Where @aor's rows are (@start, @n), or where they would go (@n = 0): the AORs in order. */
static void
find_aor (AppLocationView *self,
          const char      *aor,
          guint           *start,
          guint           *n)
{
  guint total = g_list_model_get_n_items (G_LIST_MODEL (self->rows));

  *start = total;
  *n = 0;
  for (guint i = 0; i < total; i++)
    {
      g_autoptr(BindingItem) item = g_list_model_get_item (G_LIST_MODEL (self->rows), i);
      int order = g_strcmp0 (item->aor, aor);

      if (order == 0)
        {
          if (*n == 0)
            *start = i;
          (*n)++;
        }
      else if (order > 0)
        {
          if (*n == 0)
            *start = i;
          return;
        }
    }
}

/*
 * Brings @aor's rows up to date: a refresh (the same Contacts) changes the items where they
 * are, which redraws a few cells; a binding that came or went splices the AOR's rows.
 */
static void
sync_aor (AppLocationView *self,
          SimLocation     *location,
          const char      *aor)
{
  GPtrArray *bindings = sim_location_lookup (location, aor);
  guint n_bindings = bindings != NULL ? bindings->len : 0;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  guint start, n;
  gboolean same = TRUE;

  find_aor (self, aor, &start, &n);
  if (n_bindings > 0)
    g_ptr_array_add (items, binding_item_new (aor, NULL));
  for (guint b = 0; b < n_bindings; b++)
    g_ptr_array_add (items, binding_item_new (aor, bindings->pdata[b]));
  same = n == items->len;
  for (guint i = 1; same && i < items->len; i++)
    {
      g_autoptr(BindingItem) old = g_list_model_get_item (G_LIST_MODEL (self->rows), start + i);
      BindingItem *now = items->pdata[i];

      same = g_strcmp0 (old->contact, now->contact) == 0 && g_strcmp0 (old->source, now->source) == 0;
    }
  if (same)
    {
      for (guint i = 1; i < items->len; i++)
        {
          g_autoptr(BindingItem) old = g_list_model_get_item (G_LIST_MODEL (self->rows), start + i);
          BindingItem *now = items->pdata[i];

          if (old->cseq == now->cseq && old->granted == now->granted &&
              old->expires_at == now->expires_at && g_strcmp0 (old->call_id, now->call_id) == 0)
            continue;
          old->cseq = now->cseq;
          old->granted = now->granted;
          old->expires_at = now->expires_at;
          g_free (old->call_id);
          old->call_id = g_strdup (now->call_id);
          old->countdown[0] = '\0';
          set_countdown (old, sim_world_now (self->world));
        }
      return;
    }
  for (guint i = 0; i < items->len; i++)
    {
      BindingItem *item = items->pdata[i];

      item->highlighted = is_highlighted (self, item);
      if (item->contact != NULL)
        set_countdown (item, sim_world_now (self->world));
    }
  g_list_store_splice (self->rows, start, n, items->pdata, items->len);
}

static guint
count_bindings (AppLocationView *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->rows)), bindings = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(BindingItem) item = g_list_model_get_item (G_LIST_MODEL (self->rows), i);

      bindings += item->contact != NULL;
    }
  return bindings;
}

/*
 * Every row made anew from @location (@aors: its AORs, sorted), after a new world (a seek,
 * issue 17).  The items already in the table take the new rows' contents in place, and only
 * the difference in length is spliced: a GtkColumnView destroys a removed item's row widgets
 * and builds them again for an added one, which for a table of hundreds of rows cost a third
 * of a second, where a changed item only sets its cells' labels.
 */
static void
refill_rows (AppLocationView *self,
             SimLocation     *location,
             gpointer        *aors,
             guint            n_aors)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->rows));
  SimTime now = sim_world_now (self->world);

  for (guint i = 0; i < n_aors; i++)
    {
      GPtrArray *bindings = sim_location_lookup (location, aors[i]);
      guint n_bindings = bindings != NULL ? bindings->len : 0;

      if (n_bindings > 0)
        g_ptr_array_add (items, binding_item_new (aors[i], NULL));
      for (guint b = 0; b < n_bindings; b++)
        g_ptr_array_add (items, binding_item_new (aors[i], bindings->pdata[b]));
    }
  for (guint i = 0; i < items->len; i++)
    {
      BindingItem *item = items->pdata[i];

      item->highlighted = is_highlighted (self, item);
      if (item->contact != NULL)
        set_countdown (item, now);
      if (i < n_old)
        {
          g_autoptr(BindingItem) old = g_list_model_get_item (G_LIST_MODEL (self->rows), i);

          binding_item_assign (old, item);
          g_signal_emit (old, item_changed_signal, 0);
        }
    }
  if (items->len > n_old)
    g_list_store_splice (self->rows, n_old, 0, items->pdata + n_old, items->len - n_old);
  else if (items->len < n_old)
    g_list_store_splice (self->rows, items->len, n_old - items->len, NULL, 0);
}

/* The changed AORs' rows brought up to date, and the sentence for an empty table. */
static void
sync_rows (AppLocationView *self)
{
  SimLocation *location = self->location;
  g_autofree gpointer *aors = NULL;
  guint n_aors;
  gboolean empty;

  if (location == NULL)
    {
      if (self->refill)
        g_list_store_remove_all (self->rows);
      self->refill = FALSE;
      return;
    }
  /*
   * In order: the table keeps its first row in view while rows are spliced before it, so a
   * crowd's AORs in the hash table's order left a first fill scrolled to whichever came first.
   */
  aors = (gpointer *) g_hash_table_get_keys_as_array (self->dirty_aors, &n_aors);
  g_qsort_with_data (aors, n_aors, sizeof (gpointer), compare_strings, NULL);
  if (self->refill)
    refill_rows (self, location, aors, n_aors);
  else
    for (guint i = 0; i < n_aors; i++)
      sync_aor (self, location, aors[i]);
  self->refill = FALSE;
  g_hash_table_remove_all (self->dirty_aors);
  empty = g_list_model_get_n_items (G_LIST_MODEL (self->rows)) == 0;
  self->had_bindings |= !empty;
  /* At t = 520 s of a scene whose phone went silent, "nobody has registered" would be wrong. */
  gtk_label_set_text (self->empty, self->had_bindings
                                   ? _("No bindings now: they expired or were removed (the "
                                       "ladder marks when, on the registrar's line).")
                                   : _("No bindings yet: nobody has registered."));
  gtk_widget_set_visible (GTK_WIDGET (self->empty), empty);
}

static void
location_changed_cb (AppLocationView *self,
                     const char      *aor,
                     SimLocation     *location)
{
  /* Several changes can come in one step: the AOR's rows follow on the next update. */
  g_hash_table_add (self->dirty_aors, g_strdup (aor));
}

/* Every AOR the location service holds, and every row shown, to be brought up to date. */
static void
mark_all_dirty (AppLocationView *self)
{
  SimLocation *location = self->location;
  g_autoptr(GPtrArray) aors = location ? sim_location_list_aors (location) : NULL;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->rows));

  for (guint i = 0; aors != NULL && i < aors->len; i++)
    g_hash_table_add (self->dirty_aors, g_strdup (aors->pdata[i]));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(BindingItem) item = g_list_model_get_item (G_LIST_MODEL (self->rows), i);

      g_hash_table_add (self->dirty_aors, g_strdup (item->aor));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The cells                                                                                  */

typedef enum {
  COLUMN_CONTACT,
  COLUMN_EXPIRES,
  COLUMN_CSEQ,
  COLUMN_CALL_ID,
  COLUMN_SOURCE,
} Column;

static void
show_cell (GtkListItem *list_item)
{
  BindingItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *child = gtk_list_item_get_child (list_item);
  Column column = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (child), "siplab-column"));
  gboolean heading = item->contact == NULL;
  char number[16];

  if (item->highlighted)
    gtk_widget_add_css_class (child, "lesson-highlight");
  else
    gtk_widget_remove_css_class (child, "lesson-highlight");
  switch (column)
    {
    case COLUMN_CONTACT:
      gtk_label_set_text (GTK_LABEL (child), heading ? item->aor : item->contact);
      if (heading)
        {
          gtk_widget_add_css_class (child, "aor");
          gtk_widget_remove_css_class (child, "contact");
        }
      else
        {
          gtk_widget_add_css_class (child, "contact");
          gtk_widget_remove_css_class (child, "aor");
        }
      break;
    case COLUMN_EXPIRES:
      app_ticker_set_text (APP_TICKER (child), heading ? "" : item->countdown);
      break;
    case COLUMN_CSEQ:
      g_snprintf (number, sizeof number, "%u", item->cseq);
      app_ticker_set_text (APP_TICKER (child), heading ? "" : number);
      break;
    case COLUMN_CALL_ID:
      gtk_label_set_text (GTK_LABEL (child), heading ? "" : item->call_id);
      break;
    case COLUMN_SOURCE:
      /* Behind a NAT the REGISTER comes from elsewhere than the Contact says (RFC 3581). */
      if (heading || strstr (item->contact, item->source) != NULL)
        {
          gtk_label_set_text (GTK_LABEL (child), heading ? "" : "same");
          gtk_widget_add_css_class (child, "dim");
          gtk_widget_remove_css_class (child, "source-differs");
        }
      else
        {
          gtk_label_set_text (GTK_LABEL (child), item->source);
          gtk_widget_add_css_class (child, "source-differs");
          gtk_widget_remove_css_class (child, "dim");
        }
      break;
    }
}

/*
 * A cell's tooltip is its label's whole text, asked for when the pointer rests on it.  Setting
 * the tooltip text at each bind instead made GTK query the pointer's position from the X
 * server (a round trip) for every cell of every spliced row: 40% of a busy frame.
 */
static gboolean
query_cell_tooltip_cb (GtkWidget  *widget,
                       int         x,
                       int         y,
                       gboolean    keyboard_mode,
                       GtkTooltip *tooltip,
                       gpointer    user_data)
{
  const char *text = gtk_label_get_text (GTK_LABEL (widget));

  if (text == NULL || *text == '\0')
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
setup_cell_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               gpointer                  user_data)
{
  Column column = GPOINTER_TO_INT (user_data);
  GtkWidget *child;

  if (column == COLUMN_EXPIRES)
    {
      child = app_ticker_new ("00000 s / 00000");
      gtk_widget_add_css_class (child, "countdown");
    }
  else if (column == COLUMN_CSEQ)
    child = app_ticker_new ("0000000");
  else
    child = cell ("", column == COLUMN_CALL_ID ? "dim" : NULL, column == COLUMN_CALL_ID ? 8 : 0);
  if (column == COLUMN_CONTACT || column == COLUMN_CALL_ID)
    {
      gtk_widget_set_has_tooltip (child, TRUE);
      g_signal_connect (child, "query-tooltip", G_CALLBACK (query_cell_tooltip_cb), NULL);
    }
  g_object_set_data (G_OBJECT (child), "siplab-column", GINT_TO_POINTER (column));
  gtk_list_item_set_child (list_item, child);
  gtk_list_item_set_activatable (list_item, FALSE);
}

static void
bind_cell_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              gpointer                  user_data)
{
  BindingItem *item = gtk_list_item_get_item (list_item);

  g_signal_connect_object (item, "changed", G_CALLBACK (show_cell), list_item,
                           G_CONNECT_SWAPPED);
  show_cell (list_item);
}

static void
unbind_cell_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                gpointer                  user_data)
{
  g_signal_handlers_disconnect_by_func (gtk_list_item_get_item (list_item), show_cell, list_item);
}

static void
add_columns (AppLocationView *self)
{
  for (guint c = 0; c < G_N_ELEMENTS (column_titles); c++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      g_autoptr(GtkColumnViewColumn) column = NULL;

      g_signal_connect (factory, "setup", G_CALLBACK (setup_cell_cb), GINT_TO_POINTER (c));
      g_signal_connect (factory, "bind", G_CALLBACK (bind_cell_cb), GINT_TO_POINTER (c));
      g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cell_cb), GINT_TO_POINTER (c));
      column = gtk_column_view_column_new (_(column_titles[c]), factory);
      gtk_column_view_column_set_expand (column, c == COLUMN_CONTACT);
      gtk_column_view_append_column (self->table, column);
    }
}

/* ------------------------------------------------------------------------------------------ */

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

  g_clear_object (&self->rows);
  g_clear_pointer (&self->dirty_aors, g_hash_table_unref);
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
  gtk_widget_class_bind_template_child (widget_class, AppLocationView, table);
  gtk_widget_class_bind_template_child (widget_class, AppLocationView, table_scroller);
  gtk_widget_class_bind_template_child (widget_class, AppLocationView, grid_scroller);
  gtk_widget_class_bind_template_child (widget_class, AppLocationView, empty);
  gtk_widget_class_set_css_name (widget_class, "locationview");
}

static void
app_location_view_init (AppLocationView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_list_store_new (BINDING_TYPE_ITEM);
  self->dirty_aors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gtk_column_view_set_model (self->table,
                             GTK_SELECTION_MODEL (gtk_no_selection_new (
                               G_LIST_MODEL (g_object_ref (self->rows)))));
  add_columns (self);
}

GtkWidget *
app_location_view_new (void)
{
  return g_object_new (APP_TYPE_LOCATION_VIEW, NULL);
}

/*
 * Shows @location (may be NULL): its "changed" signal marks the AORs to bring up to date.
 * The rows are made anew on the next sync_rows(), which reuses the table's items.
 */
static void
follow_location (AppLocationView *self,
                 SimLocation     *location)
{
  if (self->location == location)
    return;
  if (self->location != NULL)
    g_signal_handlers_disconnect_by_data (self->location, self);
  g_set_object (&self->location, location);
  g_hash_table_remove_all (self->dirty_aors);
  self->refill = TRUE;
  if (location != NULL)
    {
      g_signal_connect_object (location, "changed", G_CALLBACK (location_changed_cb), self,
                               G_CONNECT_SWAPPED);
      mark_all_dirty (self);
    }
}

static void
set_caption (AppLocationView *self)
{
  SimWorld *world = self->world;
  const char *kept_by = NULL;
  g_autofree char *caption = NULL;

  if (world != NULL && sim_capture_world_get_observer (world) != NULL)
    {
      current_location (self, &kept_by);
      caption = kept_by != NULL
                ? g_strdup_printf (_("Kept by %s"), kept_by)
                : g_strdup (_("No registrar seen yet: no 200 OK to a REGISTER in the capture"));
    }
  else if (sim_world_get_server_name (world) != NULL)
    caption = g_strdup_printf (_("Location service of %s (%s)"),
                               sim_world_get_server_name (world),
                               sim_world_get_domain (world) ? sim_world_get_domain (world) : "");
  else
    caption = g_strdup (_("No registrar: each phone keeps its own address book"));
  gtk_label_set_text (self->caption, caption);
}

void
app_location_view_set_world (AppLocationView *self,
                             SimWorld        *world)
{
  gboolean registrar;
  const char *name;

  g_return_if_fail (APP_IS_LOCATION_VIEW (self));

  if (self->world == world)
    return;
  follow_location (self, NULL);
  g_set_object (&self->world, world);
  g_clear_pointer (&self->books, g_free);
  self->had_bindings = FALSE;
  registrar = world != NULL && (sim_world_get_location (world) != NULL ||
                                sim_capture_world_get_observer (world) != NULL);
  gtk_widget_set_visible (self->table_scroller, registrar || world == NULL);
  gtk_widget_set_visible (self->grid_scroller, !registrar && world != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->empty), FALSE);
  if (world != NULL)
    {
      set_caption (self);
      follow_location (self, current_location (self, &name));
      sync_rows (self);
      app_location_view_update (self);
    }
  else
    sync_rows (self);
}

void
app_location_view_update (AppLocationView *self)
{
  const char *name;
  SimLocation *location;

  g_return_if_fail (APP_IS_LOCATION_VIEW (self));

  if (self->world == NULL)
    return;
  location = current_location (self, &name);
  if (location == NULL && sim_capture_world_get_observer (self->world) == NULL)
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
  /* A watched network: its first registrar has just been seen. */
  if (location != self->location)
    {
      follow_location (self, location);
      set_caption (self);
    }
  /* Hidden behind another pane: catch up when shown (or asked for its rows). */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  sync_rows (self);
  update_countdowns (self);
}

gboolean
app_location_view_needs_rebuild (AppLocationView *self)
{
  g_return_val_if_fail (APP_IS_LOCATION_VIEW (self), FALSE);
  /* Rows are spliced per AOR, never rebuilt: nothing to put off. */
  return FALSE;
}

guint
app_location_view_get_n_rows (AppLocationView *self)
{
  g_return_val_if_fail (APP_IS_LOCATION_VIEW (self), 0);
  sync_rows (self);
  return count_bindings (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Lesson highlight: the binding a lesson step talks about (app-lesson-pane.c)                */

/* Marks the AOR's heading and its Contact's row (every Contact's when none is named). */
static void
apply_highlight (AppLocationView *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->rows));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(BindingItem) item = g_list_model_get_item (G_LIST_MODEL (self->rows), i);
      gboolean highlighted = is_highlighted (self, item);

      if (highlighted != item->highlighted)
        {
          item->highlighted = highlighted;
          g_signal_emit (item, item_changed_signal, 0);
        }
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
  guint n, highlighted = 0;

  g_return_val_if_fail (APP_IS_LOCATION_VIEW (self), 0);

  sync_rows (self);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->rows));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(BindingItem) item = g_list_model_get_item (G_LIST_MODEL (self->rows), i);

      highlighted += item->highlighted && item->contact != NULL;
    }
  return highlighted;
}

/* The table's rows as a list model (BindingItem: AOR headings and bindings), for tests. */
GListModel *
app_location_view_get_model (AppLocationView *self)
{
  g_return_val_if_fail (APP_IS_LOCATION_VIEW (self), NULL);
  return G_LIST_MODEL (self->rows);
}
