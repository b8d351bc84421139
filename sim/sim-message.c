/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The message itself: libosip2's set-up, the checks libosip2 leaves to us, new responses and
 * CANCELs, and the accessors every SIP element uses.  Text becomes a message in
 * sim-message-parse.c (after the bounded scan of sim-message-scan.c) and text again in
 * sim-message-write.c.
 */
#include "sim-message-private.h"

#include <string.h>

G_DEFINE_QUARK (sim-message-error-quark, sim_message_error)

/* ---------------------------------------------------------------------------------------- */
/* libosip2                                                                                 */

/* libosip2 reports parse errors on stderr; route them to the debug log (G_MESSAGES_DEBUG=Sim). */
static void
osip_log_cb (const char         *file,
             int                 line,
             osip_trace_level_t  level,
             const char         *format,
             va_list             args)
{
  g_autofree char *text = g_strdup_vprintf (format, args);
  g_debug ("libosip2 %s:%d: %s", file, line, g_strchomp (text));
}

void
sim_message_init_library (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      osip_trace_initialize_func (TRACE_LEVEL7, osip_log_cb);
      parser_init ();
      g_once_init_leave (&initialized, 1);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The checks libosip2 leaves to us                                                         */

gboolean
sim_message_validate (osip_message_t  *msg,
                      GError         **error)
{
  osip_via_t *via = NULL;
  const char *missing = NULL;

  if (msg->to == NULL || msg->to->url == NULL)
    missing = "To";
  else if (msg->from == NULL || msg->from->url == NULL)
    missing = "From";
  else if (msg->call_id == NULL || msg->call_id->number == NULL)
    missing = "Call-ID";
  else if (msg->cseq == NULL || msg->cseq->number == NULL || msg->cseq->method == NULL)
    missing = "CSeq";
  else if (osip_message_get_via (msg, 0, &via) < 0 || via == NULL || via->host == NULL)
    missing = "Via";

  if (missing != NULL)
    {
      g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_MISSING_HEADER,
                   "missing or malformed %s header", missing);
      return FALSE;
    }

  {
    guint64 n;
    if (!g_ascii_string_to_unsigned (msg->cseq->number, 10, 0, G_MAXUINT32, &n, NULL))
      {
        g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_BAD_HEADER,
                     "CSeq number '%s' is not a 32-bit integer (RFC 3261 §8.1.1.5)", msg->cseq->number);
        return FALSE;
      }
  }

  if (msg->sip_method != NULL)
    {
      if (msg->req_uri == NULL || msg->req_uri->scheme == NULL)
        {
          g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_BAD_HEADER, "bad Request-URI");
          return FALSE;
        }
      /* RFC 3261 §8.1.1.5: the CSeq method must match the request method. */
      if (strcmp (msg->sip_method, msg->cseq->method) != 0)
        {
          g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_BAD_HEADER,
                       "CSeq method %s does not match request method %s",
                       msg->cseq->method, msg->sip_method);
          return FALSE;
        }
      if (msg->sip_version == NULL || g_ascii_strcasecmp (msg->sip_version, "SIP/2.0") != 0)
        {
          g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_BAD_HEADER,
                       "unsupported SIP version");
          return FALSE;
        }
    }
  /* RFC 3261 §7.2: a Status-Code is three digits, 100 to 699; libosip2 accepts "18" or "4$6",
   * which no transaction can match and no serialiser can write back. */
  else if (msg->status_code < 100 || msg->status_code > 699)
    {
      g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_BAD_HEADER,
                   "status code %d is not between 100 and 699 (RFC 3261 §7.2)", msg->status_code);
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* New messages                                                                             */

osip_message_t *
sim_message_from_text (const char *text)
{
  g_autoptr(GError) error = NULL;
  osip_message_t *msg = sim_message_parse (text, strlen (text), &error);

  if (msg == NULL)
    g_error ("bug: built an unparsable message (%s):\n%s", error->message, text);
  return msg;
}

