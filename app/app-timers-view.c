/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-timers-view.h"
#include "sim-i18n.h"

#include <string.h>

#include "app-ticker.h"

/*
 * Everything in the session that is counting down, as bars that empty as the clock runs:
 *
 *  - each phone's registration refresh (planned from what the registrar *granted*, RFC 3261
 *    §10.2.4), read from the phone;
 *  - each binding's expiry at the registrar (§10.3), read from the location service;
 *  - the transaction timers of §17 (A, B, E, F, ... M).  The stack only traces "started" and
 *    "fired", so a timer that a state change cancels silently is dropped here by the same
 *    rules the stack follows: a transaction entering its wait state (K, D, M, I, J, L starts)
 *    or ending stops the others of that transaction.
 */

/* A long run has hundreds of transactions; the soonest few are the interesting ones. */
#define MAX_TXN_BARS 30

typedef struct {
  char *node;
  char *branch;
  char *name;
  char *method;
  SimTime start;
  SimTime duration;
} Timer;

typedef struct {
  SimTime start;
  SimTime duration;
} Refresh;

typedef struct {
  char *id;
  char *text;
  double fraction;
  SimTime left;
  int section;
} Item;

typedef struct {
  int section;
  AppTicker *label;
  GtkProgressBar *bar;
} Shown;

struct _AppTimersView {
  GtkWidget parent_instance;

  GtkBox *list;

  SimWorld *world;
  GHashTable *timers;      /* "node\nbranch\nname" -> Timer* */
  GHashTable *refreshes;   /* device -> Refresh* */
  GPtrArray *shown;        /* Shown* */
  guint n_items;
  SimTime last_sweep;      /* when lapsed timers were last dropped */
};

G_DEFINE_FINAL_TYPE (AppTimersView, app_timers_view, GTK_TYPE_WIDGET)

static const char *section_titles[] = {
  N_("Registration refresh (each phone, RFC 3261 §10.2.4)"),
  N_("Binding expiry (the registrar's location service, §10.3)"),
  N_("Transaction timers (§17)"),
};

static const struct {
  const char *name;
  const char *what;
} timer_roles[] = {
  { "A", N_("resend INVITE") },
  { "B", N_("give up on INVITE") },
  { "D", N_("absorb resent replies") },
  { "E", N_("resend request") },
  { "F", N_("give up on request") },
  { "G", N_("resend final reply") },
  { "H", N_("give up waiting for ACK") },
  { "I", N_("absorb resent ACKs") },
  { "J", N_("absorb resent requests") },
  { "K", N_("absorb resent replies") },
  { "L", N_("absorb resent INVITEs") },
  { "M", N_("absorb resent 2xx") },
};

static const char *
timer_role (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (timer_roles); i++)
    if (g_strcmp0 (timer_roles[i].name, name) == 0)
      return _(timer_roles[i].what);
  return "";
}

static void
timer_free (gpointer data)
{
  Timer *timer = data;

  g_free (timer->node);
  g_free (timer->branch);
  g_free (timer->name);
  g_free (timer->method);
  g_free (timer);
}

static void
item_free (gpointer data)
{
  Item *item = data;

  /* The soonest transaction timers are stolen from their array, leaving NULL behind. */
  if (item == NULL)
    return;
  g_free (item->id);
  g_free (item->text);
  g_free (item);
}

static void
shown_free (gpointer data)
{
  g_free (data);
}

static char *
timer_key (const char *node,
           const char *branch,
           const char *name)
{
  return g_strdup_printf ("%s\n%s\n%s", node ? node : "", branch ? branch : "", name ? name : "");
}

/*
 * Drops the timers of @node (and of its transaction @branch when not NULL; only those named
 * @only_name when not NULL).  Timers long past their deadline go too: one cancelled in a way
 * the trace does not show must not pile up over an hour of refreshes.
 */
