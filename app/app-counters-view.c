/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-counters-view.h"
#include "sim-i18n.h"

#include <string.h>

#include "app-packet.h"
#include "sim-history.h"

/*
 * The registrar at a glance, for a lab full of phones: how many registrations it confirms per
 * second, how many bindings its location service holds, and how many digests it turns down.
 * Everything comes from the trace's "event" signal and the location service, so it reads the
 * same for a simulated scene and for real phones on real sockets.
 *
 * Memory stays bounded however long the registrar runs: one bucket per second of the session
 * clock in a fixed ring, the oldest overwritten as time moves on.
 */

/* Two minutes of history, one bucket per second. */
#define N_BUCKETS 120

typedef struct {
  gint64 second;          /* session clock second this bucket counts, -1: unused */
  guint registrations;    /* REGISTER 200 OKs sent by the registrar */
  guint failures;         /* nonces rejected or stale */
  guint bindings;         /* bindings at the end of the second (so far) */
} Bucket;

typedef enum {
  SERIES_REGISTRATIONS,
  SERIES_BINDINGS,
  SERIES_FAILURES,
} Series;

struct _AppCountersView {
  GtkWidget parent_instance;

  GtkLabel *registrations_value;
  GtkLabel *registrations_caption;
  GtkDrawingArea *registrations_plot;
  GtkLabel *bindings_value;
  GtkDrawingArea *bindings_plot;
  GtkLabel *failures_value;
  GtkDrawingArea *failures_plot;

  SimWorld *world;
  SimHistory *history;
  Bucket ring[N_BUCKETS];
  gint64 head;            /* newest second in the ring, -1 before the first */
  guint64 n_registrations;
  guint64 n_failures;
  guint n_bindings;
  /* The totals before every SIM_HISTORY_CHUNK_EVENTS-th event of the session ([k]: before
   * event k * SIM_HISTORY_CHUNK_EVENTS), noted as the events pass: after a seek the counts
   * start from the nearest one instead of reading the whole history again (issue 17). */
  GArray *marks;          /* Totals */
};

/*
 * The totals and the ring as they were: a seek restores the ring from the mark before the
 * trace's oldest event instead of reading N_BUCKETS seconds of the history again, which at
 * hundreds of events a second was tens of thousands of events per seek (issue 17).
 */
typedef struct {
  guint64 registrations;
  guint64 failures;
  guint n_bindings;
  gint64 head;
  Bucket ring[N_BUCKETS];
} Totals;

G_DEFINE_FINAL_TYPE (AppCountersView, app_counters_view, GTK_TYPE_WIDGET)

static void
reset (AppCountersView *self)
{
  for (guint i = 0; i < N_BUCKETS; i++)
    self->ring[i] = (Bucket) { -1, 0, 0, 0 };
  self->head = -1;
  self->n_registrations = 0;
  self->n_failures = 0;
  self->n_bindings = 0;
}

/* Moves the ring on to @second: the seconds in between get empty buckets. */
static void
advance_to (AppCountersView *self,
            gint64           second)
{
  gint64 from;

  if (second <= self->head)
    return;
  /* A jump of more than the window (fast-forward) leaves only empty seconds in view. */
  from = MAX (self->head + 1, second - N_BUCKETS + 1);
  for (gint64 s = from; s <= second; s++)
    self->ring[s % N_BUCKETS] = (Bucket) { s, 0, 0, self->n_bindings };
  self->head = second;
}

static Bucket *
bucket_at (AppCountersView *self,
           SimTime          t)
{
  advance_to (self, MAX (t, 0) / SIM_SEC (1));
  return &self->ring[self->head % N_BUCKETS];
}

static gboolean
is_registration (AppCountersView *self,
                 SimEvent        *event)
{
  const char *server = sim_world_get_server_name (self->world);

  return event->type == SIM_EVENT_PACKET && g_strcmp0 (event->action, "sent") == 0 &&
         server != NULL && g_strcmp0 (event->from, server) == 0 &&
         event->status >= 200 && event->status < 300 &&
         g_strcmp0 (event->method, "REGISTER") == 0;
}

/*
 * Notes the totals before @index if it starts a chunk.  The session is deterministic, so
 * counting the same events again notes the same totals and the later marks stay; different
 * totals mean another run (an edit changed what followed): the later marks are dropped.
 */
