/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "app-digest-view.h"
#include "sim-i18n.h"

#include <string.h>

#include "sim-digest.h"
#include "sim-message.h"
#include "sim-export.h"

#include "app-packet.h"

/*
 * Nonces and the digest, worked out.  The upper half lists every nonce the registrar handed
 * out and what became of it (SIM_EVENT_NONCE: issued, accepted, stale, rejected, with the
 * registrar's sentence).  The lower half takes one REGISTER with an Authorization header (or
 * a request with the Proxy-Authorization that answers the proxy's 407, RFC 3261 §22.3: the same
 * digest over its own method and Request-URI) and
 * recomputes, with the registrar's copy of the password, what the response should be
 * (RFC 3261 §22.4, RFC 7616 §3.4.1), next to what the phone sent and what the registrar
 * decided.  Seeing the two hashes differ is the "wrong password" lesson; seeing them equal and
 * still rejected is the "replayed" one.  When the scene has a sniffer (or the trace an
 * offline attack by one), a paragraph above says why the nonce that stops the replay does not
 * stop the guessing (RFC 7616 §5.7).
 */

/* Why the one-time nonce is no defence against a sniffer's offline guessing. */
static const char *const SNIFFER_NOTE =
  N_("<b>The nonce stops a replay, not a guess</b>\n"
  "The registrar accepts each nonce once, so a captured Authorization sent again is refused. "
  "But a sniffer that holds a 401 and the Authorization that answered it has everything the "
  "response hashes except the password: realm, nonce, cnonce, nc, qop, method and URI. It "
  "computes the response for each word of a list and compares, at home and as fast as MD5 "
  "runs, sending nothing: no nonce is used up and no server limit ever sees a try. RFC 7616 "
  "§5.7 calls this a dictionary attack. Only a password in no list, or TLS, which hides the "
  "challenge and the answer from the sniffer (RFC 3261 §26.2), stops it.");

/* A classroom session rarely needs more; older rows scroll away. */
#define MAX_NONCE_ROWS 200

/*
 * A nonce's row.  While the pane is hidden behind another one, a row is only its latest event
 * (row == NULL, or stale): building a row of labels per nonce issued cost the frames of a busy
 * session (fifty phones refreshing) for a pane nobody looked at.  Shown, the pane builds and
 * updates what it put off (app_digest_view_map()).
 */
typedef struct {
  GtkWidget *row;
  GtkLabel *state;
  GtkLabel *reason;
  SimEvent *event;          /* the latest event about this nonce */
  gboolean stale;           /* the labels do not show event yet */
} NonceRow;

struct _AppDigestView {
  GtkWidget parent_instance;

  GtkLabel *summary;
  GtkListBox *nonce_list;
  GtkLabel *computation;
  GtkLabel *sniffer_note;   /* shown once the scene has a sniffer or a crack result */

  SimWorld *world;
  GHashTable *rows;        /* nonce -> NonceRow* */
  GQueue row_order;        /* NonceRow*, oldest first */
  guint n_issued, n_accepted, n_stale, n_rejected, n_challenged;

  SimEvent *request;       /* the REGISTER shown */
  gboolean rows_stale;     /* events came while hidden: rows or the summary wait for map */
  gboolean computation_stale; /* the computation waits for map (or a getter) */
  char *expected;
  char *verdict;
};

G_DEFINE_FINAL_TYPE (AppDigestView, app_digest_view, GTK_TYPE_WIDGET)

static void
nonce_row_free (gpointer data)
{
  NonceRow *row = data;

  g_clear_pointer (&row->event, sim_event_unref);
  g_free (row);
}

static void
update_summary (AppDigestView *self)
{
  g_autofree char *markup = NULL;

  if (self->n_issued == 0 && self->n_rejected == 0)
    {
      gtk_label_set_markup (self->summary, _("<b>Nonces</b>: none issued yet"));
      return;
    }
  markup = g_markup_printf_escaped (_("<b>Nonces</b>: %u issued · %u accepted · %u stale · "
                                      "%u rejected"),
                                    self->n_issued, self->n_accepted, self->n_stale,
                                    self->n_rejected);
  gtk_label_set_markup (self->summary, markup);
}