static void
drop_timers (AppTimersView *self,
             SimTime        now,
             const char    *node,
             const char    *branch,
             const char    *only_name)
{
  GHashTableIter iter;
  gpointer value;

  /*
   * One transaction's timers are found by key: a live registrar has tens of thousands running
   * (Timer J alone lasts 32 s per REGISTER), and scanning them all for every event would make
   * the GUI fall behind its phones.  The sweep of lapsed timers runs once a second instead.
   */
  if (branch != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (timer_roles); i++)
        if (only_name == NULL || g_strcmp0 (only_name, timer_roles[i].name) == 0)
          {
            g_autofree char *key = timer_key (node, branch, timer_roles[i].name);

            g_hash_table_remove (self->timers, key);
          }
      if (only_name != NULL && timer_role (only_name)[0] == '\0')
        {
          g_autofree char *key = timer_key (node, branch, only_name);

          g_hash_table_remove (self->timers, key);
        }
      if (now - self->last_sweep < SIM_SEC (1) && now >= self->last_sweep)
        return;
    }
  self->last_sweep = now;
  g_hash_table_iter_init (&iter, self->timers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Timer *timer = value;

      if (timer->start + timer->duration + SIM_SEC (1) < now)
        g_hash_table_iter_remove (&iter);
      else if (g_strcmp0 (timer->node, node) == 0 &&
          (branch == NULL || g_strcmp0 (timer->branch, branch) == 0) &&
          (only_name == NULL || g_strcmp0 (timer->name, only_name) == 0))
        g_hash_table_iter_remove (&iter);
    }
}

static gboolean
is_wait_timer (const char *name)
{
  return name != NULL && name[0] != '\0' && name[1] == '\0' && strchr ("KDMIJL", name[0]) != NULL;
}

static gboolean
is_timeout_timer (const char *name)
{
  return g_strcmp0 (name, "B") == 0 || g_strcmp0 (name, "F") == 0 || g_strcmp0 (name, "H") == 0;
}

static void
trace_event_cb (AppTimersView *self,
                SimEvent      *event,
                SimTrace      *trace)
{
  if (event->type == SIM_EVENT_TIMER)
    {
      gboolean started = g_strcmp0 (event->action, "started") == 0;

      if (event->branch == NULL)
        {
          /* The phone's refresh timer (and any other timer of no transaction). */
          if (started && g_strcmp0 (event->name, "refresh") == 0)
            {
              Refresh *refresh = g_new0 (Refresh, 1);

              refresh->start = event->t;
              refresh->duration = event->duration;
              g_hash_table_replace (self->refreshes, g_strdup (event->node), refresh);
            }
          return;
        }
      if (started)
        {
          Timer *timer = g_new0 (Timer, 1);

          /* RFC 3261 §17: entering a wait state stops retransmission and timeout timers. */
          if (is_wait_timer (event->name))
            drop_timers (self, event->t, event->node, event->branch, NULL);
          timer->node = g_strdup (event->node);
          timer->branch = g_strdup (event->branch);
          timer->name = g_strdup (event->name);
          timer->method = g_strdup (event->method);
          timer->start = event->t;
          timer->duration = event->duration;
          g_hash_table_replace (self->timers, timer_key (event->node, event->branch, event->name),
                                timer);
        }
      else if (is_timeout_timer (event->name))
        drop_timers (self, event->t, event->node, event->branch, NULL);
      else
        {
          g_autofree char *key = timer_key (event->node, event->branch, event->name);

          g_hash_table_remove (self->timers, key);
        }
    }
  else if (event->type == SIM_EVENT_TRANSACTION)
    {
      if (g_strcmp0 (event->action, "terminated") == 0)
        drop_timers (self, event->t, event->node, event->branch, NULL);
      /* §17.1.1.2: a provisional response stops Timer A. */
      else if (g_strcmp0 (event->action, "proceeding") == 0)
        drop_timers (self, event->t, event->node, event->branch, "A");
    }
  else if (event->type == SIM_EVENT_NODE &&
           (g_strcmp0 (event->action, "power-off") == 0 ||
            g_strcmp0 (event->action, "removed") == 0))
    {
      /* Power off stops every timer of the host without tracing each one. */
      drop_timers (self, event->t, event->node, NULL, NULL);
      g_hash_table_remove (self->refreshes, event->node);
    }
}

static int
compare_items (gconstpointer a,
               gconstpointer b)
{
  const Item *x = *(const Item * const *) a;
  const Item *y = *(const Item * const *) b;

  if (x->section != y->section)
    return x->section - y->section;
  if (x->left != y->left)
    return x->left < y->left ? -1 : 1;
  return g_strcmp0 (x->id, y->id);
}

static Item *
item_new (int         section,
          char       *id,
          SimTime     left,
          SimTime     total,
          char       *text)
{
  Item *item = g_new0 (Item, 1);

  item->section = section;
  item->id = id;
  item->left = MAX (left, 0);
  item->fraction = total > 0 ? CLAMP ((double) item->left / total, 0.0, 1.0) : 0.0;
  item->text = text;
  return item;
}

static char *
seconds (SimTime t)
{
  double s = SIM_TIME_TO_SECONDS (MAX (t, 0));

  if (s >= 10)
    return g_strdup_printf ("%.0f s", s);
  return g_strdup_printf ("%.2f s", s);
}