static void
note_mark (AppCountersView *self,
           guint64          index)
{
  guint64 k = index / SIM_HISTORY_CHUNK_EVENTS;
  Totals totals = { self->n_registrations, self->n_failures, self->n_bindings, self->head };

  if (self->marks == NULL || index % SIM_HISTORY_CHUNK_EVENTS != 0 || k > self->marks->len)
    return;
  memcpy (totals.ring, self->ring, sizeof totals.ring);
  if (k < self->marks->len)
    {
      Totals *noted = &g_array_index (self->marks, Totals, k);

      if (noted->registrations == totals.registrations && noted->failures == totals.failures)
        return;
    }
  g_array_set_size (self->marks, k);
  g_array_append_val (self->marks, totals);
}

static void
trace_event_cb (AppCountersView *self,
                SimEvent        *event,
                SimTrace        *trace)
{
  note_mark (self, event->index);
  if (is_registration (self, event))
    {
      bucket_at (self, event->t)->registrations++;
      self->n_registrations++;
    }
  else if (event->type == SIM_EVENT_NONCE &&
           (g_strcmp0 (event->action, "rejected") == 0 || g_strcmp0 (event->action, "stale") == 0))
    {
      bucket_at (self, event->t)->failures++;
      self->n_failures++;
    }
  else if (event->type == SIM_EVENT_BINDING)
    {
      SimLocation *location = sim_world_get_location (self->world);

      self->n_bindings = location != NULL ? sim_location_get_n_bindings (location) : 0;
      bucket_at (self, event->t)->bindings = self->n_bindings;
    }
}

static guint
bucket_value (const Bucket *bucket,
              Series        series)
{
  switch (series)
    {
    case SERIES_REGISTRATIONS:
      return bucket->registrations;
    case SERIES_BINDINGS:
      return bucket->bindings;
    case SERIES_FAILURES:
      return bucket->failures;
    default:
      g_assert_not_reached ();
    }
}

/* Bars per second for the counts, a step line for the bindings; the newest second on the right. */
static void
paint_series (AppCountersView *self,
              GtkWidget       *widget,
              cairo_t         *cr,
              double           width,
              double           height,
              Series           series)
{
  static const char *colour_names[] = {
    [SERIES_REGISTRATIONS] = "packet_ok",
    [SERIES_BINDINGS] = "packet_register",
    [SERIES_FAILURES] = "packet_dropped",
  };
  double slot = width / N_BUCKETS;
  double top = 16, bottom = height - 2;
  guint peak = 0;
  GdkRGBA bg, dim, colour;

  app_lookup_color (widget, "ladder_bg", "#ffffff", &bg);
  app_lookup_color (widget, "ladder_dim", "#777777", &dim);
  app_lookup_color (widget, colour_names[series], "#888888", &colour);

  gdk_cairo_set_source_rgba (cr, &bg);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);

  for (guint i = 0; i < N_BUCKETS; i++)
    if (self->ring[i].second >= 0)
      peak = MAX (peak, bucket_value (&self->ring[i], series));

  if (self->head >= 0)
    {
      gdk_cairo_set_source_rgba (cr, &colour);
      for (guint k = 0; k < N_BUCKETS; k++)
        {
          gint64 s = self->head - (N_BUCKETS - 1) + k;
          const Bucket *bucket;
          double h;

          if (s < 0)
            continue;
          bucket = &self->ring[s % N_BUCKETS];
          if (bucket->second != s || peak == 0)
            continue;
          h = (bottom - top) * bucket_value (bucket, series) / peak;
          if (series == SERIES_BINDINGS)
            {
              /* A level, not an event count: a filled step area. */
              if (h > 0)
                cairo_rectangle (cr, k * slot, bottom - h, slot + 0.5, h);
            }
          else if (h > 0)
            cairo_rectangle (cr, k * slot + slot * 0.15, bottom - h, MAX (slot * 0.7, 1), h);
        }
      cairo_fill (cr);
    }

  /* The baseline, and the scale: the peak in the window. */
  gdk_cairo_set_source_rgba (cr, &dim);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, 0, bottom + 0.5);
  cairo_line_to (cr, width, bottom + 0.5);
  cairo_stroke (cr);
  {
    g_autofree char *text = g_strdup_printf (series == SERIES_BINDINGS ? _("max %u · last %u s")
                                                                       : _("max %u/s · last %u s"),
                                             peak, N_BUCKETS);
    g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);

    cairo_move_to (cr, 2, 0);
    pango_cairo_show_layout (cr, layout);
  }
}