osip_message_t *
sim_message_clone (const osip_message_t *msg)
{
  osip_message_t *copy = NULL;

  if (osip_message_clone (msg, &copy) != 0)
    g_error ("libosip2 could not clone a message");
  return copy;
}

static const struct {
  int status;
  const char *reason;
} reasons[] = {
  { 100, "Trying" }, { 180, "Ringing" }, { 183, "Session Progress" },
  { 200, "OK" },
  { 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
  { 405, "Method Not Allowed" }, { 408, "Request Timeout" }, { 416, "Unsupported URI Scheme" },
  { 407, "Proxy Authentication Required" },
  { 420, "Bad Extension" }, { 423, "Interval Too Brief" },
  { 480, "Temporarily Unavailable" }, { 481, "Call/Transaction Does Not Exist" },
  { 482, "Loop Detected" }, { 483, "Too Many Hops" }, { 486, "Busy Here" },
  { 487, "Request Terminated" }, { 500, "Server Internal Error" }, { 501, "Not Implemented" },
  { 503, "Service Unavailable" }, { 603, "Decline" },
};

const char *
sim_message_reason_phrase (int status)
{
  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    if (reasons[i].status == status)
      return reasons[i].reason;
  return "Unknown";
}

/* A response's status line, with no headers yet. */
static osip_message_t *
response_new (int         status,
              const char *reason)
{
  osip_message_t *response = NULL;

  osip_message_init (&response);
  osip_message_set_version (response, osip_strdup ("SIP/2.0"));
  osip_message_set_status_code (response, status);
  osip_message_set_reason_phrase (response,
                                  osip_strdup (reason ? reason : sim_message_reason_phrase (status)));
  return response;
}

/* The To copied from @request with our tag, and an empty body: what every response ends with. */
static osip_message_t *
response_finish (osip_message_t       *response,
                 const osip_message_t *request,
                 int                   status,
                 const char           *to_tag)
{
  osip_generic_param_t *tag = NULL;

  osip_to_clone (request->to, &response->to);
  /* RFC 3261 §8.2.6.2: a UAS adds a To tag, except to a 100 Trying. */
  if (status > 100 && to_tag != NULL && response->to != NULL &&
      (osip_to_get_tag (response->to, &tag) != 0 || tag == NULL))
    osip_to_set_tag (response->to, osip_strdup (to_tag));

  osip_message_set_content_length (response, "0");
  return response;
}

osip_message_t *
sim_message_new_response (const osip_message_t *request,
                          int                   status,
                          const char           *reason,
                          const char           *to_tag)
{
  osip_message_t *response;

  g_return_val_if_fail (request != NULL && request->sip_method != NULL, NULL);

  response = response_new (status, reason);
  for (int pos = 0; !osip_list_eol (&request->vias, pos); pos++)
    {
      osip_via_t *via = osip_list_get (&request->vias, pos), *copy = NULL;
      osip_via_clone (via, &copy);
      osip_list_add (&response->vias, copy, -1);
    }
  osip_from_clone (request->from, &response->from);
  osip_call_id_clone (request->call_id, &response->call_id);
  osip_cseq_clone (request->cseq, &response->cseq);
  return response_finish (response, request, status, to_tag);
}

/* What application_data holds in a response of sim_message_new_response_sharing(). */
static const char sharing_mark[] = "shares its request's headers";

osip_message_t *
sim_message_new_response_sharing (const osip_message_t *request,
                                  int                   status,
                                  const char           *reason,
                                  const char           *to_tag)
{
  osip_message_t *response;

  g_return_val_if_fail (request != NULL && request->sip_method != NULL, NULL);

  response = response_new (status, reason);
  /* The list header is copied, its nodes are the request's: sim_message_free() empties the
   * response's copy before osip_message_free() could walk it. */
  response->vias = request->vias;
  response->from = request->from;
  response->call_id = request->call_id;
  response->cseq = request->cseq;
  response->application_data = (void *) sharing_mark;
  return response_finish (response, request, status, to_tag);
}

void
sim_message_free (osip_message_t *msg)
{
  if (msg == NULL)
    return;
  if (msg->application_data == (void *) sharing_mark)
    {
      osip_list_init (&msg->vias);
      msg->from = NULL;
      msg->call_id = NULL;
      msg->cseq = NULL;
      msg->application_data = NULL;
    }
  osip_message_free (msg);
}

osip_message_t *
sim_message_new_cancel (const osip_message_t *invite)
{
  osip_message_t *cancel = NULL;
  osip_uri_t *uri = NULL;

  osip_message_init (&cancel);
  osip_message_set_method (cancel, osip_strdup ("CANCEL"));
  osip_message_set_version (cancel, osip_strdup ("SIP/2.0"));
  osip_uri_clone (invite->req_uri, &uri);
  osip_message_set_uri (cancel, uri);
  osip_from_clone (invite->from, &cancel->from);
  osip_to_clone (invite->to, &cancel->to);
  osip_call_id_clone (invite->call_id, &cancel->call_id);
  osip_cseq_init (&cancel->cseq);
  osip_cseq_set_number (cancel->cseq, osip_strdup (invite->cseq->number));
  osip_cseq_set_method (cancel->cseq, osip_strdup ("CANCEL"));
  for (int pos = 0; !osip_list_eol (&invite->routes, pos); pos++)
    {
      osip_route_t *route = osip_list_get (&invite->routes, pos), *copy = NULL;
      osip_route_clone (route, &copy);
      osip_list_add (&cancel->routes, copy, -1);
    }
  osip_message_set_max_forwards (cancel, "70");
  osip_message_set_content_length (cancel, "0");
  return cancel;
}

/* ---------------------------------------------------------------------------------------- */
/* Accessors                                                                                */

gboolean
sim_message_is_request (const osip_message_t *msg)
{
  return msg->sip_method != NULL;
}

const char *
sim_message_method (const osip_message_t *msg)
{
  if (msg->sip_method != NULL)
    return msg->sip_method;
  if (msg->cseq != NULL)
    return msg->cseq->method;
  return NULL;
}

guint32
sim_message_cseq_number (const osip_message_t *msg)
{
  if (msg->cseq == NULL || msg->cseq->number == NULL)
    return 0;
  return (guint32) g_ascii_strtoull (msg->cseq->number, NULL, 10);
}

char *
sim_message_call_id (const osip_message_t *msg)
{
  if (msg->call_id == NULL || msg->call_id->number == NULL)
    return NULL;
  if (msg->call_id->host != NULL)
    return g_strdup_printf ("%s@%s", msg->call_id->number, msg->call_id->host);
  return g_strdup (msg->call_id->number);
}

const char *
sim_message_from_tag (const osip_message_t *msg)
{
  osip_generic_param_t *tag = NULL;

  if (msg->from == NULL || osip_from_get_tag (msg->from, &tag) != 0 || tag == NULL)
    return NULL;
  return tag->gvalue;
}

const char *
sim_message_to_tag (const osip_message_t *msg)
{
  osip_generic_param_t *tag = NULL;

  if (msg->to == NULL || osip_to_get_tag (msg->to, &tag) != 0 || tag == NULL)
    return NULL;
  return tag->gvalue;
}

const char *
sim_message_branch (const osip_message_t *msg)
{
  osip_via_t *via = NULL;
  osip_generic_param_t *branch = NULL;

  if (osip_message_get_via (msg, 0, &via) < 0 || via == NULL)
    return NULL;
  if (osip_via_param_get_byname (via, "branch", &branch) != 0 || branch == NULL)
    return NULL;
  return branch->gvalue;
}

char *
sim_message_request_uri (const osip_message_t *msg)
{
  return sim_uri_to_string (msg->req_uri);
}

const char *
sim_message_header (const osip_message_t *msg,
                    const char           *name)
{
  osip_header_t *header = NULL;

  if (osip_message_header_get_byname (msg, name, 0, &header) < 0 || header == NULL)
    return NULL;
  return header->hvalue != NULL ? header->hvalue : "";
}

void
sim_message_set_header (osip_message_t *msg,
                        const char     *name,
                        const char     *value)
{
  sim_message_remove_header (msg, name);
  osip_message_set_header (msg, name, value);
}

void
sim_message_remove_header (osip_message_t *msg,
                           const char     *name)
{
  osip_header_t *header = NULL;
  int pos;

  while ((pos = osip_message_header_get_byname (msg, name, 0, &header)) >= 0)
    {
      osip_list_remove (&msg->headers, pos);
      osip_header_free (header);
    }
}

gint64
sim_message_expires (const osip_message_t *msg)
{
  const char *raw = sim_message_header (msg, "expires");
  g_autofree char *value = NULL;
  guint64 n;

  if (raw == NULL)
    return SIM_MESSAGE_EXPIRES_ABSENT;
  value = g_strstrip (g_strdup (raw));
  if (*value == '\0' || strspn (value, "0123456789") != strlen (value))
    return SIM_MESSAGE_EXPIRES_INVALID;
  /* RFC 3261 §20.19: delta-seconds; larger values are treated as 2^32-1. */
  if (strlen (value) > 10 || !g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, &n, NULL))
    return G_MAXUINT32;
  return (gint64) MIN (n, G_MAXUINT32);
}

