/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-registrar.h"
#include "sim-message-private.h"

#include <stdlib.h>
#include <string.h>

/*
 * The registrar: RFC 3261 §10.3 steps 1-8, in that order, with a policy.  Every step either
 * lets the request through or ends it with one outcome; the table below maps each outcome
 * to its status code and reason phrase, so every reply the registrar can send is in one place.
 *
 * A REGISTER is all-or-nothing (§10.3 step 7, last paragraph): the new binding set of the AOR
 * is computed first, every contact is checked, and only then is the set handed to the
 * location service in one sim_location_replace_full() call.  A rejected request changes
 * nothing.  Between the checks and that call the commit hook (sim_registrar_set_commit_func(),
 * real-socket mode's database) may still refuse the set; then too nothing changes and the
 * reply is 500.
 */

typedef enum {
  OUTCOME_OK,
  OUTCOME_QUERY,
  OUTCOME_BAD_REQUEST,
  OUTCOME_NOT_OUR_DOMAIN,
  OUTCOME_BAD_EXTENSION,
  OUTCOME_CHALLENGE,
  OUTCOME_BAD_AUTHORIZATION,
  OUTCOME_FORBIDDEN,
  OUTCOME_NOT_FOUND,
  OUTCOME_BAD_WILDCARD,
  OUTCOME_BAD_CONTACT,
  OUTCOME_BAD_EXPIRES,
  OUTCOME_INTERVAL_TOO_BRIEF,
  OUTCOME_STALE_CSEQ,
  OUTCOME_TOO_MANY_CONTACTS,
  OUTCOME_COMMIT_FAILED,
} Outcome;

static const struct {
  int status;
  const char *reason;
} outcomes[] = {
  [OUTCOME_OK]                 = { 200, "OK" },
  [OUTCOME_QUERY]              = { 200, "OK" },
  [OUTCOME_BAD_REQUEST]        = { 400, "Bad Request" },
  /* §10.3 step 1: not responsible for the domain and not a proxy, so we refuse. */
  [OUTCOME_NOT_OUR_DOMAIN]     = { 403, "Not Our Domain" },
  [OUTCOME_BAD_EXTENSION]      = { 420, "Bad Extension" },
  [OUTCOME_CHALLENGE]          = { 401, "Unauthorized" },
  [OUTCOME_BAD_AUTHORIZATION]  = { 400, "Bad Authorization" },
  [OUTCOME_FORBIDDEN]          = { 403, "Forbidden" },
  [OUTCOME_NOT_FOUND]          = { 404, "Not Found" },
  [OUTCOME_BAD_WILDCARD]       = { 400, "Invalid Contact *" },
  [OUTCOME_BAD_CONTACT]        = { 400, "Invalid Contact" },
  [OUTCOME_BAD_EXPIRES]        = { 400, "Invalid Expires" },
  [OUTCOME_INTERVAL_TOO_BRIEF] = { 423, "Interval Too Brief" },
  /*
   * §10.3 steps 6 and 7 only say "the update MUST be aborted and the request fails".  We
   * answer 400, as Kamailio's registrar does (R_INV_CSEQ): the request is at fault, and a
   * 500 would tell the client the server broke and invite a retry of the same stale request.
   */
  [OUTCOME_STALE_CSEQ]         = { 400, "Invalid CSeq" },
  /* Not in RFC 3261: a policy limit, answered as Kamailio does with 503. */
  [OUTCOME_TOO_MANY_CONTACTS]  = { 503, "Too Many Registered Contacts" },
  /*
   * The commit hook (the database) refused the new binding set.  RFC 3261 §21.5.1: the server
   * "encountered an unexpected condition"; the request itself was fine and may be retried.
   */
  [OUTCOME_COMMIT_FAILED]      = { 500, "Server Internal Error" },
};

/* A parsed challenge whose text is @before, a nonce, then @after. */
typedef struct {
  char *before;
  char *after;
  osip_www_authenticate_t *parsed;
  /* How a message writes @parsed: @written_before, the quoted nonce, @written_after (NULL
   * when its nonce is not found there exactly once). */
  char *written_before;
  char *written_after;
} ChallengeTemplate;

/* Enough for every algorithm sim_auth offers, fresh and stale. */
#define CHALLENGE_TEMPLATES 8

struct _SimRegistrar {
  GObject parent_instance;
  SimStack *stack;
  SimLocation *location;
  SimAuth *auth;
  SimRegistrarPolicy policy;
  GHashTable *users;          /* username -> password */
  gint64 date_epoch;
  gboolean has_date;         /* date_text holds the date of date_second */
  gint64 date_second;        /* the second date_text spells */
  char date_text[32];
  SimRegistrarCommitFunc commit_func;
  gpointer commit_data;
  SimRegistrarAuthFunc auth_func;
  gpointer auth_data;
  /* Parsed WWW-Authenticate values that differ from the next challenge in the nonce only
   * (add_challenge()): a slot is used round-robin, one per algorithm and stale flag. */
  ChallengeTemplate challenge_templates[CHALLENGE_TEMPLATES];
  guint next_challenge_template;
  /* The header lines of a written response (respond_written()), kept between requests; NULL
   * while one is being written. */
  GString *extra;
};

G_DEFINE_FINAL_TYPE (SimRegistrar, sim_registrar, G_TYPE_OBJECT)

/* What one REGISTER carries through the steps, and what its reply needs. */
typedef struct {
  SimRegistrar *self;
  SimServerTxn *txn;
  osip_message_t *request;
  SimTime now;
  char *aor;
  char *call_id;
  guint32 cseq;
  gint64 expires;             /* the Expires header: sim_message_expires(), read once */
  char *explain;              /* why it was rejected, a sentence for students */
  char *contact;              /* the offending Contact, when there is one */
  GPtrArray *challenges;      /* WWW-Authenticate values for a 401 */
  char *unsupported;          /* option tags for a 420 */
} Request;

static void
request_clear (Request *req)
{
  g_free (req->aor);
  g_free (req->call_id);
  g_free (req->explain);
  g_free (req->contact);
  g_clear_pointer (&req->challenges, g_ptr_array_unref);
  g_free (req->unsupported);
}

static SimTrace *get_trace (SimRegistrar *self);

static Outcome
reject (Request    *req,
        Outcome     outcome,
        const char *contact,
        const char *format,
        ...) G_GNUC_PRINTF (4, 5);

static Outcome
reject (Request    *req,
        Outcome     outcome,
        const char *contact,
        const char *format,
        ...)
{
  va_list args;

  g_clear_pointer (&req->explain, g_free);
  /* The sentence is read only by trace_rejected(): a 401 is never traced as a rejection,
   * and with the trace off nobody reads it, so it is not written. */
  if (outcome != OUTCOME_CHALLENGE && get_trace (req->self) != NULL)
    {
      va_start (args, format);
      req->explain = g_strdup_vprintf (format, args);
      va_end (args);
    }
  g_free (req->contact);
  req->contact = g_strdup (contact);
  return outcome;
}

/* ---------------------------------------------------------------------------------------- */
/* Small parsers                                                                             */

/* RFC 3261 §25.1 delta-seconds: digits only; values past 2^32-1 count as 2^32-1 (§20.19). */
static gboolean
parse_delta_seconds (const char *text,
                     guint32    *seconds)
{
  g_autofree char *value = NULL;
  guint64 n;

  if (text == NULL)
    return FALSE;
  value = g_strstrip (g_strdup (text));
  if (*value == '\0' || strspn (value, "0123456789") != strlen (value))
    return FALSE;
  if (strlen (value) > 10 || !g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, &n, NULL))
    n = G_MAXUINT32;
  *seconds = (guint32) MIN (n, G_MAXUINT32);
  return TRUE;
}

/* RFC 3261 §20.10 qvalue: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]. */
static gboolean
parse_qvalue (const char *text,
              double     *q)
{
  gsize len;

  if (text == NULL)
    return FALSE;
  len = strlen (text);
  if (len == 0 || (text[0] != '0' && text[0] != '1'))
    return FALSE;
  if (len > 1)
    {
      if (text[1] != '.' || len > 5 || strspn (text + 2, "0123456789") != len - 2)
        return FALSE;
      if (text[0] == '1' && strspn (text + 2, "0") != len - 2)
        return FALSE;
    }
  *q = g_ascii_strtod (text, NULL);
  return TRUE;
}

static char *
unquote (const char *value)
{
  gsize len;

  if (value == NULL)
    return NULL;
  len = strlen (value);
  if (len >= 2 && value[0] == '"' && value[len - 1] == '"')
    return g_strndup (value + 1, len - 2);
  return g_strdup (value);
}