static char *
short_nonce (const char *nonce)
{
  if (nonce == NULL)
    return g_strdup ("(none)");
  if (strlen (nonce) <= 14)
    return g_strdup (nonce);
  return g_strdup_printf ("%.12s…", nonce);
}

static void
set_row_state (NonceRow   *row,
               SimEvent   *event)
{
  static const char *classes[] = { "issued", "accepted", "stale", "rejected" };
  g_autofree char *text = NULL;
  g_autofree char *at = sim_export_time_string (event->t);

  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (row->state), classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (row->state), event->action);
  /* TRANSLATORS: a nonce's state in the digest pane: "accepted at 340.432s". */
  text = g_strdup_printf (_("%s at %s"), g_dpgettext2 (GETTEXT_PACKAGE, "trace action",
                                                       event->action), at);
  if (event->user != NULL)
    {
      char *with_user = g_strdup_printf (_("%s · user %s"), text, event->user);

      g_free (text);
      text = with_user;
    }
  gtk_label_set_text (row->state, text);
  {
    g_autofree char *reason = sim_i18n_reason (event->reason ? event->reason : "");

    gtk_label_set_text (row->reason, reason);
  }
}

/*
 * The whole nonce, asked for when the pointer rests on its shortened name.  Setting the
 * tooltip text on a new row made GTK query the pointer's position from the X server (a round
 * trip) for every nonce issued while playing.
 */
static gboolean
query_nonce_tooltip_cb (GtkWidget  *widget,
                        int         x,
                        int         y,
                        gboolean    keyboard_mode,
                        GtkTooltip *tooltip,
                        gpointer    user_data)
{
  const char *nonce = g_object_get_data (G_OBJECT (widget), "siplab-nonce");

  if (nonce == NULL || *nonce == '\0')
    return FALSE;
  gtk_tooltip_set_text (tooltip, nonce);
  return TRUE;
}

/* The labels of @row, put at the top of the list (the newest nonce first). */
static void
show_row (AppDigestView *self,
          NonceRow      *row)
{
  const char *nonce = row->event->nonce;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  g_autofree char *shortened = short_nonce (nonce);
  GtkWidget *name = gtk_label_new (shortened);

  g_object_set_data_full (G_OBJECT (name), "siplab-nonce", g_strdup (nonce), g_free);
  gtk_widget_set_has_tooltip (name, TRUE);
  g_signal_connect (name, "query-tooltip", G_CALLBACK (query_nonce_tooltip_cb), NULL);
  gtk_widget_add_css_class (name, "nonce");
  row->state = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (row->state), "nonce-state");
  gtk_label_set_xalign (row->state, 0);
  gtk_label_set_wrap (row->state, TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (row->state), TRUE);
  row->reason = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->reason, 0);
  gtk_label_set_wrap (row->reason, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (row->reason), "dim");
  gtk_box_append (GTK_BOX (top), name);
  gtk_box_append (GTK_BOX (top), GTK_WIDGET (row->state));
  gtk_box_append (GTK_BOX (box), top);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->reason));
  gtk_widget_set_margin_start (box, 8);
  gtk_widget_set_margin_end (box, 8);
  gtk_widget_set_margin_top (box, 3);
  gtk_widget_set_margin_bottom (box, 3);

  gtk_list_box_prepend (self->nonce_list, box);
  row->row = gtk_widget_get_parent (box);
  row->stale = TRUE;
}

static NonceRow *
add_row (AppDigestView *self,
         const char    *nonce)
{
  NonceRow *row = g_new0 (NonceRow, 1);

  g_hash_table_replace (self->rows, g_strdup (nonce ? nonce : ""), row);
  g_queue_push_tail (&self->row_order, row);

  if (self->row_order.length > MAX_NONCE_ROWS)
    {
      NonceRow *oldest = g_queue_pop_head (&self->row_order);
      GHashTableIter iter;
      gpointer value;

      if (oldest->row != NULL)
        gtk_list_box_remove (self->nonce_list, oldest->row);
      g_hash_table_iter_init (&iter, self->rows);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (value == oldest)
          {
            g_hash_table_iter_remove (&iter);
            break;
          }
    }
  return row;
}

static void refresh_computation (AppDigestView *self);