static GPtrArray *
collect_items (AppTimersView *self)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (item_free);
  g_autoptr(GPtrArray) txn = g_ptr_array_new_with_free_func (item_free);
  SimTime now;
  SimLocation *location;
  GPtrArray *phones;
  GHashTableIter iter;
  gpointer value;

  if (self->world == NULL)
    return items;
  now = sim_world_now (self->world);

  phones = sim_world_get_phones (self->world);
  for (guint i = 0; i < phones->len; i++)
    {
      SimPhone *phone = phones->pdata[i];
      SimTime at = sim_phone_get_refresh_at (phone);
      const char *device = sim_phone_get_device (phone);
      Refresh *refresh = g_hash_table_lookup (self->refreshes, device);
      SimTime total;
      g_autofree char *left = NULL, *of = NULL;

      if (at < 0)
        continue;
      total = refresh != NULL && refresh->start + refresh->duration == at
              ? refresh->duration : (SimTime) sim_phone_get_granted (phone) * G_USEC_PER_SEC;
      left = seconds (at - now);
      of = seconds (total);
      g_ptr_array_add (items, item_new (0, g_strdup_printf ("r:%s", device), at - now, total,
                                        g_strdup_printf (_("%s refreshes in %s (of %s; granted "
                                                           "%u s)"), device, left, of,
                                                         sim_phone_get_granted (phone))));
    }

  location = sim_world_get_location (self->world);
  if (location != NULL)
    {
      g_autoptr(GPtrArray) aors = sim_location_list_aors (location);

      for (guint a = 0; a < aors->len; a++)
        {
          GPtrArray *bindings = sim_location_lookup (location, aors->pdata[a]);

          for (guint b = 0; bindings != NULL && b < bindings->len; b++)
            {
              const SimBinding *binding = bindings->pdata[b];
              g_autofree char *left = seconds (binding->expires_at - now);

              g_ptr_array_add (items, item_new (1, g_strdup_printf ("b:%s", binding->contact),
                                                binding->expires_at - now,
                                                (SimTime) binding->granted * G_USEC_PER_SEC,
                                                g_strdup_printf (_("%s expires in %s (of %u s)"),
                                                                 binding->contact, left,
                                                                 binding->granted)));
            }
        }
    }

  g_hash_table_iter_init (&iter, self->timers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Timer *timer = value;
      SimTime end = timer->start + timer->duration;
      g_autofree char *left = NULL, *of = NULL;

      /* Past its deadline without a "fired": cancelled in a way we did not see. */
      if (end < now)
        continue;
      left = seconds (end - now);
      of = seconds (timer->duration);
      g_ptr_array_add (txn, item_new (2, g_strdup_printf ("t:%s:%s:%s", timer->node,
                                                          timer->branch, timer->name),
                                      end - now, timer->duration,
                                      g_strdup_printf (_("%s · Timer %s (%s): %s · %s left of %s"),
                                                       timer->node, timer->name,
                                                       timer->method ? timer->method : "?",
                                                       timer_role (timer->name), left, of)));
    }
  g_ptr_array_sort (txn, compare_items);
  for (guint i = 0; i < txn->len && i < MAX_TXN_BARS; i++)
    g_ptr_array_add (items, g_steal_pointer (&txn->pdata[i]));

  g_ptr_array_sort (items, compare_items);
  return items;
}

static void
rebuild (AppTimersView *self,
         GPtrArray     *items)
{
  GtkWidget *child;
  int section = -1;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_box_remove (self->list, child);
  g_ptr_array_set_size (self->shown, 0);

  for (guint i = 0; i < items->len; i++)
    {
      Item *item = items->pdata[i];
      Shown *shown = g_new0 (Shown, 1);

      if (item->section != section)
        {
          GtkWidget *title = gtk_label_new (_(section_titles[item->section]));

          section = item->section;
          gtk_label_set_xalign (GTK_LABEL (title), 0);
          gtk_widget_add_css_class (title, "timers-section");
          gtk_box_append (self->list, title);
        }
      shown->section = item->section;
      /* A ticker: its text changes five times a second without a relayout of the list. */
      shown->label = APP_TICKER (app_ticker_new (NULL));
      shown->bar = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
      gtk_widget_add_css_class (GTK_WIDGET (shown->bar), item->section == 0 ? "refresh"
                                                         : item->section == 1 ? "expiry"
                                                         : "transaction");
      gtk_box_append (self->list, GTK_WIDGET (shown->label));
      gtk_box_append (self->list, GTK_WIDGET (shown->bar));
      g_ptr_array_add (self->shown, shown);
    }
  if (items->len == 0)
    {
      GtkWidget *empty = gtk_label_new (_("Nothing is counting down right now."));

      gtk_widget_add_css_class (empty, "dim");
      gtk_widget_set_margin_top (empty, 12);
      gtk_box_append (self->list, empty);
    }
}