static void
draw_registrations_cb (GtkDrawingArea *area,
                       cairo_t        *cr,
                       int             width,
                       int             height,
                       gpointer        user_data)
{
  paint_series (user_data, GTK_WIDGET (area), cr, width, height, SERIES_REGISTRATIONS);
}

static void
draw_bindings_cb (GtkDrawingArea *area,
                  cairo_t        *cr,
                  int             width,
                  int             height,
                  gpointer        user_data)
{
  paint_series (user_data, GTK_WIDGET (area), cr, width, height, SERIES_BINDINGS);
}

static void
draw_failures_cb (GtkDrawingArea *area,
                  cairo_t        *cr,
                  int             width,
                  int             height,
                  gpointer        user_data)
{
  paint_series (user_data, GTK_WIDGET (area), cr, width, height, SERIES_FAILURES);
}

static void
set_number (GtkLabel *label,
            guint64   n)
{
  char text[32];

  g_snprintf (text, sizeof text, "%" G_GUINT64_FORMAT, n);
  if (g_strcmp0 (gtk_label_get_text (label), text) != 0)
    gtk_label_set_text (label, text);
}

void
app_counters_view_update (AppCountersView *self)
{
  char caption[96];
  guint last = 0;

  g_return_if_fail (APP_IS_COUNTERS_VIEW (self));

  if (self->world != NULL)
    advance_to (self, MAX (sim_world_now (self->world), 0) / SIM_SEC (1));
  /*
   * Hidden behind another pane: the counts above go on, the labels wait until it is shown (a
   * label's new text has GTK size the whole window again, shown or not).
   */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  /* The second that just ended: the one being counted is not complete yet. */
  if (self->head >= 1 && self->ring[(self->head - 1) % N_BUCKETS].second == self->head - 1)
    last = self->ring[(self->head - 1) % N_BUCKETS].registrations;
  g_snprintf (caption, sizeof caption, _("registrations (200 OK), %u in the last second"), last);
  if (g_strcmp0 (gtk_label_get_text (self->registrations_caption), caption) != 0)
    gtk_label_set_text (self->registrations_caption, caption);
  set_number (self->registrations_value, self->n_registrations);
  set_number (self->bindings_value, self->n_bindings);
  set_number (self->failures_value, self->n_failures);
  gtk_widget_queue_draw (GTK_WIDGET (self->registrations_plot));
  gtk_widget_queue_draw (GTK_WIDGET (self->bindings_plot));
  gtk_widget_queue_draw (GTK_WIDGET (self->failures_plot));
}

void
app_counters_view_set_history (AppCountersView *self,
                               SimHistory      *history)
{
  g_return_if_fail (APP_IS_COUNTERS_VIEW (self));
  if (self->history != history)
    g_array_set_size (self->marks, 0);
  g_set_object (&self->history, history);
}

/*
 * Counts what the trace no longer keeps from the history: the totals and the ring from the
 * last mark at or before @first, the trace's oldest event, then the events from there up to
 * @first.  At most SIM_HISTORY_CHUNK_EVENTS events wherever the session is, once the marks are
 * noted (they are noted while counting, too).
 */
static void
count_history (AppCountersView *self,
               guint64          first)
{
  guint64 k = 0;

  if (self->history == NULL || first == 0)
    return;
  /* Marks past the history's end are of a run an edit cut short. */
  g_array_set_size (self->marks, MIN (self->marks->len,
                                      sim_history_get_n_events (self->history) /
                                      SIM_HISTORY_CHUNK_EVENTS + 1));
  if (self->marks->len > 0)
    {
      Totals *totals;

      /* Mark k holds the state before event k * SIM_HISTORY_CHUNK_EVENTS: count on from it. */
      k = MIN (first / SIM_HISTORY_CHUNK_EVENTS, self->marks->len - 1);
      totals = &g_array_index (self->marks, Totals, k);
      self->n_registrations = totals->registrations;
      self->n_failures = totals->failures;
      self->n_bindings = totals->n_bindings;
      self->head = totals->head;
      memcpy (self->ring, totals->ring, sizeof self->ring);
    }
  for (guint64 i = k * SIM_HISTORY_CHUNK_EVENTS; i < first; i++)
    {
      g_autoptr(SimEvent) event = sim_history_get_event (self->history, i);

      if (event == NULL)
        break;
      trace_event_cb (self, event, NULL);
    }
}