/* Builds and updates the rows put off while the pane was hidden, oldest first. */
static void
catch_up_rows (AppDigestView *self)
{
  if (!self->rows_stale)
    return;
  self->rows_stale = FALSE;
  for (GList *l = self->row_order.head; l != NULL; l = l->next)
    {
      NonceRow *row = l->data;

      if (row->row == NULL)
        show_row (self, row);
      if (row->stale)
        {
          set_row_state (row, row->event);
          row->stale = FALSE;
        }
    }
  update_summary (self);
}

/* A nonce event counted in the summary by its action. */
static void
count_nonce_event (AppDigestView *self,
                   SimEvent      *event)
{
  if (g_strcmp0 (event->action, "issued") == 0)
    self->n_issued++;
  else if (g_strcmp0 (event->action, "accepted") == 0)
    self->n_accepted++;
  else if (g_strcmp0 (event->action, "stale") == 0)
    self->n_stale++;
  else
    self->n_rejected++;
}

static void
trace_event_cb (AppDigestView *self,
                SimEvent      *event,
                SimTrace      *trace)
{
  NonceRow *row;

  if (event->type == SIM_EVENT_CAPTURE)
    gtk_widget_set_visible (GTK_WIDGET (self->sniffer_note), TRUE);
  if (event->type != SIM_EVENT_NONCE)
    return;

  if (g_strcmp0 (event->action, "no-credentials") == 0)
    {
      self->n_challenged++;
      return;
    }
  count_nonce_event (self, event);

  row = g_hash_table_lookup (self->rows, event->nonce ? event->nonce : "");
  if (row == NULL)
    row = add_row (self, event->nonce);
  g_clear_pointer (&row->event, sim_event_unref);
  row->event = sim_event_ref (event);
  row->stale = TRUE;
  /* The verdict on the REGISTER shown may just have come in. */
  if (self->request != NULL && self->verdict == NULL)
    self->computation_stale = TRUE;
  /* Hidden behind another pane: the labels wait until it is shown. */
  self->rows_stale = TRUE;
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  catch_up_rows (self);
  if (self->computation_stale)
    refresh_computation (self);
}

/* The registrar's nonce event that answered @request: the first one about @nonce after it. */
static SimEvent *
find_verdict (AppDigestView *self,
              SimEvent      *request,
              const char    *nonce)
{
  SimTrace *trace = sim_world_get_trace (self->world);
  GPtrArray *events = sim_trace_get_events (trace);

  for (guint i = sim_trace_position_of (trace, request->index + 1); i < events->len; i++)
    {
      SimEvent *e = events->pdata[i];

      if (e->type == SIM_EVENT_NONCE && g_strcmp0 (e->action, "issued") != 0 &&
          g_strcmp0 (e->nonce, nonce) == 0)
        return e;
    }
  return NULL;
}

static void
append_step (GString    *out,
             const char *label,
             const char *formula,
             const char *value)
{
  g_autofree char *text = g_markup_printf_escaped ("<b>%s</b> = %s\n      = <tt><b>%s</b></tt>\n",
                                                   label, formula, value);
  g_string_append (out, text);
}

static void describe (AppDigestView        *self,
                      SimDigestCredentials *creds);

static void
refresh_computation (AppDigestView *self)
{
  SimDigestCredentials creds = { NULL, };

  self->computation_stale = FALSE;
  describe (self, &creds);
  sim_digest_credentials_clear (&creds);
}

static char *
color_hex (AppDigestView *self,
           const char    *name,
           const char    *fallback)
{
  GdkRGBA rgba;

  app_lookup_color (GTK_WIDGET (self), name, fallback, &rgba);
  return g_strdup_printf ("#%02x%02x%02x", (int) (rgba.red * 255 + 0.5),
                          (int) (rgba.green * 255 + 0.5), (int) (rgba.blue * 255 + 0.5));
}

/*
 * The digest the registrar or proxy computes from the password on file (RFC 7616 §3.4: HA1,
 * HA2, the response), step by step, and whether the phone sent the same.  Sets
 * self->expected.
 */