char *
sim_message_www_authenticate (const osip_message_t *msg,
                              int                   pos)
{
  osip_www_authenticate_t *header = osip_list_get (&msg->www_authenticates, pos);
  char *dest = NULL, *out;

  if (header == NULL || osip_www_authenticate_to_str (header, &dest) != 0 || dest == NULL)
    return NULL;
  out = g_strdup (dest);
  osip_free (dest);
  return out;
}

char *
sim_message_authorization (const osip_message_t *msg,
                           int                   pos)
{
  osip_authorization_t *header = osip_list_get (&msg->authorizations, pos);
  char *dest = NULL, *out;

  if (header == NULL || osip_authorization_to_str (header, &dest) != 0 || dest == NULL)
    return NULL;
  out = g_strdup (dest);
  osip_free (dest);
  return out;
}

/* ---------------------------------------------------------------------------------------- */
/* URIs and addresses                                                                       */

static char *
copy_ascii_down (char       *dest,
                 const char *src,
                 gsize       n)
{
  for (gsize i = 0; i < n; i++)
    dest[i] = src[i] >= 'A' && src[i] <= 'Z' ? src[i] + ('a' - 'A') : src[i];
  return dest + n;
}

/*
 * g_uri_unescape_string (@src, NULL) written to @dest: %XX needs two hex digits and must not
 * give a NUL.  Returns the end of the text, or NULL where GLib would return NULL.
 */