/*
 * Rows are reused by position: transaction timers come and go many times a second, and new
 * widgets for each would cost more than the frame.  Only a change in how many bars each
 * section has builds the list anew.
 */
static gboolean
same_shape (AppTimersView *self,
            GPtrArray     *items)
{
  if (items->len != self->shown->len)
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    if (((Item *) items->pdata[i])->section != ((Shown *) self->shown->pdata[i])->section)
      return FALSE;
  return TRUE;
}

void
app_timers_view_update (AppTimersView *self)
{
  g_autoptr(GPtrArray) items = NULL;

  g_return_if_fail (APP_IS_TIMERS_VIEW (self));

  /* Hidden behind another pane: nothing to draw (the tracking above goes on regardless). */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  items = collect_items (self);
  self->n_items = items->len;
  if (!same_shape (self, items))
    rebuild (self, items);
  for (guint i = 0; i < items->len; i++)
    {
      Item *item = items->pdata[i];
      Shown *shown = self->shown->pdata[i];

      app_ticker_set_text (shown->label, item->text);
      gtk_progress_bar_set_fraction (shown->bar, item->fraction);
    }
}

guint
app_timers_view_get_n_transaction_timers (AppTimersView *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_return_val_if_fail (APP_IS_TIMERS_VIEW (self), 0);
  if (self->world == NULL)
    return 0;
  g_hash_table_iter_init (&iter, self->timers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Timer *timer = value;

      if (timer->start + timer->duration >= sim_world_now (self->world))
        n++;
    }
  return n;
}

guint
app_timers_view_get_n_bars (AppTimersView *self)
{
  g_autoptr(GPtrArray) items = NULL;

  g_return_val_if_fail (APP_IS_TIMERS_VIEW (self), 0);
  items = collect_items (self);
  return items->len;
}

void
app_timers_view_set_world (AppTimersView *self,
                           SimWorld      *world)
{
  g_return_if_fail (APP_IS_TIMERS_VIEW (self));

  if (self->world == world)
    return;
  if (self->world != NULL)
    g_signal_handlers_disconnect_by_data (sim_world_get_trace (self->world), self);
  g_hash_table_remove_all (self->timers);
  self->last_sweep = 0;
  g_hash_table_remove_all (self->refreshes);
  g_set_object (&self->world, world);
  if (world != NULL)
    {
      GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));

      for (guint i = 0; i < events->len; i++)
        trace_event_cb (self, events->pdata[i], NULL);
      g_signal_connect_object (sim_world_get_trace (world), "event",
                               G_CALLBACK (trace_event_cb), self, G_CONNECT_SWAPPED);
    }
  {
    g_autoptr(GPtrArray) none = g_ptr_array_new ();

    g_ptr_array_set_size (self->shown, 0);
    rebuild (self, none);
  }
  app_timers_view_update (self);
}

static void
app_timers_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (app_timers_view_parent_class)->map (widget);
  app_timers_view_update (APP_TIMERS_VIEW (widget));
}

static void
app_timers_view_dispose (GObject *object)
{
  AppTimersView *self = APP_TIMERS_VIEW (object);
  GtkWidget *child;

  app_timers_view_set_world (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_TIMERS_VIEW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (app_timers_view_parent_class)->dispose (object);
}

static void
app_timers_view_finalize (GObject *object)
{
  AppTimersView *self = APP_TIMERS_VIEW (object);

  g_clear_pointer (&self->timers, g_hash_table_unref);
  g_clear_pointer (&self->refreshes, g_hash_table_unref);
  g_clear_pointer (&self->shown, g_ptr_array_unref);
  G_OBJECT_CLASS (app_timers_view_parent_class)->finalize (object);
}

static void
app_timers_view_class_init (AppTimersViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_timers_view_dispose;
  object_class->finalize = app_timers_view_finalize;
  widget_class->map = app_timers_view_map;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/siplab/SipLab/app-timers-view.ui");
  gtk_widget_class_bind_template_child (widget_class, AppTimersView, list);
  gtk_widget_class_set_css_name (widget_class, "timersview");
}

static void
app_timers_view_init (AppTimersView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->timers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, timer_free);
  self->refreshes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->shown = g_ptr_array_new_with_free_func (shown_free);
}

GtkWidget *
app_timers_view_new (void)
{
  return g_object_new (APP_TYPE_TIMERS_VIEW, NULL);
}