static void
append_computation (AppDigestView        *self,
                    GString              *out,
                    SimEvent             *request,
                    SimDigestCredentials *creds,
                    SimRegistrar         *registrar)
{
  const char *alg = sim_digest_algorithm_name (creds->algorithm);
  const char *password = sim_registrar_get_password (registrar, creds->username);
  g_autofree char *ha1 = NULL, *ha2 = NULL, *response = NULL;
  g_autofree char *f1 = NULL, *f2 = NULL, *f3 = NULL;

  {
    g_autofree char *who = g_markup_printf_escaped (
      _("user <b>%s</b> · realm <b>%s</b> · %s · password on file: <b>%s</b>\n\n"),
      creds->username, creds->realm, alg, password ? password : _("(no such user)"));
    g_string_append (out, who);
  }

  ha1 = sim_digest_ha1 (creds->algorithm, creds->username, creds->realm, password ? password : "");
  f1 = g_strdup_printf ("%s(%s:%s:%s)", alg, creds->username, creds->realm,
                        password ? password : "");
  append_step (out, "HA1", f1, ha1);

  ha2 = sim_digest_ha2 (creds->algorithm, request->method, creds->uri);
  f2 = g_strdup_printf ("%s(%s:%s)", alg, request->method, creds->uri);
  append_step (out, "HA2", f2, ha2);

  response = sim_digest_response (creds->algorithm, ha1, creds->nonce, creds->nc, creds->cnonce,
                                  creds->qop, ha2);
  if (creds->qop != NULL)
    f3 = g_strdup_printf ("%s(HA1:%s:%s:%s:%s:HA2)", alg, creds->nonce, creds->nc ? creds->nc : "",
                          creds->cnonce ? creds->cnonce : "", creds->qop);
  else
    f3 = g_strdup_printf ("%s(HA1:%s:HA2)", alg, creds->nonce);
  append_step (out, _("expected response"), f3, response);
  self->expected = g_strdup (response);

  {
    gboolean same = sim_digest_equal (response, creds->response);
    g_autofree char *colour = same ? color_hex (self, "packet_ok", "#26a269")
                                   : color_hex (self, "packet_dropped", "#e01b24");
    g_autofree char *sent = g_markup_printf_escaped (
      _("<b>the phone sent</b> = <tt><b>%s</b></tt>\n<span foreground='%s'><b>%s</b></span>"),
      creds->response, colour,
      same ? _("✔ Matches the password on file: whoever computed it had the password "
               "(or copied the result).")
           : _("✘ Does not match the password on file: a wrong password, or someone else."));
    g_string_append (out, sent);
  }
}

/* The registrar's or proxy's verdict on @nonce, inserted at @at (it goes first: it is what the
 * steps below explain).  Sets self->verdict. */
static void
insert_verdict (AppDigestView *self,
                GString       *out,
                gsize          at,
                SimEvent      *request,
                const char    *nonce,
                gboolean       proxy)
{
  SimEvent *verdict = find_verdict (self, request, nonce);

  if (verdict == NULL)
    g_string_insert (out, at, proxy ? _("<b>Proxy</b>: not checked yet (still on its way, "
                                        "or lost).\n\n")
                                    : _("<b>Registrar</b>: not checked yet (still on its way, "
                                        "or lost).\n\n"));
  else
    {
      gboolean accepted = g_strcmp0 (verdict->action, "accepted") == 0;
      g_autofree char *colour = accepted ? color_hex (self, "packet_ok", "#26a269")
                                         : color_hex (self, "packet_dropped", "#e01b24");
      g_autofree char *reason = sim_i18n_reason (verdict->reason ? verdict->reason : "");
      g_autofree char *text = g_markup_printf_escaped (
        "<span foreground='%s'><b>%s: %s</b></span> — %s\n\n", colour,
        proxy ? _("Proxy (407 check)") : _("Registrar"),
        g_dpgettext2 (GETTEXT_PACKAGE, "trace action", verdict->action), reason);

      self->verdict = g_strdup (verdict->action);
      g_string_insert (out, at, text);
    }
}