static char *
unescape_uri_part (char       *dest,
                   const char *src)
{
  for (const char *p = src; *p != '\0'; p++)
    {
      if (*p != '%')
        {
          *dest++ = *p;
          continue;
        }
      if (!g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2]))
        return NULL;
      *dest = (char) ((g_ascii_xdigit_value (p[1]) << 4) | g_ascii_xdigit_value (p[2]));
      if (*dest++ == '\0')
        return NULL;
      p += 2;
    }
  return dest;
}

char *
sim_uri_to_aor (const osip_uri_t *uri)
{
  const char *scheme;
  gsize scheme_len, user_len = 0, host_len;
  char *aor, *p;

  if (uri == NULL || uri->host == NULL)
    return NULL;
  /*
   * RFC 3261 §10.3 step 5: the AOR is the canonical scheme:user@host, with the user part
   * unescaped and scheme and host compared case-insensitively (§19.1.4).
   */
  scheme = uri->scheme != NULL ? uri->scheme : "sip";
  scheme_len = strlen (scheme);
  host_len = strlen (uri->host);
  if (uri->username != NULL)
    user_len = strlen (uri->username);
  /* Unescaping only shortens the user part. */
  p = aor = g_malloc (scheme_len + 1 + user_len + 1 + host_len + 1);
  p = copy_ascii_down (p, scheme, scheme_len);
  *p++ = ':';
  if (uri->username != NULL)
    {
      char *end = memchr (uri->username, '%', user_len) != NULL ? unescape_uri_part (p, uri->username) : NULL;

      if (end == NULL)
        {
          /* No escapes, or a bad escape: keep it as it came. */
          memcpy (p, uri->username, user_len);
          end = p + user_len;
        }
      p = end;
      *p++ = '@';
    }
  p = copy_ascii_down (p, uri->host, host_len);
  *p = '\0';
  return aor;
}