void
app_counters_view_set_world (AppCountersView *self,
                             SimWorld        *world)
{
  g_return_if_fail (APP_IS_COUNTERS_VIEW (self));

  if (self->world == world)
    return;
  if (self->world != NULL)
    g_signal_handlers_disconnect_by_data (sim_world_get_trace (self->world), self);
  g_set_object (&self->world, world);
  reset (self);
  if (world != NULL)
    {
      SimTrace *trace = sim_world_get_trace (world);
      GPtrArray *events = sim_trace_get_events (trace);
      guint64 first = events->len > 0 ? ((SimEvent *) events->pdata[0])->index
                                      : sim_trace_get_n_emitted (trace);

      /* What the trace no longer keeps, from the history: the counts are the session's. */
      count_history (self, first);
      for (guint i = 0; i < events->len; i++)
        trace_event_cb (self, events->pdata[i], NULL);
      if (sim_world_get_location (world) != NULL)
        self->n_bindings = sim_location_get_n_bindings (sim_world_get_location (world));
      g_signal_connect_object (sim_world_get_trace (world), "event",
                               G_CALLBACK (trace_event_cb), self, G_CONNECT_SWAPPED);
    }
  app_counters_view_update (self);
}

guint64
app_counters_view_get_n_registrations (AppCountersView *self)
{
  g_return_val_if_fail (APP_IS_COUNTERS_VIEW (self), 0);
  return self->n_registrations;
}

guint
app_counters_view_get_n_bindings (AppCountersView *self)
{
  g_return_val_if_fail (APP_IS_COUNTERS_VIEW (self), 0);
  return self->n_bindings;
}

guint64
app_counters_view_get_n_failures (AppCountersView *self)
{
  g_return_val_if_fail (APP_IS_COUNTERS_VIEW (self), 0);
  return self->n_failures;
}

static void
app_counters_view_dispose (GObject *object)
{
  AppCountersView *self = APP_COUNTERS_VIEW (object);
  GtkWidget *child;

  app_counters_view_set_world (self, NULL);
  g_clear_object (&self->history);
  g_clear_pointer (&self->marks, g_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_COUNTERS_VIEW);
  /* dispose_template() only drops the children bound by name; the scrolled window goes too. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (app_counters_view_parent_class)->dispose (object);
}

/* Shown again: the labels and plots catch up with what was counted while hidden. */
static void
app_counters_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (app_counters_view_parent_class)->map (widget);
  app_counters_view_update (APP_COUNTERS_VIEW (widget));
}

static void
app_counters_view_class_init (AppCountersViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_counters_view_dispose;
  widget_class->map = app_counters_view_map;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/siplab/SipLab/app-counters-view.ui");
  gtk_widget_class_bind_template_child (widget_class, AppCountersView, registrations_value);
  gtk_widget_class_bind_template_child (widget_class, AppCountersView, registrations_caption);
  gtk_widget_class_bind_template_child (widget_class, AppCountersView, registrations_plot);
  gtk_widget_class_bind_template_child (widget_class, AppCountersView, bindings_value);
  gtk_widget_class_bind_template_child (widget_class, AppCountersView, bindings_plot);
  gtk_widget_class_bind_template_child (widget_class, AppCountersView, failures_value);
  gtk_widget_class_bind_template_child (widget_class, AppCountersView, failures_plot);
  gtk_widget_class_set_css_name (widget_class, "countersview");
}

static void
app_counters_view_init (AppCountersView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->marks = g_array_new (FALSE, FALSE, sizeof (Totals));
  reset (self);
  gtk_drawing_area_set_draw_func (self->registrations_plot, draw_registrations_cb, self, NULL);
  gtk_drawing_area_set_draw_func (self->bindings_plot, draw_bindings_cb, self, NULL);
  gtk_drawing_area_set_draw_func (self->failures_plot, draw_failures_cb, self, NULL);
  app_counters_view_update (self);
}

GtkWidget *
app_counters_view_new (void)
{
  return g_object_new (APP_TYPE_COUNTERS_VIEW, NULL);
}