static void
describe (AppDigestView        *self,
          SimDigestCredentials *creds)
{
  SimEvent *request = self->request;
  g_autofree char *authorization = NULL;
  SimRegistrar *registrar;
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean known = TRUE;
  gboolean parsed;
  gsize head_len;
  gboolean proxy;
  const char *header_name;

  g_clear_pointer (&self->expected, g_free);
  g_clear_pointer (&self->verdict, g_free);
  if (request == NULL || self->world == NULL)
    return;

  {
    g_autofree char *at = sim_export_time_string (request->t);
    g_autofree char *head = g_markup_printf_escaped (
      _("<b>%s</b> from <b>%s</b> at %s (CSeq %s)\n"),
      request->method, request->from ? request->from : "?", at,
      request->cseq ? request->cseq : "?");
    g_string_append (out, head);
  }
  head_len = out->len;

  /* A REGISTER answers the registrar's 401 with Authorization; any other request answers the
   * proxy's 407 with Proxy-Authorization (RFC 3261 §22.3): same digest, another header. */
  proxy = g_strcmp0 (request->method, "REGISTER") != 0;
  header_name = proxy ? "Proxy-Authorization" : "Authorization";
  authorization = sim_raw_header_value (request->raw, header_name);
  registrar = sim_world_get_registrar (self->world);
  if (authorization == NULL)
    {
      g_string_append (out, proxy
                       ? _("No Proxy-Authorization header: the caller has no nonce from the "
                           "proxy yet.  Its From claims a user of this domain, so the proxy "
                           "answers 407 Proxy Authentication Required with a Proxy-Authenticate "
                           "challenge, and routes the request only once it comes back with the "
                           "user's digest (RFC 3261 §22.3).")
                       : _("No Authorization header: the phone has no nonce yet, so the "
                           "registrar answers 401 with a challenge (RFC 3261 §22.1)."));
      gtk_label_set_markup (self->computation, out->str);
      return;
    }
  parsed = sim_digest_credentials_parse_full (authorization, creds, &known, NULL);
  if (!parsed || !known || registrar == NULL)
    {
      gboolean judged = parsed && known && creds->nonce != NULL && registrar == NULL;
      g_autofree char *text = g_markup_printf_escaped (
        judged ? _("A capture: the password is not on file in SIP Lab, so the steps cannot be "
                   "shown; the verdict is the capture reader's, the digest recomputed with the "
                   "users file (--users).  The %s header: %s")
               : _("The %s header cannot be checked here: %s"), header_name, authorization);

      g_string_append (out, text);
      /* A capture's (or a watch's) verdicts are in the trace, like the simulator's. */
      if (judged)
        insert_verdict (self, out, head_len, request, creds->nonce, proxy);
      gtk_label_set_markup (self->computation, out->str);
      return;
    }

  append_computation (self, out, request, creds, registrar);
  insert_verdict (self, out, head_len, request, creds->nonce, proxy);
  gtk_label_set_markup (self->computation, out->str);
}

static SimEvent *
find_request (AppDigestView *self,
              SimEvent      *event)
{
  GPtrArray *events;

  if (event->status == 0)
    return event;
  /* A response: the REGISTER it answers went out before it with the same Call-ID and CSeq. */
  events = sim_trace_get_events (sim_world_get_trace (self->world));
  for (guint i = sim_trace_position_of (sim_world_get_trace (self->world), event->index); i > 0; i--)
    {
      SimEvent *e = events->pdata[i - 1];

      if (e->type == SIM_EVENT_PACKET && e->status == 0 && e->raw != NULL &&
          g_strcmp0 (e->call_id, event->call_id) == 0 && g_strcmp0 (e->cseq, event->cseq) == 0 &&
          (g_strcmp0 (e->action, "sent") == 0 || g_strcmp0 (e->action, "retransmitted") == 0))
        return e;
    }
  return NULL;
}

void
app_digest_view_set_packet (AppDigestView *self,
                            SimEvent      *event)
{
  SimEvent *request;

  g_return_if_fail (APP_IS_DIGEST_VIEW (self));

  if (event == NULL || self->world == NULL || event->method == NULL || event->raw == NULL)
    return;
  request = find_request (self, event);
  if (request == NULL || request == self->request)
    return;
  /* Besides REGISTERs: a 407 and the request it challenged, or a request that answers one. */
  if (g_strcmp0 (event->method, "REGISTER") != 0 && event->status != 407)
    {
      g_autofree char *credentials = sim_raw_header_value (request->raw, "Proxy-Authorization");

      if (credentials == NULL)
        return;
    }
  g_clear_pointer (&self->request, sim_event_unref);
  self->request = sim_event_ref (request);
  /* Hidden: worked out when shown, or when asked for its result. */
  self->computation_stale = TRUE;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    refresh_computation (self);
}