gboolean
sim_uri_to_addr (const osip_uri_t *uri,
                 SimAddr          *addr)
{
  osip_uri_param_t *transport = NULL;
  const char *name = NULL;
  gboolean tls;
  guint64 port;

  if (uri == NULL || uri->host == NULL || *uri->host == '\0')
    return FALSE;
  if (osip_uri_param_get_byname ((osip_list_t *) &uri->url_params, (char *) "transport",
                                 &transport) == 0 && transport != NULL)
    name = transport->gvalue;
  /* A sips: URI is reached over TLS (RFC 3261 §26.2.2, RFC 5630 §3.1.3), as is one with
   * transport=tls; both default to port 5061 (§19.1.2, RFC 3263 §4.2). */
  tls = (uri->scheme != NULL && g_ascii_strcasecmp (uri->scheme, "sips") == 0) ||
        (name != NULL && g_ascii_strcasecmp (name, "tls") == 0);
  port = tls ? 5061 : 5060;
  if (uri->port != NULL && !g_ascii_string_to_unsigned (uri->port, 10, 1, 65535, &port, NULL))
    return FALSE;
  sim_addr_init (addr, uri->host, (guint16) port,
                 tls ? SIM_TRANSPORT_TLS :
                 name != NULL && g_ascii_strcasecmp (name, "tcp") == 0 ? SIM_TRANSPORT_TCP
                                                                       : SIM_TRANSPORT_UDP);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Random tokens                                                                            */

void
_sim_random_token_fill (GRand *rand,
                        char  *token,
                        guint  n_chars)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  /*
   * g_rand_int_range (rand, 0, 36) as GLib computes it (since 2.2): draws below the largest
   * multiple of 36 that fits in 32 bits are taken modulo 36, the others drawn again.  Done here
   * with g_rand_int, the same draws give the same characters without the range call's cost
   * (every response's To tag and every branch come here).  G_RANDOM_VERSION=2.0 asks GLib for
   * its old formula: then its own function is used.
   */
  static const guint32 dist = sizeof alphabet - 1;
  static const guint32 max_value = 0xffffffffu - (guint32) ((G_GUINT64_CONSTANT (1) << 32) % dist);
  static gsize own_formula = 0;

  if (g_once_init_enter (&own_formula))
    g_once_init_leave (&own_formula, g_getenv ("G_RANDOM_VERSION") == NULL ? 1 : 2);

  for (guint i = 0; i < n_chars; i++)
    {
      guint32 value;

      if (own_formula == 1)
        {
          do
            value = g_rand_int (rand);
          while (value > max_value);
          value %= dist;
        }
      else
        value = g_rand_int_range (rand, 0, dist);
      token[i] = alphabet[value];
    }
  token[n_chars] = '\0';
}

char *
sim_random_token (GRand *rand,
                  guint  n_chars)
{
  char *token = g_malloc (n_chars + 1);

  _sim_random_token_fill (rand, token, n_chars);
  return token;
}

char *
sim_random_branch (GRand *rand)
{
  g_autofree char *token = sim_random_token (rand, 10);
  return g_strconcat ("z9hG4bK", token, NULL);
}