/* g_ascii_tolower() without the call. */
static inline char
ascii_lower (char c)
{
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/*
 * RFC 3261 §19.1.4: scheme and host compare case-insensitively, the rest as written.  We key
 * bindings on libosip2's serialisation with scheme and host lower-cased; parameter order and
 * escaping still count, which is stricter than the RFC but never merges two different URIs.
 * @text is sim_uri_to_string (@uri) (or NULL), lower-cased in place and returned.
 */
static char *
canonical_uri (const osip_uri_t *uri,
               char             *text)
{
  char *p;

  if (text == NULL)
    return NULL;
  /* Lower-case the serialisation in place rather than a clone of the URI: the scheme is what
   * precedes the first ':'; libosip2 writes the host verbatim (bracketed when IPv6) after the
   * userinfo's '@', and escapes any '@' inside the userinfo. */
  for (p = text; *p != '\0' && *p != ':'; p++)
    *p = ascii_lower (*p);
  if (uri->host != NULL && *p == ':')
    {
      gsize host_len = strlen (uri->host);

      p++;
      if (uri->username != NULL && (p = strchr (p, '@')) != NULL)
        p++;
      if (p != NULL && *p == '[')
        p++;
      if (p != NULL && strncmp (p, uri->host, host_len) != 0)
        p = NULL;   /* not laid out as expected: keep the host as written, never guess */
      for (gsize i = 0; p != NULL && i < host_len; i++)
        p[i] = ascii_lower (p[i]);
    }
  return text;
}

/* g_string_append() and g_string_append_c() for the hot path: a copy when the text fits, which
 * it does in the strings sized for it below; GLib's own calls go through g_string_insert_len(). */
static inline void
put_str (GString    *out,
         const char *text)
{
  gsize n = strlen (text);

  if (out->len + n >= out->allocated_len)
    {
      g_string_append_len (out, text, (gssize) n);
      return;
    }
  memcpy (out->str + out->len, text, n + 1);
  out->len += n;
}

static inline void
put_c (GString *out,
       char     c)
{
  if (out->len + 1 >= out->allocated_len)
    {
      g_string_append_c (out, c);
      return;
    }
  out->str[out->len++] = c;
  out->str[out->len] = '\0';
}

/* Copies @text (without its NUL) to @p; returns the end of the copy. */
static inline char *
put_text (char       *p,
          const char *text)
{
  gsize n = strlen (text);

  memcpy (p, text, n);
  return p + n;
}

/*
 * osip_contact_to_str (@contact), for a binding's display text, from @uri_text, which is
 * sim_uri_to_string (@contact->url) (the same text as osip_uri_to_str): libosip2 writes
 * [display-name " "] "<" URI ">" and then ";name[=value]" per parameter, as they came.
 * Anything out of the ordinary is left to libosip2 itself.
 */
static char *
contact_display (const osip_contact_t *contact,
                 const char           *uri_text)
{
  int n = osip_list_size (&contact->gen_params);
  char *dest = NULL;
  char *text = NULL;
  char *p;
  gsize len;

  if (contact->url == NULL || uri_text == NULL ||
      (contact->displayname != NULL && contact->displayname[0] == '*'))
    goto fallback;
  for (int i = 0; i < n; i++)
    if (((osip_generic_param_t *) osip_list_get (&contact->gen_params, i))->gname == NULL)
      goto fallback;

  /* Measured first, so that the text is one allocation of its exact size. */
  len = (contact->displayname != NULL ? strlen (contact->displayname) + 1 : 0) + 1 +
        strlen (uri_text) + 1;
  for (int i = 0; i < n; i++)
    {
      const osip_generic_param_t *param = osip_list_get (&contact->gen_params, i);

      len += 1 + strlen (param->gname) + (param->gvalue != NULL ? 1 + strlen (param->gvalue) : 0);
    }
  text = p = g_malloc (len + 1);
  if (contact->displayname != NULL)
    {
      p = put_text (p, contact->displayname);
      *p++ = ' ';
    }
  *p++ = '<';
  p = put_text (p, uri_text);
  *p++ = '>';
  for (int i = 0; i < n; i++)
    {
      const osip_generic_param_t *param = osip_list_get (&contact->gen_params, i);

      *p++ = ';';
      p = put_text (p, param->gname);
      if (param->gvalue != NULL)
        {
          *p++ = '=';
          p = put_text (p, param->gvalue);
        }
    }
  *p = '\0';
  g_assert ((gsize) (p - text) == len);
  return text;

fallback:
  if (osip_contact_to_str ((osip_contact_t *) contact, &dest) == 0)
    text = g_strdup (dest);
  osip_free (dest);
  return text;
}

static gboolean
host_is (const char *host,
         const char *name)
{
  /* g_ascii_strcasecmp (host, name) == 0, inlined: three of these per REGISTER. */
  if (host == NULL || name == NULL)
    return FALSE;
  for (; *host != '\0'; host++, name++)
    if (*host != *name && ascii_lower (*host) != ascii_lower (*name))
      return FALSE;
  return *name == '\0';
}

/* ---------------------------------------------------------------------------------------- */
/* Tracing                                                                                   */

static SimTrace *
get_trace (SimRegistrar *self)
{
  SimTrace *trace = sim_stack_get_trace (self->stack);
  return trace != NULL && sim_trace_is_enabled (trace) ? trace : NULL;
}

static void
trace_rejected (Request *req,
                Outcome  outcome)
{
  SimTrace *trace = get_trace (req->self);
  SimEvent *event;

  if (trace == NULL)
    return;
  event = sim_event_new (SIM_EVENT_BINDING, "rejected");
  event->t = req->now;
  event->node = g_strdup (sim_stack_get_node_name (req->self->stack));
  event->aor = g_strdup (req->aor);
  event->contact = g_strdup (req->contact);
  event->call_id = g_strdup (req->call_id);
  event->cseq = g_strdup_printf ("%u REGISTER", req->cseq);
  event->src = *sim_server_txn_get_source (req->txn);
  event->reason = g_strdup (req->explain);
  event->text = g_strdup_printf ("%d %s", outcomes[outcome].status, outcomes[outcome].reason);
  sim_trace_emit (trace, event);
}

/* ---------------------------------------------------------------------------------------- */
/* Steps 1-5: who may change which AOR                                                       */

gboolean
sim_registrar_is_our_host (SimRegistrar *self,
                           const char   *host,
                           guint16       port)
{
  g_return_val_if_fail (SIM_IS_REGISTRAR (self), FALSE);

  /* Many phones address the registrar by its IP; that is us as well, at every listener. */
  if (host_is (host, self->policy.domain) || sim_stack_is_local (self->stack, host, port))
    return TRUE;
  /*
   * RFC 1034 §3.1: "lab.example." is the fully qualified spelling of "lab.example", the same
   * host.  Otherwise a From of "teacher@lab.example." would pass as a stranger's and skip the
   * 407 (RFC 3261 §22.3).  One trailing dot only: "lab.example.." names no host.
   */
  if (host != NULL && self->policy.domain != NULL)
    {
      gsize n = strlen (host);
      gsize d = strlen (self->policy.domain);

      if (self->policy.domain[d > 0 ? d - 1 : 0] == '.' && d > 1)
        d--;
      if (n > 1 && host[n - 1] == '.')
        n--;
      return n == d && n > 0 && g_ascii_strncasecmp (host, self->policy.domain, n) == 0;
    }
  return FALSE;
}

/* Whether @request has a header (of those libosip2 keeps by name) called @lname, any case:
 * what osip_message_header_get_byname (@request, @lname, 0, ...) >= 0 says. */
static gboolean
has_header_named (osip_message_t *request,
                  const char     *lname)
{
  osip_list_iterator_t it;
  gsize n = strlen (lname);

  for (osip_header_t *header = osip_list_get_first (&request->headers, &it); header != NULL;
       header = osip_list_get_next (&it))
    if (header->hname != NULL && ascii_lower (header->hname[0]) == lname[0] &&
        g_ascii_strncasecmp (header->hname, lname, n + 1) == 0)
      return TRUE;
  return FALSE;
}

/* RFC 3261 §8.2.2.3: every option tag in Require must be one we support, and we support none. */
static char *
unsupported_extensions (osip_message_t *request)
{
  g_autoptr(GString) tags = NULL;
  osip_header_t *header = NULL;

  /* The string is made only for a Require header: almost no REGISTER has one, so a quick
   * look for its name comes before libosip2's lookup. */
  if (!has_header_named (request, "require"))
    return NULL;
  for (int pos = 0; (pos = osip_message_header_get_byname (request, "require", pos, &header)) >= 0;
       pos++)
    {
      g_auto(GStrv) values = g_strsplit (header->hvalue != NULL ? header->hvalue : "", ",", -1);

      for (guint i = 0; values[i] != NULL; i++)
        {
          g_strstrip (values[i]);
          if (*values[i] == '\0')
            continue;
          if (tags == NULL)
            tags = g_string_new (NULL);
          else
            g_string_append (tags, ", ");
          g_string_append (tags, values[i]);
        }
    }
  return tags != NULL ? g_string_free (g_steal_pointer (&tags), FALSE) : NULL;
}

static const char *
lookup_password_cb (const char *username,
                    gpointer    user_data)
{
  return sim_registrar_get_password (user_data, username);
}

/*
 * The parameters libosip2 parsed from @credentials, in libosip2's order (that of
 * osip_authorization_to_str), values with their quotes as they came: SimAuth reads them as it
 * would read that text (sim_auth_verify_params()).
 */
static void
credentials_params (const osip_authorization_t *credentials,
                    SimDigestParam              params[16])
{
  const SimDigestParam fields[16] = {
    { "username", credentials->username },
    { "realm", credentials->realm },
    { "nonce", credentials->nonce },
    { "uri", credentials->uri },
    { "response", credentials->response },
    { "digest", credentials->digest },
    { "algorithm", credentials->algorithm },
    { "cnonce", credentials->cnonce },
    { "opaque", credentials->opaque },
    { "qop", credentials->message_qop },
    { "nc", credentials->nonce_count },
    { "version", credentials->version },
    { "targetname", credentials->targetname },
    { "gssapi-data", credentials->gssapi_data },
    { "crand", credentials->crand },
    { "cnum", credentials->cnum },
  };

  memcpy (params, fields, sizeof fields);
}

/* The Authorization for our realm, else the first one, or NULL. */
static osip_authorization_t *
authorization_chosen (SimRegistrar   *self,
                      osip_message_t *request)
{
  osip_authorization_t *chosen = NULL;

  for (int pos = 0; !osip_list_eol (&request->authorizations, pos); pos++)
    {
      osip_authorization_t *auth = osip_list_get (&request->authorizations, pos);
      g_autofree char *realm = unquote (auth->realm);

      if (chosen == NULL)
        chosen = auth;
      if (g_strcmp0 (realm, sim_auth_get_realm (self->auth)) == 0)
        {
          chosen = auth;
          break;
        }
    }
  return chosen;
}

/* Step 3.  Returns the authenticated user in @username, or an outcome that ends the request. */
static gboolean
authenticate (Request  *req,
              char    **username,
              Outcome  *outcome)
{
  SimRegistrar *self = req->self;
  osip_authorization_t *authorization = authorization_chosen (self, req->request);
  SimDigestParam params[16] = { { NULL, NULL }, };
  g_autofree char *request_uri = sim_message_request_uri (req->request);
  g_autofree char *claimed = NULL;
  const SimAddr *source = sim_server_txn_get_source (req->txn);
  const char *client = source != NULL ? source->ip : NULL;
  SimAuthResult result;

  /* The nonce is bound to the address it was sent to (sim_auth_challenge_full()). */
  if (authorization != NULL)
    credentials_params (authorization, params);
  result = sim_auth_verify_params (self->auth, "REGISTER", request_uri,
                                   authorization != NULL ? authorization->auth_type : NULL,
                                   params, G_N_ELEMENTS (params), client,
                                   lookup_password_cb, self, &claimed);
  if (self->auth_func != NULL)
    self->auth_func (self, result, claimed, self->auth_data);
  switch (result)
    {
    case SIM_AUTH_OK:
      *username = g_steal_pointer (&claimed);
      return TRUE;

    case SIM_AUTH_MALFORMED:
    case SIM_AUTH_URI_MISMATCH:
      /* RFC 3261 §22.4 / RFC 7616 §3.4.6: a broken Authorization is a bad request, not a
       * reason to challenge again. */
      *outcome = reject (req, OUTCOME_BAD_AUTHORIZATION, NULL, "%s",
                         sim_auth_result_reason (result));
      return FALSE;

    case SIM_AUTH_NO_CREDENTIALS:
    case SIM_AUTH_WRONG_REALM:
    case SIM_AUTH_UNKNOWN_NONCE:
    case SIM_AUTH_STALE:
    case SIM_AUTH_REPLAYED:
    case SIM_AUTH_BAD_RESPONSE:
    case SIM_AUTH_ALGORITHM_NOT_OFFERED:
    default:
      /* RFC 3261 §22.1: challenge; stale=true lets the UA retry without asking its user
       * (RFC 7616 §3.3). */
      req->challenges = sim_auth_challenge_full (self->auth, result == SIM_AUTH_STALE, client,
                                                 FALSE);
      *outcome = reject (req, OUTCOME_CHALLENGE, NULL, "%s", sim_auth_result_reason (result));
      return FALSE;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Steps 6-7: the new binding set                                                            */

/*
 * The binding set being built: entries borrowed from the location or owned by @owned.  The
 * owned ones borrow their aor, contact, call_id and user_agent from the request (and its
 * Contact keys), which outlive the plan; the location and the store copy what they keep.
 */
typedef struct {
  GPtrArray *set;             /* SimBinding*, the AOR's bindings after this request */
  GPtrArray *owned;           /* SimBinding*, new or updated ones (freed with the plan) */
  GHashTable *reasons;        /* contact -> sentence for the trace; NULL when not tracing */
  guint n_added;              /* bindings of Contacts the AOR did not have */
  SimBinding *first_added;
  char **texts;               /* each Contact's URI text, then each one's key (canonical_uri) */
  guint n_texts;
} Plan;

/* A binding of @owned: only its display and instance are its own. */
static void
plan_binding_free (gpointer data)
{
  SimBinding *binding = data;

  g_free (binding->display);
  g_free (binding->instance);
  g_free (binding);
}

static void
plan_clear (Plan *plan)
{
  g_clear_pointer (&plan->set, g_ptr_array_unref);
  g_clear_pointer (&plan->owned, g_ptr_array_unref);
  g_clear_pointer (&plan->reasons, g_hash_table_unref);
  for (guint i = 0; i < plan->n_texts; i++)
    g_free (plan->texts[i]);
  g_clear_pointer (&plan->texts, g_free);
  plan->n_texts = 0;
}

static gboolean
plan_owns (Plan             *plan,
           const SimBinding *binding)
{
  for (guint i = 0; i < plan->owned->len; i++)
    if (plan->owned->pdata[i] == binding)
      return TRUE;
  return FALSE;
}

/* The binding of @contact in the plan and its place (*@pos), or NULL. */
static SimBinding *
plan_find (Plan       *plan,
           const char *contact,
           guint      *pos)
{
  for (guint i = 0; i < plan->set->len; i++)
    {
      SimBinding *binding = plan->set->pdata[i];

      if (strcmp (binding->contact, contact) == 0)
        {
          *pos = i;
          return binding;
        }
    }
  return NULL;
}

static void
plan_reason (Plan       *plan,
             const char *contact,
             const char *format,
             ...) G_GNUC_PRINTF (3, 4);

/* Only the location's trace reads the sentences: with it off they are not written. */
static void
plan_reason (Plan       *plan,
             const char *contact,
             const char *format,
             ...)
{
  va_list args;

  if (plan->reasons == NULL)
    return;
  va_start (args, format);
  g_hash_table_replace (plan->reasons, g_strdup (contact), g_strdup_vprintf (format, args));
  va_end (args);
}

/* RFC 3261 §10.3 step 7: the requested interval, per contact. */
static gboolean
requested_expires (Request         *req,
                   osip_contact_t  *contact,
                   const char      *key,
                   guint32         *requested,
                   Outcome         *outcome)
{
  SimRegistrar *self = req->self;
  osip_generic_param_t *param = NULL;
  gint64 header;

  /* The contact's own expires parameter wins... */
  if (osip_contact_param_get_byname (contact, (char *) "expires", &param) == 0 && param != NULL)
    {
      if (!parse_delta_seconds (param->gvalue, requested))
        {
          *outcome = reject (req, OUTCOME_BAD_EXPIRES, key,
                             "the Contact's expires=%s is not a number of seconds "
                             "(RFC 3261 §20.10)", param->gvalue ? param->gvalue : "");
          return FALSE;
        }
      return TRUE;
    }
  /* ...then the Expires header, then the registrar's default. */
  header = req->expires;
  if (header >= 0)
    *requested = (guint32) header;
  else
    *requested = self->policy.default_expires;
  return TRUE;
}

/* Adds "(asked for ...)" when the registrar changed the requested interval. */
static const char *
adjustment (guint32  requested,
            guint32  granted,
            char    *buf,
            gsize    size)
{
  if (granted < requested)
    g_snprintf (buf, size, " (asked for %u s; the policy grants at most %u s)", requested, granted);
  else if (granted > requested)
    g_snprintf (buf, size, " (asked for %u s; raised to the policy minimum)", requested);
  else
    buf[0] = '\0';
  return buf;
}

/* @uri_text is sim_uri_to_string (@contact->url), @key its canonical_uri(); both NULL if none. */
static Outcome
plan_contact (Request        *req,
              Plan           *plan,
              osip_contact_t *contact,
              const char     *uri_text,
              const char     *key,
              gboolean        superseded)
{
  SimRegistrar *self = req->self;
  const SimRegistrarPolicy *policy = &self->policy;
  g_autofree char *display = NULL;
  g_autofree char *instance = NULL;
  osip_generic_param_t *param = NULL;
  SimBinding *existing = NULL;
  SimBinding *binding;
  guint32 requested = 0, granted;
  double q = SIM_BINDING_NO_Q;
  char note[128];
  guint pos = 0;
  Outcome outcome;

  if (contact->url == NULL || key == NULL)
    return reject (req, OUTCOME_BAD_CONTACT, NULL, "a Contact has no usable URI");
  if (!requested_expires (req, contact, key, &requested, &outcome))
    return outcome;

  if (osip_contact_param_get_byname (contact, (char *) "q", &param) == 0 && param != NULL &&
      !parse_qvalue (param->gvalue, &q))
    return reject (req, OUTCOME_BAD_CONTACT, key,
                   "q=%s is not a qvalue between 0 and 1 (RFC 3261 §20.10)",
                   param->gvalue ? param->gvalue : "");
  param = NULL;
  if (osip_contact_param_get_byname (contact, (char *) "+sip.instance", &param) == 0 &&
      param != NULL)
    instance = unquote (param->gvalue);

  /*
   * RFC 3261 §10.3 step 7: a registrar may shorten the interval, and may refuse one that is
   * positive, under an hour and under its minimum with 423 and Min-Expires.  Raising it to the
   * minimum instead is not in the RFC, but many real registrars do it (policy raise_to_min).
   */
  granted = requested;
  if (requested > 0 && requested < 3600 && requested < policy->min_expires)
    {
      if (!policy->raise_to_min)
        return reject (req, OUTCOME_INTERVAL_TOO_BRIEF, key,
                       "%u s is shorter than this registrar's minimum of %u s: the phone must "
                       "retry with at least Min-Expires (RFC 3261 §10.3 step 7, §10.2.8)",
                       requested, policy->min_expires);
      granted = policy->min_expires;
    }
  granted = MIN (granted, policy->max_expires);

  /* The same URI again later in this request: that later Contact is the one that counts. */
  if (superseded)
    return OUTCOME_OK;

  existing = plan_find (plan, key, &pos);

  /* RFC 3261 §10.3 step 7: the same Call-ID needs a higher CSeq, or the request fails. */
  if (existing != NULL && g_strcmp0 (existing->call_id, req->call_id) == 0 &&
      req->cseq <= existing->cseq)
    return reject (req, OUTCOME_STALE_CSEQ, key,
                   "CSeq %u is not higher than %u for the same Call-ID: a stale or replayed "
                   "REGISTER (RFC 3261 §10.3 step 7)", req->cseq, existing->cseq);

  if (requested == 0)
    {
      /* RFC 3261 §10.2.2: expires 0 removes the binding; there is nothing to remove if absent. */
      if (existing != NULL)
        {
          plan_reason (plan, key, "the REGISTER asked for expires 0, which removes "
                                  "this binding (RFC 3261 §10.2.2)");
          g_ptr_array_remove_index (plan->set, pos);
        }
      return OUTCOME_OK;
    }

  display = contact_display (contact, uri_text);

  binding = g_new0 (SimBinding, 1);
  binding->aor = req->aor;
  binding->contact = (char *) key;
  binding->display = g_steal_pointer (&display);
  binding->q = q;
  binding->expires_at = req->now + SIM_SEC (granted);
  binding->granted = granted;
  binding->call_id = req->call_id;
  binding->cseq = req->cseq;
  binding->source = *sim_server_txn_get_source (req->txn);
  binding->user_agent = (char *) sim_message_header (req->request, "user-agent");
  binding->instance = g_steal_pointer (&instance);
  binding->registered_at = existing != NULL ? existing->registered_at : req->now;
  binding->updated_at = req->now;
  g_ptr_array_add (plan->owned, binding);

  if (plan->reasons != NULL)
    adjustment (requested, granted, note, sizeof note);
  else
    note[0] = '\0';
  if (existing == NULL)
    {
      g_ptr_array_add (plan->set, binding);
      if (plan->n_added++ == 0)
        plan->first_added = binding;
      plan_reason (plan, key, "a new Contact for %s: %u s granted%s (RFC 3261 §10.3 step 7)",
                   req->aor, granted, note);
    }
  else
    {
      if (g_strcmp0 (existing->call_id, req->call_id) == 0)
        plan_reason (plan, key,
                     "a refresh: same Contact and Call-ID, CSeq %u > %u; "
                     "%u s granted%s (RFC 3261 §10.3 step 7)",
                     req->cseq, existing->cseq, granted, note);
      else
        plan_reason (plan, key,
                     "the same Contact with a new Call-ID (a restarted phone, "
                     "or another one): the binding is replaced, %u s "
                     "granted%s (RFC 3261 §10.3 step 7)", granted, note);
      plan->set->pdata[pos] = binding;
    }
  return OUTCOME_OK;
}

/* The AOR may hold at most max_contacts bindings once this request's new ones are in. */
static Outcome
plan_limit (Request *req,
            Plan    *plan)
{
  const SimRegistrarPolicy *policy = &req->self->policy;
  guint max = policy->max_contacts;

  if (plan->n_added == 0 || max == 0 || plan->set->len <= max)
    return OUTCOME_OK;

  if (policy->replace_oldest)
    while (plan->set->len > max)
      {
        SimBinding *oldest = NULL;
        guint oldest_pos = 0;

        /* Only bindings this request did not touch give way, the earliest registered first. */
        for (guint i = 0; i < plan->set->len; i++)
          {
            SimBinding *binding = plan->set->pdata[i];
            if (plan_owns (plan, binding))
              continue;
            if (oldest == NULL || binding->registered_at < oldest->registered_at)
              {
                oldest = binding;
                oldest_pos = i;
              }
          }
        if (oldest == NULL)
          break;
        plan_reason (plan, oldest->contact,
                     "evicted: %s already had %u bindings, the policy's "
                     "maximum, so the oldest one makes room for the new "
                     "Contact (policy replace_oldest)", req->aor, max);
        g_ptr_array_remove_index (plan->set, oldest_pos);
      }

  if (plan->set->len <= max)
    return OUTCOME_OK;
  return reject (req, OUTCOME_TOO_MANY_CONTACTS, plan->first_added->contact,
                 "%s would have %u bindings, more than the %u this registrar allows per AOR "
                 "(policy max_contacts)", req->aor, plan->set->len, max);
}

/*
 * Each Contact's URI written once: as it is for the display text, canonical for the key.
 * Returns the texts, then the keys, in one block kept with @plan (its bindings borrow the keys).
 */
static char **
plan_write_uris (Plan           *plan,
                 osip_message_t *request,
                 int             n_contacts)
{
  char **uri_texts, **keys;

  plan->n_texts = 2 * (guint) n_contacts;
  plan->texts = g_new0 (char *, plan->n_texts);
  uri_texts = plan->texts;
  keys = plan->texts + n_contacts;
  for (int i = 0; i < n_contacts; i++)
    {
      osip_contact_t *contact = osip_list_get (&request->contacts, i);

      uri_texts[i] = contact->url != NULL ? sim_uri_to_string (contact->url) : NULL;
      keys[i] = canonical_uri (contact->url, g_strdup (uri_texts[i]));
    }
  return uri_texts;
}

static Outcome
process_contacts (Request *req)
{
  SimRegistrar *self = req->self;
  osip_message_t *request = req->request;
  int n_contacts = osip_list_size (&request->contacts);
  gint64 expires = req->expires = sim_message_expires (request);
  g_autofree char *why = NULL;
  GPtrArray *current;
  gboolean wildcard = FALSE;
  Plan plan = { NULL, };
  Outcome outcome = OUTCOME_OK;

  if (expires == SIM_MESSAGE_EXPIRES_INVALID)
    return reject (req, OUTCOME_BAD_EXPIRES, NULL,
                   "Expires: %s is not a number of seconds (RFC 3261 §20.19)",
                   sim_message_header (request, "expires"));

  /* Step 8 without step 7: a REGISTER without Contact only asks for the bindings (§10.2.3). */
  if (n_contacts <= 0)
    return OUTCOME_QUERY;

  for (int i = 0; i < n_contacts; i++)
    {
      osip_contact_t *contact = osip_list_get (&request->contacts, i);
      if (contact->url == NULL && g_strcmp0 (contact->displayname, "*") == 0)
        wildcard = TRUE;
    }

  current = sim_location_lookup (self->location, req->aor);
  plan.set = g_ptr_array_new ();
  for (guint i = 0; current != NULL && i < current->len; i++)
    g_ptr_array_add (plan.set, current->pdata[i]);
  plan.owned = g_ptr_array_new_with_free_func (plan_binding_free);
  if (sim_location_is_tracing (self->location))
    plan.reasons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (wildcard)
    {
      /* RFC 3261 §10.3 step 6: "*" must stand alone, with Expires: 0. */
      if (n_contacts != 1 || expires != 0)
        {
          outcome = reject (req, OUTCOME_BAD_WILDCARD, "*",
                            "Contact: * removes every binding, so it must be the only Contact "
                            "and come with Expires: 0 (RFC 3261 §10.3 step 6)");
          goto out;
        }
      /* Each binding goes unless it has our Call-ID and a CSeq at least as high. */
      for (guint i = 0; i < plan.set->len; i++)
        {
          SimBinding *binding = plan.set->pdata[i];
          if (g_strcmp0 (binding->call_id, req->call_id) == 0 && req->cseq <= binding->cseq)
            {
              outcome = reject (req, OUTCOME_STALE_CSEQ, binding->contact,
                                "CSeq %u is not higher than %u for the same Call-ID: a stale or "
                                "replayed REGISTER (RFC 3261 §10.3 step 6)",
                                req->cseq, binding->cseq);
              goto out;
            }
        }
      g_ptr_array_set_size (plan.set, 0);
      why = g_strdup ("Contact: * with Expires: 0 removes every binding of the AOR "
                      "(RFC 3261 §10.2.2)");
    }
  else
    {
      char **uri_texts = plan_write_uris (&plan, request, n_contacts);
      char **keys = uri_texts + n_contacts;

      for (int i = 0; i < n_contacts && outcome == OUTCOME_OK; i++)
        {
          gboolean superseded = FALSE;

          for (int j = i + 1; j < n_contacts && !superseded && keys[i] != NULL; j++)
            superseded = g_strcmp0 (keys[i], keys[j]) == 0;
          outcome = plan_contact (req, &plan, osip_list_get (&request->contacts, i),
                                  uri_texts[i], keys[i], superseded);
        }
      if (outcome == OUTCOME_OK)
        outcome = plan_limit (req, &plan);
      if (outcome != OUTCOME_OK)
        goto out;
      if (plan.reasons != NULL)
        why = g_strdup_printf ("REGISTER CSeq %u (RFC 3261 §10.3 step 7)", req->cseq);
    }

  /* All contacts passed.  The hook may still refuse (a database write failed): then nothing
   * changes and the phone hears 500, never a 200 OK for bindings that were not kept. */
  if (self->commit_func != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!self->commit_func (self, req->aor, plan.set, self->commit_data, &error))
        {
          outcome = reject (req, OUTCOME_COMMIT_FAILED, NULL,
                            "the new bindings of %s could not be stored (%s), so the old ones "
                            "stay and the REGISTER fails as a whole (RFC 3261 §10.3 step 7)",
                            req->aor, error != NULL ? error->message : "no reason given");
          goto out;
        }
    }

  /* Commit the whole set at once. */
  sim_location_replace_full (self->location, req->aor, plan.set, why, plan.reasons);

out:
  plan_clear (&plan);
  return outcome;
}

/* ---------------------------------------------------------------------------------------- */

static Outcome
process (Request *req)
{
  SimRegistrar *self = req->self;
  osip_message_t *request = req->request;
  g_autofree char *username = NULL;
  osip_uri_t *to_uri;
  Outcome outcome;

  /* sim_message_call_id()'s "number@host", without printf: every REGISTER comes here. */
  if (request->call_id == NULL || request->call_id->number == NULL)
    req->call_id = NULL;
  else if (request->call_id->host != NULL)
    {
      gsize n = strlen (request->call_id->number), h = strlen (request->call_id->host);

      req->call_id = g_malloc (n + 1 + h + 1);
      memcpy (req->call_id, request->call_id->number, n);
      req->call_id[n] = '@';
      memcpy (req->call_id + n + 1, request->call_id->host, h + 1);
    }
  else
    req->call_id = g_strdup (request->call_id->number);
  req->cseq = sim_message_cseq_number (request);

  if (request->req_uri == NULL || request->to == NULL || request->to->url == NULL)
    return reject (req, OUTCOME_BAD_REQUEST, NULL, "the REGISTER has no usable Request-URI or To");
  to_uri = request->to->url;
  req->aor = sim_uri_to_aor (to_uri);

  /* Step 1: only domains we keep bindings for (we are no proxy to forward the rest). */
  /* Step 1 asks about the domain the host names: the port does not matter. */
  if (!sim_registrar_is_our_host (self, request->req_uri->host, 0))
    return reject (req, OUTCOME_NOT_OUR_DOMAIN, NULL,
                   "the Request-URI names %s, but this registrar keeps bindings only for %s "
                   "(RFC 3261 §10.3 step 1)",
                   request->req_uri->host ? request->req_uri->host : "no host",
                   self->policy.domain);

  /* Step 2: Require (RFC 3261 §8.2.2.3). */
  req->unsupported = unsupported_extensions (request);
  if (req->unsupported != NULL)
    return reject (req, OUTCOME_BAD_EXTENSION, NULL,
                   "the REGISTER requires %s, which this registrar does not support "
                   "(RFC 3261 §10.3 step 2, §8.2.2.3)", req->unsupported);

  /* Step 3: authenticate.  Unknown users are challenged exactly like known ones, so the
   * answers do not tell an outsider which accounts exist. */
  if (self->policy.require_auth && self->auth != NULL &&
      !authenticate (req, &username, &outcome))
    return outcome;

  /*
   * Steps 4 and 5.  The RFC checks authorization (403) before the AOR (404), but an AOR
   * whose user does not exist has no owner to be authorised by, so we answer 404 for it:
   * only an authenticated user (or anyone, with authentication off) ever learns that, and an
   * unknown user can never authenticate.  A known user's AOR may only be bound by that user:
   * third-party registration (§10.2) is not part of this lab.  Without authentication the
   * From header would be the only identity (step 3), and it proves nothing, so we do not
   * pretend to check it: that is what the "no security" lesson shows.
   */
  if (to_uri->username == NULL || !host_is (to_uri->host, self->policy.domain))
    return reject (req, OUTCOME_NOT_FOUND, NULL,
                   "the To header holds %s, which is not an address-of-record of %s "
                   "(RFC 3261 §10.3 step 5)", req->aor ? req->aor : "no AOR", self->policy.domain);
  if (sim_registrar_get_password (self, to_uri->username) == NULL)
    return reject (req, OUTCOME_NOT_FOUND, NULL,
                   "there is no user %s in %s (RFC 3261 §10.3 step 5)",
                   to_uri->username, self->policy.domain);
  if (username != NULL && strcmp (username, to_uri->username) != 0)
    return reject (req, OUTCOME_FORBIDDEN, NULL,
                   "%s authenticated, but may only change the bindings of their own AOR, "
                   "not %s (RFC 3261 §10.3 step 4)", username, req->aor);

  /* Steps 6 and 7. */
  return process_contacts (req);
}

/* Characters that may stand in a quoted parameter value without libosip2 reading more into them. */
/* A nonce as sim_auth writes it: base64url, nothing a parser would unquote or split at. */
static gboolean
plain_nonce (const char *nonce,
             gsize       len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (nonce[i]) && nonce[i] != '-' && nonce[i] != '_')
      return FALSE;
  return TRUE;
}

static void
challenge_template_clear (ChallengeTemplate *template)
{
  g_clear_pointer (&template->before, g_free);
  g_clear_pointer (&template->after, g_free);
  g_clear_pointer (&template->parsed, osip_www_authenticate_free);
  g_clear_pointer (&template->written_before, g_free);
  g_clear_pointer (&template->written_after, g_free);
}

/* Fills in @slot's written_before and written_after, when its nonce is written once. */
static void
challenge_template_write (ChallengeTemplate *slot)
{
  g_autoptr(GString) written = g_string_new (NULL);
  const char *nonce = slot->parsed->nonce;
  const char *at;

  if (!_sim_message_append_challenge (written, slot->parsed) ||
      (at = strstr (written->str, nonce)) == NULL || strstr (at + 1, nonce) != NULL)
    return;
  slot->written_before = g_strndup (written->str, at - written->str);
  slot->written_after = g_strdup (at + strlen (nonce));
}

/* Remembers @parsed (the parse of @text) as a template when its nonce occurs in @text exactly
 * once; takes @parsed either way. */
static void
challenge_template_learn (SimRegistrar            *self,
                          const char              *text,
                          osip_www_authenticate_t *parsed)
{
  ChallengeTemplate *slot;
  const char *nonce = parsed->nonce;
  const char *at;
  gsize len;

  if (nonce == NULL || nonce[0] != '"' || (len = strlen (nonce)) < 3 || nonce[len - 1] != '"' ||
      !plain_nonce (nonce + 1, len - 2) || (at = strstr (text, nonce)) == NULL ||
      strstr (at + 1, nonce) != NULL)
    {
      osip_www_authenticate_free (parsed);
      return;
    }
  slot = &self->challenge_templates[self->next_challenge_template++ % CHALLENGE_TEMPLATES];
  challenge_template_clear (slot);
  slot->before = g_strndup (text, at + 1 - text);
  slot->after = g_strdup (at + len - 1);
  slot->parsed = parsed;
  challenge_template_write (slot);
}

/* The template add_challenge() would copy for @text, and where @text's nonce is. */
static ChallengeTemplate *
challenge_template_find (SimRegistrar *self,
                         const char   *text,
                         gsize         text_len,
                         gsize        *nonce_at,
                         gsize        *nonce_len)
{
  for (guint i = 0; i < CHALLENGE_TEMPLATES; i++)
    {
      ChallengeTemplate *t = &self->challenge_templates[i];
      gsize before_len, after_len;

      if (t->parsed == NULL)
        continue;
      before_len = strlen (t->before);
      after_len = strlen (t->after);
      if (text_len > before_len + after_len && memcmp (text, t->before, before_len) == 0 &&
          memcmp (text + text_len - after_len, t->after, after_len) == 0 &&
          plain_nonce (text + before_len, text_len - before_len - after_len))
        {
          *nonce_at = before_len;
          *nonce_len = text_len - before_len - after_len;
          return t;
        }
    }
  return NULL;
}

/*
 * The WWW-Authenticate line add_challenge (@self, response, @text) leads a message to write,
 * appended to @extra: the written template with the nonce swapped.  FALSE when no template
 * has a written form (the first challenge of a kind goes the long way, and teaches one).
 */
static gboolean
put_challenge_line (SimRegistrar *self,
                    GString      *extra,
                    const char   *text)
{
  gsize at, len;
  ChallengeTemplate *t = challenge_template_find (self, text, strlen (text), &at, &len);

  if (t == NULL || t->written_before == NULL)
    return FALSE;
  put_str (extra, "WWW-Authenticate: ");
  put_str (extra, t->written_before);
  put_c (extra, '"');
  g_string_append_len (extra, text + at, len);
  put_c (extra, '"');
  put_str (extra, t->written_after);
  put_str (extra, "\r\n");
  return TRUE;
}

/*
 * osip_message_set_www_authenticate (@response, @text) without parsing the challenge again
 * each time: the challenges of one registrar differ in the nonce only, so the parse of an
 * earlier one is copied with the nonce swapped.  A text that matches no template (another
 * realm, algorithm or stale flag, or a nonce a parser would read differently) is parsed, and
 * what osip makes of it is the template for the next.
 */
static void
add_challenge (SimRegistrar   *self,
               osip_message_t *response,
               const char     *text)
{
  gsize text_len = strlen (text);
  osip_www_authenticate_t *header = NULL;
  ChallengeTemplate *t;
  gsize before_len, nonce_len;
  int n;

  t = challenge_template_find (self, text, text_len, &before_len, &nonce_len);
  if (t != NULL && osip_www_authenticate_clone (t->parsed, &header) == 0)
    {
      gsize quoted_len = nonce_len + 2;

      /* osip keeps the quotes of a quoted value. */
      osip_free (header->nonce);
      header->nonce = osip_malloc (quoted_len + 1);
      osip_strncpy (header->nonce, text + before_len - 1, quoted_len);
      /* As osip_message_set_www_authenticate() marks it. */
      response->message_property = 2;
      osip_list_add (&response->www_authenticates, header, -1);
      return;
    }

  n = osip_list_size (&response->www_authenticates);
  osip_message_set_www_authenticate (response, text);
  if (osip_list_size (&response->www_authenticates) > n &&
      osip_www_authenticate_clone (osip_list_get (&response->www_authenticates, n), &header) == 0)
    challenge_template_learn (self, text, header);
}

/*
 * osip_contact_param_add (@contact, @name, @value) for a name and value with no space at
 * either end (its osip_clrspace has nothing to trim): the parameter itself, without the trim.
 */
static void
add_contact_param (osip_contact_t *contact,
                   char           *name,
                   char           *value)
{
  osip_generic_param_t *param = NULL;

  if (osip_generic_param_init (&param) != 0)
    g_error ("out of memory");
  param->gname = name;
  param->gvalue = value;
  osip_list_add (&contact->gen_params, param, -1);
}

/*
 * osip_message_set_header (@msg, @name, @value) for a name and a value with no space at either
 * end (its osip_clrncpy has nothing to trim), as sim-message-parse.c adds unknown headers.
 */
static void
add_header (osip_message_t *msg,
            const char     *name,
            const char     *value)
{
  osip_header_t *header = NULL;

  if (osip_header_init (&header) != 0)
    g_error ("out of memory");
  header->hname = osip_strdup (name);
  header->hvalue = osip_strdup (value);
  msg->message_property = 2;   /* as osip_message_set_header() marks it */
  osip_list_add (&msg->headers, header, -1);
}

static gboolean
plain_quoted_value (const char *text)
{
  for (; *text != '\0'; text++)
    if (*text <= ' ' || *text > '~' || *text == '"' || *text == '\\' || *text == ';' ||
        *text == ',')
      return FALSE;
  return TRUE;
}

/*
 * osip_message_set_contact (@response,
 *                           "<@uri>;expires=@expires[;q=@q][;+sip.instance=\"@instance\"]")
 * without writing that text and parsing it back: the same osip_uri_parse() of @uri (by the
 * parser's fast path for a plain URI, which builds the same structure) and the same parameters
 * osip_from_parse() would have made of it (RFC 3261 §10.3 step 8).  FALSE, adding nothing, for
 * anything that parse could read differently (it takes the first '>' as the end of the URI, and calls a URI
 * under 6 characters a syntax error); the caller then goes the long way.
 */
static gboolean
add_contact_direct (osip_message_t *response,
                    const char     *uri,
                    const char     *expires,
                    const char     *q,
                    const char     *instance)
{
  osip_contact_t *contact = NULL;
  osip_uri_t *url = NULL;

  if (strlen (uri) < 6 || strchr (uri, '>') != NULL ||
      (instance != NULL && !plain_quoted_value (instance)))
    return FALSE;
  if (osip_uri_init (&url) != 0)
    return FALSE;
  if (_sim_message_uri_parse (url, uri) != 0 || osip_contact_init (&contact) != 0)
    {
      osip_uri_free (url);
      return FALSE;
    }
  contact->url = url;
  add_contact_param (contact, osip_strdup ("expires"), osip_strdup (expires));
  if (q != NULL)
    add_contact_param (contact, osip_strdup ("q"), osip_strdup (q));
  if (instance != NULL)
    {
      gsize len = strlen (instance);
      char *quoted = osip_malloc (len + 3);

      quoted[0] = '"';
      memcpy (quoted + 1, instance, len);
      quoted[len + 1] = '"';
      quoted[len + 2] = '\0';
      add_contact_param (contact, osip_strdup ("+sip.instance"), quoted);
    }
  osip_list_add (&response->contacts, contact, -1);
  response->message_property = 2;   /* as osip_message_set_contact() marks it */
  return TRUE;
}

/*
 * The seconds @binding has left, written into @digits (as "%" G_GINT64_FORMAT would: every
 * 200 OK does this), and its q into @q when it has one; returns the seconds' text.
 */
static const char *
binding_fields (Request    *req,
                SimBinding *binding,
                char        digits[24],
                char        q[G_ASCII_DTOSTR_BUF_SIZE])
{
  SimTime left = binding->expires_at - req->now;
  char *d = digits + 24;
  gint64 seconds;
  gboolean negative;

  /* Round up: a binding still alive never shows expires=0, which would mean "removed". */
  seconds = (left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
  negative = seconds < 0;
  *--d = '\0';
  do
    {
      gint64 digit = seconds % 10;
      *--d = (char) ('0' + (negative ? -digit : digit));
      seconds /= 10;
    }
  while (seconds != 0);
  if (negative)
    *--d = '-';
  if (binding->q != SIM_BINDING_NO_Q)
    g_ascii_formatd (q, G_ASCII_DTOSTR_BUF_SIZE, "%.3g", binding->q);
  return d;
}

static void
add_binding_contacts (Request        *req,
                      osip_message_t *response)
{
  GPtrArray *bindings = sim_location_lookup (req->self->location, req->aor);

  /* Step 8: every current binding, each with the seconds it has left. */
  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    {
      SimBinding *binding = bindings->pdata[i];
      g_autoptr(GString) value = NULL;
      char digits[24], q[G_ASCII_DTOSTR_BUF_SIZE];
      const char *d = binding_fields (req, binding, digits, q);

      if (add_contact_direct (response, binding->contact, d,
                              binding->q != SIM_BINDING_NO_Q ? q : NULL, binding->instance))
        continue;

      value = g_string_sized_new (strlen (binding->contact) + 32);
      put_c (value, '<');
      put_str (value, binding->contact);
      put_str (value, ">;expires=");
      put_str (value, d);
      if (binding->q != SIM_BINDING_NO_Q)
        {
          put_str (value, ";q=");
          put_str (value, q);
        }
      if (binding->instance != NULL)
        {
          put_str (value, ";+sip.instance=\"");
          put_str (value, binding->instance);
          put_c (value, '"');
        }
      osip_message_set_contact (response, value->str);
    }
}

/* A character libosip2 neither unescapes, escapes nor splits at in a URI's user or parameter. */
static inline gboolean
plain_uri_char (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("-_.!~*'()", c) != NULL);
}

/*
 * Whether @uri is "sip:user@host[:port][;param[=value]]..." (or without the user) with nothing
 * libosip2 would unescape, escape, split or rewrite: its parse, written back, is @uri itself,
 * so the 200's Contact needs no parse (tests/test-registrar-written.c compares the two).
 */
static gboolean
plain_sip_uri (const char *uri)
{
  const char *p, *host;

  if (strncmp (uri, "sip:", 4) != 0)
    return FALSE;
  host = strchr (uri + 4, '@');
  if (host != NULL)
    {
      if (host == uri + 4)
        return FALSE;
      for (p = uri + 4; p < host; p++)
        if (!plain_uri_char (*p))
          return FALSE;
      host++;
    }
  else
    host = uri + 4;
  for (p = host; g_ascii_isalnum (*p) || *p == '.' || *p == '-'; p++)
    ;
  if (p == host)
    return FALSE;
  if (*p == ':')
    {
      const char *digits = ++p;

      while (g_ascii_isdigit (*p))
        p++;
      if (p == digits || p - digits > 5)
        return FALSE;
    }
  /* ";name" or ";name=value" ("transport=udp", "lr"), but not eXosip's x-obr and x-obp,
   * which put_uri leaves out. */
  while (*p == ';')
    {
      const char *name = ++p;

      while (plain_uri_char (*p))
        p++;
      if (p == name || ((name[0] == 'x' || name[0] == 'X') && p - name == 5 &&
                        (g_ascii_strncasecmp (name, "x-obr", 5) == 0 ||
                         g_ascii_strncasecmp (name, "x-obp", 5) == 0)))
        return FALSE;
      if (*p == '=')
        {
          const char *value = ++p;

          while (plain_uri_char (*p))
            p++;
          if (p == value)
            return FALSE;
        }
    }
  return *p == '\0';
}

/*
 * The Contact lines add_binding_contacts() leads a message to write, appended to @extra: the
 * contact's URI as add_contact_direct() parses it, written back as a message writes it, and the
 * same parameters.  FALSE for a binding add_contact_direct() leaves to libosip2.
 */
static gboolean
put_contact_lines (Request *req,
                   GString *extra)
{
  GPtrArray *bindings = sim_location_lookup (req->self->location, req->aor);

  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    {
      SimBinding *binding = bindings->pdata[i];
      char digits[24], q[G_ASCII_DTOSTR_BUF_SIZE];
      const char *d = binding_fields (req, binding, digits, q);

      if (strlen (binding->contact) < 6 || strchr (binding->contact, '>') != NULL ||
          (binding->instance != NULL && !plain_quoted_value (binding->instance)))
        return FALSE;
      put_str (extra, "Contact: <");
      if (plain_sip_uri (binding->contact))
        put_str (extra, binding->contact);
      else
        {
          osip_uri_t *url = NULL;
          gboolean written;

          if (osip_uri_init (&url) != 0)
            return FALSE;
          written = _sim_message_uri_parse (url, binding->contact) == 0 &&
                    _sim_message_append_uri (extra, url);
          osip_uri_free (url);
          if (!written)
            return FALSE;
        }
      put_str (extra, ">;expires=");
      put_str (extra, d);
      if (binding->q != SIM_BINDING_NO_Q)
        {
          put_str (extra, ";q=");
          put_str (extra, q);
        }
      if (binding->instance != NULL)
        {
          put_str (extra, ";+sip.instance=\"");
          put_str (extra, binding->instance);
          put_c (extra, '"');
        }
      put_str (extra, "\r\n");
    }
  return TRUE;
}

/* A header value osip_message_set_header() keeps as it is (its osip_clrncpy trims nothing). */
static gboolean
plain_header_value (const char *value)
{
  gsize len = value != NULL ? strlen (value) : 0;

  return len > 0 && !g_ascii_isspace (value[0]) && !g_ascii_isspace (value[len - 1]) &&
         strpbrk (value, "\r\n") == NULL;
}

/*
 * The header lines sim_registrar_handle adds for @outcome, as the response would be written,
 * appended to @extra; FALSE for a response that must be built.
 */
static gboolean
put_outcome_lines (Request *req,
                   Outcome  outcome,
                   GString *extra)
{
  SimRegistrar *self = req->self;

  switch (outcome)
    {
    case OUTCOME_OK:
    case OUTCOME_QUERY:
      {
        g_autofree char *date = sim_registrar_format_date (self, req->now);

        if (!put_contact_lines (req, extra) || !plain_header_value (date))
          return FALSE;
        put_str (extra, "Date: ");
        put_str (extra, date);
        put_str (extra, "\r\n");
      }
      return TRUE;

    case OUTCOME_CHALLENGE:
      for (guint i = 0; req->challenges != NULL && i < req->challenges->len; i++)
        if (!put_challenge_line (self, extra, req->challenges->pdata[i]))
          return FALSE;
      return TRUE;

    case OUTCOME_INTERVAL_TOO_BRIEF:
      g_string_append_printf (extra, "Min-Expires: %u\r\n", self->policy.min_expires);
      return TRUE;

    case OUTCOME_BAD_EXTENSION:
      if (!plain_header_value (req->unsupported))
        return FALSE;
      put_str (extra, "Unsupported: ");
      put_str (extra, req->unsupported);
      put_str (extra, "\r\n");
      return TRUE;

    default:
      return TRUE;
    }
}

/*
 * Sends the response for @outcome as text, with no osip message built, cloned or freed (issue
 * 15; sim_server_txn_respond_text()): the same bytes as the built one.  FALSE, having sent
 * nothing, when the response must be built.
 */
static gboolean
respond_written (Request *req,
                 Outcome  outcome,
                 gboolean stateless)
{
  SimRegistrar *self = req->self;
  GString *extra = g_steal_pointer (&self->extra);
  gboolean sent = FALSE;

  /* A send function that re-enters the registrar finds self->extra taken and makes its own. */
  if (extra == NULL)
    extra = g_string_sized_new (512);
  g_string_truncate (extra, 0);
  if (put_outcome_lines (req, outcome, extra))
    {
      if (stateless)
        sent = sim_server_txn_respond_text_stateless (req->txn, outcomes[outcome].status,
                                                      outcomes[outcome].reason,
                                                      extra->str, extra->len);
      else
        sent = sim_server_txn_respond_text (req->txn, outcomes[outcome].status,
                                            outcomes[outcome].reason, extra->str, extra->len);
    }
  if (self->extra == NULL)
    self->extra = extra;
  else
    g_string_free (extra, TRUE);
  return sent;
}

void
sim_registrar_handle (SimRegistrar   *self,
                      SimServerTxn   *txn,
                      osip_message_t *request)
{
  Request req = { NULL, };
  osip_message_t *response;
  Outcome outcome;
  gboolean stateless;

  g_return_if_fail (SIM_IS_REGISTRAR (self));
  g_return_if_fail (txn != NULL);
  g_return_if_fail (request != NULL && request->sip_method != NULL);

  g_object_ref (self);
  req.self = self;
  req.txn = txn;
  req.request = request;
  req.now = sim_clock_now (sim_stack_get_clock (self->stack));

  if (strcmp (request->sip_method, "REGISTER") != 0)
    {
      /* A registrar "accepts only REGISTER requests" (RFC 3261 §10.3). */
      response = sim_message_new_response (request, 405, NULL, sim_server_txn_get_to_tag (txn));
      osip_message_set_header (response, "Allow", "REGISTER");
      sim_server_txn_respond (txn, response);
      g_object_unref (self);
      return;
    }

  outcome = process (&req);
  /* A 401 is the normal first half of a registration, not a rejection worth a trace line. */
  if (outcome != OUTCOME_OK && outcome != OUTCOME_QUERY && outcome != OUTCOME_CHALLENGE)
    trace_rejected (&req, outcome);

  /*
   * RFC 3261 §8.2.7: a UAS may answer statelessly, and the 401 costs nothing to make again (a
   * retransmitted REGISTER simply gets a fresh challenge).  Keeping it for 32 s with its
   * request would let anyone fill memory with unauthenticated REGISTERs.  Every refusal of our
   * own (400, 403, 404, 420, 423, ...) is the same: the request changed nothing, so its
   * retransmission gets the same answer again.  Only a 2xx (bindings changed or listed) and a
   * 500 for a failed commit are kept, so that a retransmission repeats the answer instead of
   * trying the change once more.
   */
  stateless = outcomes[outcome].status >= 300 && outcome != OUTCOME_COMMIT_FAILED;
  if (respond_written (&req, outcome, stateless))
    {
      request_clear (&req);
      g_object_unref (self);
      return;
    }

  /* The response is written and released by the stack before @request is freed: it may share
   * the request's headers rather than copy them. */
  response = sim_message_new_response_sharing (request, outcomes[outcome].status,
                                               outcomes[outcome].reason,
                                               sim_server_txn_get_to_tag (txn));
  switch (outcome)
    {
    case OUTCOME_OK:
    case OUTCOME_QUERY:
      {
        g_autofree char *date = sim_registrar_format_date (self, req.now);
        add_binding_contacts (&req, response);
        /* RFC 3261 §10.3 step 8: "The response SHOULD include a Date header field." */
        add_header (response, "Date", date);
      }
      break;

    case OUTCOME_CHALLENGE:
      for (guint i = 0; req.challenges != NULL && i < req.challenges->len; i++)
        add_challenge (self, response, req.challenges->pdata[i]);
      break;

    case OUTCOME_INTERVAL_TOO_BRIEF:
      {
        char value[16];
        g_snprintf (value, sizeof value, "%u", self->policy.min_expires);
        osip_message_set_header (response, "Min-Expires", value);
      }
      break;

    case OUTCOME_BAD_EXTENSION:
      osip_message_set_header (response, "Unsupported", req.unsupported);
      break;

    case OUTCOME_BAD_REQUEST:
    case OUTCOME_NOT_OUR_DOMAIN:
    case OUTCOME_BAD_AUTHORIZATION:
    case OUTCOME_FORBIDDEN:
    case OUTCOME_NOT_FOUND:
    case OUTCOME_BAD_WILDCARD:
    case OUTCOME_BAD_CONTACT:
    case OUTCOME_BAD_EXPIRES:
    case OUTCOME_STALE_CSEQ:
    case OUTCOME_TOO_MANY_CONTACTS:
    case OUTCOME_COMMIT_FAILED:
    default:
      break;
    }

  if (stateless)
    sim_server_txn_respond_stateless (txn, response);
  else
    sim_server_txn_respond (txn, response);
  request_clear (&req);
  g_object_unref (self);
}

/* ---------------------------------------------------------------------------------------- */

static void
sim_registrar_finalize (GObject *object)
{
  SimRegistrar *self = SIM_REGISTRAR (object);

  for (guint i = 0; i < CHALLENGE_TEMPLATES; i++)
    challenge_template_clear (&self->challenge_templates[i]);
  if (self->extra != NULL)
    g_string_free (g_steal_pointer (&self->extra), TRUE);
  g_clear_pointer (&self->users, g_hash_table_unref);
  g_clear_pointer (&self->policy.domain, g_free);
  g_clear_object (&self->auth);
  g_clear_object (&self->location);
  g_clear_object (&self->stack);
  G_OBJECT_CLASS (sim_registrar_parent_class)->finalize (object);
}

static void
sim_registrar_class_init (SimRegistrarClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sim_registrar_finalize;
}

static void
sim_registrar_init (SimRegistrar *self)
{
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->date_epoch = SIM_REGISTRAR_DEFAULT_DATE_EPOCH;
  self->policy.min_expires = 60;
  self->policy.default_expires = 3600;
  self->policy.max_expires = 7200;
  self->policy.raise_to_min = FALSE;
  self->policy.max_contacts = 10;
  self->policy.replace_oldest = FALSE;
  self->policy.require_auth = TRUE;
  self->policy.proxy_auth = TRUE;
}

/**
 * sim_registrar_new:
 * @auth: (nullable): without it the registrar cannot authenticate and require_auth is ignored
 */
SimRegistrar *
sim_registrar_new (SimStack    *stack,
                   SimLocation *location,
                   SimAuth     *auth,
                   const char  *domain)
{
  SimRegistrar *self;

  g_return_val_if_fail (SIM_IS_STACK (stack), NULL);
  g_return_val_if_fail (SIM_IS_LOCATION (location), NULL);
  g_return_val_if_fail (auth == NULL || SIM_IS_AUTH (auth), NULL);
  g_return_val_if_fail (domain != NULL && *domain != '\0', NULL);

  self = g_object_new (SIM_TYPE_REGISTRAR, NULL);
  self->stack = g_object_ref (stack);
  self->location = g_object_ref (location);
  self->auth = auth != NULL ? g_object_ref (auth) : NULL;
  self->policy.domain = g_ascii_strdown (domain, -1);
  return self;
}

const SimRegistrarPolicy *
sim_registrar_get_policy (SimRegistrar *self)
{
  g_return_val_if_fail (SIM_IS_REGISTRAR (self), NULL);
  return &self->policy;
}

void
sim_registrar_set_policy (SimRegistrar             *self,
                          const SimRegistrarPolicy *policy)
{
  char *domain;

  g_return_if_fail (SIM_IS_REGISTRAR (self));
  g_return_if_fail (policy != NULL);
  g_return_if_fail (policy->min_expires <= policy->max_expires);

  /* A NULL domain keeps the current one, so callers can edit a copy of the numbers only. */
  domain = policy->domain != NULL ? g_ascii_strdown (policy->domain, -1)
                                  : g_steal_pointer (&self->policy.domain);
  g_free (self->policy.domain);
  self->policy = *policy;
  self->policy.domain = domain;
}

void
sim_registrar_set_user (SimRegistrar *self,
                        const char   *username,
                        const char   *password)
{
  g_return_if_fail (SIM_IS_REGISTRAR (self));
  g_return_if_fail (username != NULL && *username != '\0');
  g_return_if_fail (password != NULL);

  g_hash_table_replace (self->users, g_strdup (username), g_strdup (password));
}

void
sim_registrar_remove_user (SimRegistrar *self,
                           const char   *username)
{
  g_return_if_fail (SIM_IS_REGISTRAR (self));
  g_return_if_fail (username != NULL);

  g_hash_table_remove (self->users, username);
}

const char *
sim_registrar_get_password (SimRegistrar *self,
                            const char   *username)
{
  g_return_val_if_fail (SIM_IS_REGISTRAR (self), NULL);

  if (username == NULL)
    return NULL;
  return g_hash_table_lookup (self->users, username);
}

void
sim_registrar_set_commit_func (SimRegistrar           *self,
                               SimRegistrarCommitFunc  func,
                               gpointer                user_data)
{
  g_return_if_fail (SIM_IS_REGISTRAR (self));
  self->commit_func = func;
  self->commit_data = user_data;
}

void
sim_registrar_set_auth_func (SimRegistrar         *self,
                             SimRegistrarAuthFunc  func,
                             gpointer              user_data)
{
  g_return_if_fail (SIM_IS_REGISTRAR (self));
  self->auth_func = func;
  self->auth_data = user_data;
}

SimLocation *
sim_registrar_get_location (SimRegistrar *self)
{
  g_return_val_if_fail (SIM_IS_REGISTRAR (self), NULL);
  return self->location;
}

SimAuth *
sim_registrar_get_auth (SimRegistrar *self)
{
  g_return_val_if_fail (SIM_IS_REGISTRAR (self), NULL);
  return self->auth;
}

void
sim_registrar_set_date_epoch (SimRegistrar *self,
                              gint64        unix_seconds)
{
  g_return_if_fail (SIM_IS_REGISTRAR (self));
  self->date_epoch = unix_seconds;
  self->has_date = FALSE;
}

gint64
sim_registrar_get_date_epoch (SimRegistrar *self)
{
  g_return_val_if_fail (SIM_IS_REGISTRAR (self), 0);
  return self->date_epoch;
}

char *
sim_registrar_format_date (SimRegistrar *self,
                           SimTime       t)
{
  /* RFC 3261 §20.17: rfc1123-date, always GMT, with English names whatever the locale. */
  static const char *days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  gint64 second;
  g_autoptr(GDateTime) date = NULL;

  g_return_val_if_fail (SIM_IS_REGISTRAR (self), NULL);

  /* Every 200 OK carries a Date: under load most fall in the same second as the last one. */
  second = self->date_epoch + t / G_USEC_PER_SEC;
  if (self->has_date && second == self->date_second)
    return g_strdup (self->date_text);
  date = g_date_time_new_from_unix_utc (second);
  if (date == NULL)
    date = g_date_time_new_from_unix_utc (SIM_REGISTRAR_DEFAULT_DATE_EPOCH);
  g_snprintf (self->date_text, sizeof self->date_text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
              days[g_date_time_get_day_of_week (date) - 1],
              g_date_time_get_day_of_month (date),
              months[g_date_time_get_month (date) - 1],
              g_date_time_get_year (date),
              g_date_time_get_hour (date),
              g_date_time_get_minute (date),
              g_date_time_get_second (date));
  self->date_second = second;
  self->has_date = TRUE;
  return g_strdup (self->date_text);
}