static void
reset (AppDigestView *self)
{
  g_hash_table_remove_all (self->rows);
  g_queue_clear (&self->row_order);
  {
    GtkWidget *child;

    /* gtk_list_box_remove_all() is GTK 4.12. */
    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->nonce_list))) != NULL)
      gtk_list_box_remove (self->nonce_list, child);
  }
  self->n_issued = self->n_accepted = self->n_stale = self->n_rejected = self->n_challenged = 0;
  g_clear_pointer (&self->request, sim_event_unref);
  g_clear_pointer (&self->expected, g_free);
  g_clear_pointer (&self->verdict, g_free);
  self->rows_stale = self->computation_stale = FALSE;
  gtk_widget_set_visible (GTK_WIDGET (self->sniffer_note), FALSE);
  gtk_label_set_markup (self->computation,
                        _("Select a REGISTER that carries an Authorization header, a request "
                          "with the Proxy-Authorization that answers a 407, or the reply to "
                          "either, to see its digest worked out step by step."));
  update_summary (self);
}

/* A nonce row to be: the nonce and the last event about it. */
typedef struct {
  const char *nonce;   /* the key: "" for none */
  SimEvent *first;     /* the event the row is made for */
  SimEvent *last;
} PendingRow;

/*
 * The trace's events counted and listed as trace_event_cb() would, one by one, leave them,
 * but with a row kept only for each of the rows that stay (the last MAX_NONCE_ROWS): a
 * new world (a seek, issue 17) holds thousands of nonce events, and building and dropping a
 * row for each cost a third of a second.
 */
static void
load_events (AppDigestView *self,
             GPtrArray     *events)
{
  g_autoptr(GHashTable) pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  GQueue order = G_QUEUE_INIT;

  for (guint i = 0; i < events->len; i++)
    {
      SimEvent *event = events->pdata[i];
      const char *nonce = event->nonce ? event->nonce : "";
      PendingRow *row;

      if (event->type != SIM_EVENT_NONCE || g_strcmp0 (event->action, "no-credentials") == 0)
        {
          if (event->type == SIM_EVENT_CAPTURE || event->type == SIM_EVENT_NONCE)
            trace_event_cb (self, event, NULL);
          continue;
        }
      count_nonce_event (self, event);
      if ((row = g_hash_table_lookup (pending, nonce)) == NULL)
        {
          row = g_new0 (PendingRow, 1);
          row->nonce = nonce;
          row->first = event;
          g_hash_table_insert (pending, (gpointer) nonce, row);
          g_queue_push_tail (&order, row);
          if (order.length > MAX_NONCE_ROWS)
            g_hash_table_remove (pending, ((PendingRow *) g_queue_pop_head (&order))->nonce);
        }
      row->last = event;
    }
  for (GList *l = order.head; l != NULL; l = l->next)
    {
      PendingRow *pending_row = l->data;
      NonceRow *row = add_row (self, pending_row->first->nonce);

      row->event = sim_event_ref (pending_row->last);
      row->stale = TRUE;
    }
  g_queue_clear (&order);
  /* The widgets are built when the pane is shown (catch_up_rows), as for events played. */
  self->rows_stale = TRUE;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    catch_up_rows (self);
  else
    update_summary (self);
}

void
app_digest_view_set_world (AppDigestView *self,
                           SimWorld      *world)
{
  g_return_if_fail (APP_IS_DIGEST_VIEW (self));

  if (self->world == world)
    return;
  if (self->world != NULL)
    g_signal_handlers_disconnect_by_data (sim_world_get_trace (self->world), self);
  reset (self);
  g_set_object (&self->world, world);
  if (world != NULL)
    {
      GPtrArray *events = sim_trace_get_events (sim_world_get_trace (world));
      g_autoptr(GPtrArray) sniffers = sim_net_list_sniffers (sim_world_get_net (world));

      /* A sniffer that has captured nothing yet is worth the paragraph already. */
      gtk_widget_set_visible (GTK_WIDGET (self->sniffer_note), sniffers->len > 0);
      load_events (self, events);
      g_signal_connect_object (sim_world_get_trace (world), "event",
                               G_CALLBACK (trace_event_cb), self, G_CONNECT_SWAPPED);
    }
}

guint
app_digest_view_get_n_nonces (AppDigestView *self,
                              const char    *state)
{
  g_return_val_if_fail (APP_IS_DIGEST_VIEW (self), 0);

  if (g_strcmp0 (state, "issued") == 0)
    return self->n_issued;
  if (g_strcmp0 (state, "accepted") == 0)
    return self->n_accepted;
  if (g_strcmp0 (state, "stale") == 0)
    return self->n_stale;
  if (g_strcmp0 (state, "rejected") == 0)
    return self->n_rejected;
  return 0;
}

const char *
app_digest_view_get_expected (AppDigestView *self)
{
  g_return_val_if_fail (APP_IS_DIGEST_VIEW (self), NULL);
  if (self->computation_stale)
    refresh_computation (self);
  return self->expected;
}

gboolean
app_digest_view_get_sniffer_note_shown (AppDigestView *self)
{
  g_return_val_if_fail (APP_IS_DIGEST_VIEW (self), FALSE);
  return gtk_widget_get_visible (GTK_WIDGET (self->sniffer_note));
}

/* The nonce rows whose labels exist: none are built while the pane is hidden. */
guint
app_digest_view_get_n_rows_built (AppDigestView *self)
{
  guint n = 0;

  g_return_val_if_fail (APP_IS_DIGEST_VIEW (self), 0);
  for (GList *l = self->row_order.head; l != NULL; l = l->next)
    n += ((NonceRow *) l->data)->row != NULL;
  return n;
}

const char *
app_digest_view_get_verdict (AppDigestView *self)
{
  g_return_val_if_fail (APP_IS_DIGEST_VIEW (self), NULL);
  if (self->computation_stale)
    refresh_computation (self);
  return self->verdict;
}

static void
app_digest_view_dispose (GObject *object)
{
  AppDigestView *self = APP_DIGEST_VIEW (object);
  GtkWidget *child;

  app_digest_view_set_world (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), APP_TYPE_DIGEST_VIEW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (app_digest_view_parent_class)->dispose (object);
}

static void
app_digest_view_finalize (GObject *object)
{
  AppDigestView *self = APP_DIGEST_VIEW (object);

  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_queue_clear (&self->row_order);
  g_clear_pointer (&self->request, sim_event_unref);
  g_clear_pointer (&self->expected, g_free);
  g_clear_pointer (&self->verdict, g_free);
  G_OBJECT_CLASS (app_digest_view_parent_class)->finalize (object);
}

/* Shown again: the rows and the computation catch up with what came while hidden. */
static void
app_digest_view_map (GtkWidget *widget)
{
  AppDigestView *self = APP_DIGEST_VIEW (widget);

  GTK_WIDGET_CLASS (app_digest_view_parent_class)->map (widget);
  catch_up_rows (self);
  if (self->computation_stale)
    refresh_computation (self);
}

static void
app_digest_view_class_init (AppDigestViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = app_digest_view_dispose;
  object_class->finalize = app_digest_view_finalize;
  widget_class->map = app_digest_view_map;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/siplab/SipLab/app-digest-view.ui");
  gtk_widget_class_bind_template_child (widget_class, AppDigestView, summary);
  gtk_widget_class_bind_template_child (widget_class, AppDigestView, nonce_list);
  gtk_widget_class_bind_template_child (widget_class, AppDigestView, computation);
  gtk_widget_class_bind_template_child (widget_class, AppDigestView, sniffer_note);
  gtk_widget_class_set_css_name (widget_class, "digestview");
}

static void
app_digest_view_init (AppDigestView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_label_set_markup (self->sniffer_note, _(SNIFFER_NOTE));
  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, nonce_row_free);
  g_queue_init (&self->row_order);
}

GtkWidget *
app_digest_view_new (void)
{
  return g_object_new (APP_TYPE_DIGEST_VIEW, NULL);
}
