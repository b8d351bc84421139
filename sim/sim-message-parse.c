/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-message.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (sim-message-error-quark, sim_message_error)

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

/*
 * The fast path of sim_message_parse.  libosip2's osip_message_parse copies the text, rewrites
 * folded lines, then for every header line mallocs a copy of the name and of the value
 * (osip_clrncpy), lowercases the name, looks for commas to split multi-value headers, looks the
 * name up and calls the header's parser (osip_message_set_via...), whose own parsing mallocs and
 * rescans the text again.  For the usual shape of a message this builds the same structures
 * directly:
 *  - the request or status line, when it has exactly the shape libosip2 expects;
 *  - each header line cut and trimmed as osip_clrncpy does, its name lowercased;
 *  - Via, From, To, Contact, Call-ID, CSeq, Content-Length and Authorization values of the plain
 *    shape (set_plain_header: sip/sips URIs with nothing to unescape, token parameters, quoted
 *    credentials without escapes) filled in with libosip2's constructors; any other value goes to
 *    libosip2's own setter (__osip_message_call_method), an unknown header into msg->headers as
 *    osip_message_set_header stores it;
 *  - no body, or a plain body with Content-Length and a non-multipart Content-Type.
 * Anything else makes it decline, and sim_message_parse hands the whole text to libosip2: bare
 * CR or LF, folded lines, a missing blank line, a comma in a header libosip2 splits (Contact: a,
 * b), an empty header value, a header name that is not a token or has spaces before the colon,
 * an odd start line, any header libosip2's setter rejects, a second From/To/Call-ID/CSeq, a
 * multipart body, a body without Content-Length.  So odd and hostile input gets exactly the old
 * behaviour.  tests/test-message.c and tests/fuzz/fuzz-parse.c compare the result field by field
 * with what osip_message_parse builds.
 */

/* libosip2 exports these (parser.h, not installed); osip_message_set__header uses them. */
int __osip_message_is_known_header (const char *hname);
int __osip_message_call_method (int i, osip_message_t *dest, const char *hvalue);
int __osip_message_is_header_comma_separated (const char *hname);

/* Character classes of the fast path. */
enum {
  CHAR_TOKEN = 1 << 0,       /* RFC 3261 token: a method, a header name, a parameter */
  CHAR_URI_USER = 1 << 1,    /* a URI user part the fast path takes: nothing to unescape */
  CHAR_URI_HOST = 1 << 2,    /* a host name or IPv4 address (no IPv6) */
  CHAR_URI_PARAM = 1 << 3,   /* a URI parameter name or value: nothing to unescape */
  CHAR_QUOTED_STOP = 1 << 4, /* ends a plain quoted value in Authorization: '"' '\\' ',' NUL */
};

static guint8 char_classes[256];
/* The lower-case form of a token character, 0 for any other. */
static char lower_token[256];

static void
init_char_classes (void)
{
  for (int c = 0; c < 256; c++)
    {
      if (g_ascii_isalnum (c) || (c != 0 && strchr ("-.!%*_+`'~", c) != NULL))
        char_classes[c] |= CHAR_TOKEN;
      if (g_ascii_isalnum (c) || (c != 0 && strchr ("-_.!~*'()+$", c) != NULL))
        char_classes[c] |= CHAR_URI_USER;
      if (g_ascii_isalnum (c) || c == '-' || c == '.')
        char_classes[c] |= CHAR_URI_HOST;
      if (g_ascii_isalnum (c) || (c != 0 && strchr ("-_.!~*'()", c) != NULL))
        char_classes[c] |= CHAR_URI_PARAM;
      if (c == '"' || c == '\\' || c == ',' || c == 0)
        char_classes[c] |= CHAR_QUOTED_STOP;
      if (char_classes[c] & CHAR_TOKEN)
        lower_token[c] = g_ascii_tolower (c);
    }
}

static inline gboolean
is_token_char (guchar c)
{
  return (char_classes[c] & CHAR_TOKEN) != 0;
}

/*
 * __osip_message_is_header_comma_separated for the names that carry commas in the usual messages
 * (libosip2 does not split them); checked against libosip2 once at start-up.
 */
#define NAME(name) { name, sizeof (name) - 1 }
static const struct {
  const char *name;
  gsize len;
} unsplit_names[] = {
  NAME ("authorization"), NAME ("proxy-authorization"), NAME ("www-authenticate"),
  NAME ("proxy-authenticate"), NAME ("user-agent"), NAME ("server"), NAME ("date"), NAME ("subject"),
  NAME ("organization"), NAME ("expires"), NAME ("from"), NAME ("to"), NAME ("call-id"), NAME ("cseq"),
};
#undef NAME
static gboolean unsplit_names_checked;

/* Whether osip_message_set_multiple_header would cut @value at its commas. */
static gboolean
header_is_split (const char *lname,
                 gsize       n,
                 const char *value,
                 gsize       value_len)
{
  if (memchr (value, ',', value_len) == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (unsplit_names); i++)
    if (unsplit_names[i].len == n && memcmp (unsplit_names[i].name, lname, n) == 0)
      return !unsplit_names_checked;
  return __osip_message_is_header_comma_separated (lname) == 0;
}

static inline gsize
span_class (const char *p,
            const char *end,
            guint8      klass)
{
  const char *q = p;

  while (q < end && (char_classes[(guchar) *q] & klass))
    q++;
  return q - p;
}

/*
 * host[:port] at @host, as URIs and Via sent-bys write it: returns where it ends, or NULL when
 * the host is empty or the port has no digits or more than five (left to libosip2's parser).
 * @port is NULL when there is none.
 */
static const char *
span_hostport (const char  *host,
               const char  *end,
               gsize       *host_len,
               const char **port,
               gsize       *port_len)
{
  const char *p;

  *host_len = span_class (host, end, CHAR_URI_HOST);
  if (*host_len == 0)
    return NULL;
  p = host + *host_len;
  *port = NULL;
  *port_len = 0;
  if (p < end && *p == ':')
    {
      *port = ++p;
      while (p < end && g_ascii_isdigit (*p))
        p++;
      *port_len = p - *port;
      if (*port_len == 0 || *port_len > 5)
        return NULL;
    }
  return p;
}

static inline char *
osip_strndup_len (const char *p,
                  gsize       n)
{
  char *copy = osip_malloc (n + 1);

  memcpy (copy, p, n);
  copy[n] = '\0';
  return copy;
}

/* osip_uri_param_add (= osip_generic_param_add), whose osip_clrspace has nothing to trim in
 * the names and values the fast path takes. */
static inline void
add_param (osip_list_t *list,
           char        *name,
           char        *value)
{
  osip_uri_param_t *param = NULL;

  osip_uri_param_init (&param);
  param->gname = name;
  param->gvalue = value;
  osip_list_add (list, param, -1);
}

/*
 * osip_uri_parse for the plain shape "sip:user@host:port;name=value;flag" (scheme sip or sips,
 * user, port and parameters optional): nothing to unescape, no password, no IPv6, no headers.
 * FALSE, @uri untouched, for anything else.  [p, end) is the URI text.
 */
static gboolean
parse_plain_uri (osip_uri_t *uri,
                 const char *p,
                 const char *end)
{
  const char *scheme = p, *user = NULL, *host, *port = NULL, *params;
  gsize scheme_len, user_len = 0, host_len, port_len = 0;

  if (end - p < 5 || (p[0] | 0x20) != 's' || (p[1] | 0x20) != 'i' || (p[2] | 0x20) != 'p')
    return FALSE;
  if (p[3] == ':')
    scheme_len = 3;
  else if ((p[3] | 0x20) == 's' && p[4] == ':')
    scheme_len = 4;
  else
    return FALSE;
  p += scheme_len + 1;

  host = p;
  host_len = span_class (p, end, CHAR_URI_HOST);
  if (host + host_len < end && host[host_len] != ':' && host[host_len] != ';')
    {
      /* user@host */
      user = p;
      user_len = span_class (p, end, CHAR_URI_USER);
      if (user_len == 0 || user + user_len >= end || user[user_len] != '@')
        return FALSE;
      host = user + user_len + 1;
      host_len = span_class (host, end, CHAR_URI_HOST);
    }
  p = span_hostport (host, end, &host_len, &port, &port_len);
  if (p == NULL)
    return FALSE;
  params = p;
  /* Check the parameters before building anything. */
  while (p < end)
    {
      gsize n;

      if (*p != ';')
        return FALSE;
      p++;
      n = span_class (p, end, CHAR_URI_PARAM);
      if (n == 0)
        return FALSE;
      p += n;
      if (p < end && *p == '=')
        {
          p++;
          n = span_class (p, end, CHAR_URI_PARAM);
          if (n == 0)
            return FALSE;
          p += n;
        }
    }

  uri->scheme = osip_strndup_len (scheme, scheme_len);
  if (user != NULL)
    uri->username = osip_strndup_len (user, user_len);
  uri->host = osip_strndup_len (host, host_len);
  if (port != NULL)
    uri->port = osip_strndup_len (port, port_len);
  for (p = params; p < end; )
    {
      const char *name = ++p, *value = NULL;
      gsize name_len = span_class (p, end, CHAR_URI_PARAM), value_len = 0;

      p += name_len;
      if (p < end && *p == '=')
        {
          value = ++p;
          value_len = span_class (p, end, CHAR_URI_PARAM);
          p += value_len;
        }
      add_param (&uri->url_params, osip_strndup_len (name, name_len),
                 value != NULL ? osip_strndup_len (value, value_len) : NULL);
    }
  return TRUE;
}

/* "name=value;flag" generic parameters as __osip_generic_param_parseall stores them, for token
 * names and values only.  [p, end) starts at the first ';'.  FALSE for anything else. */
static gboolean
check_plain_generic_params (const char *p,
                            const char *end)
{
  while (p < end)
    {
      gsize n;

      if (*p != ';')
        return FALSE;
      p++;
      n = 0;
      while (p + n < end && is_token_char (p[n]))
        n++;
      if (n == 0)
        return FALSE;
      p += n;
      if (p < end && *p == '=')
        {
          p++;
          n = 0;
          while (p + n < end && is_token_char (p[n]))
            n++;
          if (n == 0)
            return FALSE;
          p += n;
        }
    }
  return TRUE;
}

static void
add_plain_generic_params (osip_list_t *list,
                          const char  *p,
                          const char  *end)
{
  while (p < end)
    {
      const char *name = ++p, *value = NULL;
      gsize name_len, value_len = 0;

      while (p < end && is_token_char (*p))
        p++;
      name_len = p - name;
      if (p < end && *p == '=')
        {
          value = ++p;
          while (p < end && is_token_char (*p))
            p++;
          value_len = p - value;
        }
      add_param (list, osip_strndup_len (name, name_len),
                 value != NULL ? osip_strndup_len (value, value_len) : NULL);
    }
}

/*
 * osip_from_parse (From, To, Contact) for "<plain URI>;name=value;flag": no display name, no
 * quotes.  NULL for anything else.
 */
static osip_from_t *
parse_plain_name_addr (const char *value)
{
  const char *gt, *end;
  osip_from_t *from = NULL;
  osip_uri_t *uri = NULL;

  if (value[0] != '<')
    return NULL;
  gt = strchr (value, '>');
  if (gt == NULL || gt - value < 8)
    return NULL;
  end = value + strlen (value);
  if (!check_plain_generic_params (gt + 1, end))
    return NULL;

  osip_uri_init (&uri);
  if (!parse_plain_uri (uri, value + 1, gt))
    {
      osip_uri_free (uri);
      return NULL;
    }
  osip_from_init (&from);
  from->url = uri;
  add_plain_generic_params (&from->gen_params, gt + 1, end);
  return from;
}

/* osip_via_parse for "SIP/2.0/UDP host:port;name=value;flag": no comment, no IPv6. */
static osip_via_t *
parse_plain_via (const char *value)
{
  const char *end = value + strlen (value);
  const char *protocol = value + 8, *host, *port = NULL, *params;
  gsize protocol_len = 0, host_len, port_len = 0;
  osip_via_t *via = NULL;

  if (end - value < 11 || memcmp (value, "SIP/2.0/", 8) != 0)
    return NULL;
  while (protocol + protocol_len < end && g_ascii_isalnum (protocol[protocol_len]))
    protocol_len++;
  if (protocol_len == 0 || protocol + protocol_len >= end || protocol[protocol_len] != ' ')
    return NULL;
  host = protocol + protocol_len + 1;
  params = span_hostport (host, end, &host_len, &port, &port_len);
  if (params == NULL)
    return NULL;
  if (!check_plain_generic_params (params, end))
    return NULL;

  osip_via_init (&via);
  via->version = osip_strndup_len ("2.0", 3);
  via->protocol = osip_strndup_len (protocol, protocol_len);
  via->host = osip_strndup_len (host, host_len);
  if (port != NULL)
    via->port = osip_strndup_len (port, port_len);
  add_plain_generic_params (&via->via_params, params, end);
  return via;
}

/*
 * osip_authorization_parse for "Digest name=value, ...": each name one of those it knows, once,
 * in lower case, with a quoted value (no quote, backslash or comma inside) where it keeps the
 * quotes and a token where it takes a token; ',' between them with optional spaces around it.
 * libosip2 stops early on short remainders: the last field must be longer than any name.
 */
static const struct {
  const char *name;
  gsize len;
  gboolean quoted;
  gsize offset;
} credential_fields[] = {
#define FIELD(name, quoted, field) { name, sizeof (name) - 1, quoted, G_STRUCT_OFFSET (osip_authorization_t, field) }
  FIELD ("username", TRUE, username), FIELD ("realm", TRUE, realm), FIELD ("nonce", TRUE, nonce),
  FIELD ("uri", TRUE, uri), FIELD ("response", TRUE, response), FIELD ("digest", TRUE, digest),
  FIELD ("algorithm", FALSE, algorithm), FIELD ("cnonce", TRUE, cnonce), FIELD ("opaque", TRUE, opaque),
  FIELD ("qop", FALSE, message_qop), FIELD ("nc", FALSE, nonce_count), FIELD ("version", FALSE, version),
  FIELD ("targetname", TRUE, targetname), FIELD ("gssapi-data", TRUE, gssapi_data),
  FIELD ("crand", TRUE, crand), FIELD ("cnum", TRUE, cnum),
#undef FIELD
};

static osip_authorization_t *
parse_plain_authorization (const char *value)
{
  const char *end = value + strlen (value);
  const char *p = value, *field_start = NULL;
  struct { const char *start; gsize len; } found[G_N_ELEMENTS (credential_fields)] = { { 0 } };
  osip_authorization_t *auth = NULL;
  gsize type_len;

  while (p < end && is_token_char (*p))
    p++;
  type_len = p - value;
  if (type_len == 0 || p >= end || *p != ' ')
    return NULL;
  while (p < end && *p == ' ')
    p++;
  while (p < end)
    {
      const char *name = p, *v;
      guint k;

      field_start = p;
      while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '-'))
        p++;
      for (k = 0; k < G_N_ELEMENTS (credential_fields); k++)
        if (credential_fields[k].len == (gsize) (p - name) && memcmp (credential_fields[k].name, name, p - name) == 0)
          break;
      if (k == G_N_ELEMENTS (credential_fields) || found[k].start != NULL || p >= end || *p != '=')
        return NULL;
      v = ++p;
      if (credential_fields[k].quoted)
        {
          if (p >= end || *p != '"')
            return NULL;
          p++;
          /* The value ends with NUL, which stops the scan too. */
          while (!(char_classes[(guchar) *p] & CHAR_QUOTED_STOP))
            p++;
          if (p >= end || *p != '"' || p == v + 1)
            return NULL;
          p++;
        }
      else
        {
          while (p < end && is_token_char (*p))
            p++;
          if (p == v)
            return NULL;
        }
      found[k].start = v;
      found[k].len = p - v;
      if (p == end)
        break;
      while (p < end && *p == ' ')
        p++;
      if (p >= end || *p != ',')
        return NULL;
      p++;
      while (p < end && *p == ' ')
        p++;
      if (p >= end)
        return NULL;
    }
  if (field_start == NULL || end - field_start < 13)
    return NULL;

  osip_authorization_init (&auth);
  auth->auth_type = osip_strndup_len (value, type_len);
  for (guint k = 0; k < G_N_ELEMENTS (credential_fields); k++)
    if (found[k].start != NULL)
      G_STRUCT_MEMBER (char *, auth, credential_fields[k].offset) = osip_strndup_len (found[k].start, found[k].len);
  return auth;
}

/*
 * The libosip2 setters the fast path does itself for plain values: osip_message_set_via, _from,
 * _to, _contact, _call_id, _cseq, _content_length, _authorization.  FALSE when the value is not
 * plain or the header is a second one of a kind libosip2 takes once: the caller uses libosip2's.
 */
static gboolean
set_plain_header (osip_message_t *msg,
                  const char     *lname,
                  gsize           name_len,
                  const char     *value)
{
  osip_from_t **single = NULL;
  osip_from_t *from;

  if ((name_len == 3 && memcmp (lname, "via", 3) == 0) || (name_len == 1 && lname[0] == 'v'))
    {
      osip_via_t *via = parse_plain_via (value);

      if (via == NULL)
        return FALSE;
      msg->message_property = 2;
      osip_list_add (&msg->vias, via, -1);
      return TRUE;
    }
  if ((name_len == 7 && memcmp (lname, "call-id", 7) == 0) || (name_len == 1 && lname[0] == 'i'))
    {
      /* osip_call_id_parse: "number@host" or "number", cut at the first '@'. */
      const char *at = strchr (value, '@');
      gsize len = strlen (value);

      if (msg->call_id != NULL || strpbrk (value, " \t") != NULL || at == value || (at != NULL && at[1] == '\0'))
        return FALSE;
      osip_call_id_init (&msg->call_id);
      msg->message_property = 2;
      msg->call_id->number = osip_strndup_len (value, at != NULL ? (gsize) (at - value) : len);
      if (at != NULL)
        msg->call_id->host = osip_strndup_len (at + 1, value + len - at - 1);
      return TRUE;
    }
  if (name_len == 4 && memcmp (lname, "cseq", 4) == 0)
    {
      /* osip_cseq_parse: number, one space, method. */
      const char *space = strchr (value, ' ');
      gsize len = strlen (value);

      if (msg->cseq != NULL || space == NULL || space == value || strchr (value, '\t') != NULL ||
          strchr (space + 1, ' ') != NULL || space[1] == '\0')
        return FALSE;
      osip_cseq_init (&msg->cseq);
      msg->message_property = 2;
      msg->cseq->number = osip_strndup_len (value, space - value);
      msg->cseq->method = osip_strndup_len (space + 1, value + len - space - 1);
      return TRUE;
    }
  if ((name_len == 14 && memcmp (lname, "content-length", 14) == 0) || (name_len == 1 && lname[0] == 'l'))
    {
      /* osip_content_length_parse keeps the text. */
      if (msg->content_length != NULL)
        return FALSE;
      osip_content_length_init (&msg->content_length);
      msg->message_property = 2;
      msg->content_length->value = osip_strndup_len (value, strlen (value));
      return TRUE;
    }
  if (name_len == 13 && memcmp (lname, "authorization", 13) == 0)
    {
      osip_authorization_t *auth = parse_plain_authorization (value);

      if (auth == NULL)
        return FALSE;
      msg->message_property = 2;
      osip_list_add (&msg->authorizations, auth, -1);
      return TRUE;
    }

  switch (name_len)
    {
    case 1:
      if (lname[0] == 'f')
        single = &msg->from;
      else if (lname[0] == 't')
        single = (osip_from_t **) &msg->to;
      else if (lname[0] != 'm')
        return FALSE;
      break;
    case 2:
      if (memcmp (lname, "to", 2) != 0)
        return FALSE;
      single = (osip_from_t **) &msg->to;
      break;
    case 4:
      if (memcmp (lname, "from", 4) != 0)
        return FALSE;
      single = &msg->from;
      break;
    case 7:
      if (memcmp (lname, "contact", 7) != 0)
        return FALSE;
      break;
    default:
      return FALSE;
    }
  /* A second From or To is an error libosip2 reports. */
  if (single != NULL && *single != NULL)
    return FALSE;
  from = parse_plain_name_addr (value);
  if (from == NULL)
    return FALSE;
  msg->message_property = 2;
  if (single != NULL)
    *single = from;
  else
    osip_list_add (&msg->contacts, from, -1);
  return TRUE;
}

static gboolean
parse_start_line (osip_message_t *msg,
                  char           *line,
                  gsize           n)
{
  /* osip_clrncpy would trim a tab at either end of the Request-URI; nothing else in the line
   * depends on control characters (CR and LF cannot be there). */
  if (memchr (line, '\t', n) != NULL)
    return FALSE;

  if (n >= 4 && memcmp (line, "SIP/", 4) == 0)
    {
      /* "SIP/2.0 DDD reason": what __osip_message_startline_parseresp reads of it. */
      if (n < 12 || memcmp (line, "SIP/2.0 ", 8) != 0 || !g_ascii_isdigit (line[8]) || line[8] == '0' ||
          !g_ascii_isdigit (line[9]) || !g_ascii_isdigit (line[10]) || line[11] != ' ')
        return FALSE;
      msg->sip_version = osip_strdup ("SIP/2.0");
      msg->status_code = (line[8] - '0') * 100 + (line[9] - '0') * 10 + (line[10] - '0');
      msg->reason_phrase = osip_malloc (n - 12 + 1);
      memcpy (msg->reason_phrase, line + 12, n - 12);
      msg->reason_phrase[n - 12] = '\0';
      return TRUE;
    }
  else
    {
      /* "METHOD SP Request-URI SP SIP/2.0": __osip_message_startline_parsereq. */
      gsize m = 0, u;
      char *uri;

      while (m < n && is_token_char (line[m]))
        m++;
      if (m == 0 || m >= n || line[m] != ' ')
        return FALSE;
      u = m + 1;
      while (u < n && line[u] != ' ')
        u++;
      /* libosip2 looks for the space after the URI from its second character on. */
      if (u - (m + 1) < 2 || n - u != 8 || memcmp (line + u, " SIP/2.0", 8) != 0)
        return FALSE;
      uri = line + m + 1;
      line[u] = '\0';
      if (osip_uri_init (&msg->req_uri) != 0)
        g_error ("out of memory");
      if (!parse_plain_uri (msg->req_uri, uri, line + u) && osip_uri_parse (msg->req_uri, uri) != 0)
        return FALSE;
      msg->sip_method = osip_malloc (m + 1);
      memcpy (msg->sip_method, line, m);
      msg->sip_method[m] = '\0';
      msg->sip_version = osip_strdup ("SIP/2.0");
      return TRUE;
    }
}


/* Names libosip2 keeps in msg->headers (checked against __osip_message_is_known_header at
 * start-up), so the lookup can be skipped. */
static const char *const common_unknown_names[] = { "max-forwards", "expires", "user-agent" };
static gboolean common_unknown_names_checked;

static inline gboolean
is_common_unknown_header (const char *lname,
                          gsize       n)
{
  if (!common_unknown_names_checked)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (common_unknown_names); i++)
    if (strlen (common_unknown_names[i]) == n && memcmp (common_unknown_names[i], lname, n) == 0)
      return TRUE;
  return FALSE;
}

/* @text: a NUL-terminated copy of the message (no other NUL in it), @len bytes. */
static gboolean
parse_fast_text (osip_message_t *msg,
                 char           *text,
                 gsize           len)
{
  char *end = text + len;
  char *line = text;
  char *eol;

  eol = memchr (line, '\r', end - line);
  if (eol == NULL || eol + 1 >= end || eol[1] != '\n' || memchr (line, '\n', eol - line) != NULL)
    return FALSE;
  if (!parse_start_line (msg, line, eol - line))
    return FALSE;

  for (line = eol + 2; ; line = eol + 2)
    {
      char *colon, *value, *value_end;
      gsize name_len;
      int index;

      if (line >= end)
        return FALSE;                  /* no blank line */
      eol = memchr (line, '\r', end - line);
      if (eol == NULL || eol + 1 >= end || eol[1] != '\n')
        return FALSE;
      if (eol == line)
        break;                         /* the blank line */
      /* Folding (libosip2 rewrites it first) or a bare line feed. */
      if (*line == ' ' || *line == '\t' || memchr (line, '\n', eol - line) != NULL)
        return FALSE;

      name_len = 0;
      /* The line ends with CR, not a token character: no bound to check. */
      for (char c; (c = lower_token[(guchar) line[name_len]]) != 0; name_len++)
        line[name_len] = c;
      colon = line + name_len;
      if (name_len == 0 || colon >= eol || *colon != ':')
        return FALSE;
      *colon = '\0';

      /*
       * osip_clrncpy: SP and HT trimmed at both ends (CR and LF cannot be there).  Other control
       * characters make no difference to how libosip2 cuts the message: they reach the header
       * parsers in the value either way.
       */
      value = colon + 1;
      value_end = eol;
      while (value < value_end && (*value == ' ' || *value == '\t'))
        value++;
      while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
        value_end--;
      if (value == value_end)
        return FALSE;                  /* empty: libosip2 passes NULL or "" */
      *value_end = '\0';

      if (header_is_split (line, name_len, value, value_end - value))
        return FALSE;

      if (set_plain_header (msg, line, name_len, value))
        continue;
      index = is_common_unknown_header (line, name_len) ? -1 : __osip_message_is_known_header (line);
      if (index >= 0)
        {
          if (__osip_message_call_method (index, msg, value) != 0)
            return FALSE;
        }
      else
        {
          /* osip_message_set_header, whose osip_clrncpy has nothing left to trim. */
          osip_header_t *header = NULL;

          osip_header_init (&header);
          header->hname = osip_strndup_len (line, name_len);
          header->hvalue = osip_strndup_len (value, value_end - value);
          msg->message_property = 2;
          osip_list_add (&msg->headers, header, -1);
        }
    }

  /* The end of _osip_message_parse and msg_osip_body_parse, for no body or a plain one. */
  if (msg->content_length != NULL && msg->content_length->value == NULL)
    return FALSE;
  {
    char *body = eol + 2;
    const char *clen = msg->content_length != NULL ? msg->content_length->value : NULL;
    gsize n_digits = clen != NULL ? strlen (clen) : 0;
    gsize body_len;

    if (clen == NULL)
      {
        if (body < end)
          return FALSE;                /* a body without Content-Length */
        osip_message_set_content_length (msg, "0");
        return TRUE;
      }
    if (n_digits == 0 || n_digits > 5 || strspn (clen, "0123456789") != n_digits)
      return FALSE;
    body_len = (gsize) atoi (clen);
    if (body_len == 0)
      return TRUE;
    if (msg->content_type == NULL || msg->content_type->type == NULL || msg->content_type->subtype == NULL)
      return TRUE;                     /* libosip2 ignores the body */
    if (osip_strcasecmp (msg->content_type->type, "multipart") == 0 || (gsize) (end - body) < body_len)
      return FALSE;
    if (osip_message_set_body (msg, body, body_len) != 0)
      return FALSE;
    return TRUE;
  }
}

static gboolean fast_path_disabled;

/*
 * osip_message_init zeroes the structure, initialises its lists (zeroed too) and sets
 * message_property; at start-up we check that a copy of one fresh message is the same thing,
 * and then make new messages by copying it.
 */
static osip_message_t message_template;
static gboolean message_template_ok;

static void
init_message_template (void)
{
  osip_message_t *fresh = NULL;

  if (osip_message_init (&fresh) != 0)
    g_error ("out of memory");
  memset (&message_template, 0, sizeof message_template);
  message_template.message_property = fresh->message_property;
  message_template_ok = memcmp (&message_template, fresh, sizeof message_template) == 0;
  osip_message_free (fresh);
}

static inline osip_message_t *
new_message (void)
{
  osip_message_t *msg = NULL;

  if (G_LIKELY (message_template_ok))
    {
      msg = osip_malloc (sizeof (osip_message_t));
      if (msg == NULL)
        g_error ("out of memory");
      memcpy (msg, &message_template, sizeof (osip_message_t));
    }
  else if (osip_message_init (&msg) != 0)
    g_error ("out of memory");
  return msg;
}

/* NULL when the fast path declines @data (after sim_message_parse's own checks). */
static osip_message_t *
parse_fast (const char *data,
            gsize       len)
{
  char stack_copy[4096];
  char *text = len < sizeof stack_copy ? stack_copy : g_malloc (len + 1);
  osip_message_t *msg = NULL;

  memcpy (text, data, len);
  text[len] = '\0';
  msg = new_message ();
  if (!parse_fast_text (msg, text, len))
    {
      osip_message_free (msg);
      msg = NULL;
    }
  if (text != stack_copy)
    g_free (text);
  return msg;
}

/* sim_message_parse's checks before libosip2; FALSE with @error set for a rejected message. */
static gboolean
parse_precheck (const char **data,
                gsize       *len,
                GError     **error)
{
  if (*len > SIM_MESSAGE_MAX_SIZE)
    {
      g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_TOO_LARGE,
                   "message of %" G_GSIZE_FORMAT " bytes is larger than %d", *len, SIM_MESSAGE_MAX_SIZE);
      return FALSE;
    }
  /* RFC 3261 §7.5: implementations should ignore CRLFs before the start line (keep-alives). */
  while (*len > 0 && (**data == '\r' || **data == '\n'))
    {
      (*data)++;
      (*len)--;
    }
  if (*len < 8 || memchr (*data, '\0', *len) != NULL)
    {
      g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_UNPARSABLE, "not a SIP message");
      return FALSE;
    }
  return TRUE;
}

static void
check_unsplit_names (void)
{
  static gsize checked = 0;

  if (g_once_init_enter (&checked))
    {
      gboolean ok = TRUE;

      for (guint i = 0; i < G_N_ELEMENTS (unsplit_names); i++)
        if (__osip_message_is_header_comma_separated (unsplit_names[i].name) == 0)
          ok = FALSE;
      unsplit_names_checked = ok;
      ok = TRUE;
      for (guint i = 0; i < G_N_ELEMENTS (common_unknown_names); i++)
        if (__osip_message_is_known_header (common_unknown_names[i]) >= 0)
          ok = FALSE;
      common_unknown_names_checked = ok;
      init_message_template ();
      init_char_classes ();
      fast_path_disabled = g_getenv ("SIPLAB_NO_FAST_PARSE") != NULL;
      g_once_init_leave (&checked, 1);
    }
}

osip_message_t *
sim_message_parse_with_osip (const char  *data,
                             gsize        len,
                             GError     **error)
{
  g_autoptr(osip_message_t) msg = NULL;

  sim_message_init_library ();
  if (!parse_precheck (&data, &len, error))
    return NULL;
  if (osip_message_init (&msg) != 0)
    g_error ("out of memory");
  if (osip_message_parse (msg, data, len) != 0)
    {
      g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_UNPARSABLE,
                   "libosip2 could not parse the message");
      return NULL;
    }
  if (msg->sip_method == NULL && msg->status_code == 0)
    {
      g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_UNPARSABLE, "no start line");
      return NULL;
    }
  return g_steal_pointer (&msg);
}

osip_message_t *
sim_message_parse_fast (const char *data,
                        gsize       len)
{
  sim_message_init_library ();
  check_unsplit_names ();
  if (!parse_precheck (&data, &len, NULL))
    return NULL;
  return parse_fast (data, len);
}

osip_message_t *
sim_message_parse (const char  *data,
                   gsize        len,
                   GError     **error)
{
  const char *text = data;
  gsize text_len = len;

  sim_message_init_library ();
  check_unsplit_names ();
  if (!parse_precheck (&text, &text_len, error))
    return NULL;
  if (!fast_path_disabled)
    {
      osip_message_t *msg = parse_fast (text, text_len);

      if (msg != NULL)
        return msg;
    }
  return sim_message_parse_with_osip (data, len, error);
}

/* Whether the header name @name (@n bytes, any case) is @lname (lower case) or its compact
 * form @compact (RFC 3261 §7.3.3; 0 for none).  Spaces before the colon are already trimmed. */
static gboolean
header_name_is (const char *name,
                gsize       n,
                const char *lname,
                char        compact)
{
  if (n == 1)
    return compact != 0 && g_ascii_tolower (*name) == compact;
  return n == strlen (lname) && g_ascii_strncasecmp (name, lname, n) == 0;
}

/* The name of the header line @line (@len bytes): up to the colon, trailing SP/HT trimmed. */
static gsize
header_name_len (const char *line,
                 gsize       len)
{
  const char *colon = memchr (line, ':', len);
  gsize n;

  if (colon == NULL)
    return 0;
  n = colon - line;
  while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
    n--;
  return n;
}

/* Where Contact values are cut: commas outside quoted strings and <...> (RFC 3261 §20.10). */
typedef struct {
  gboolean in_quotes;
  gboolean escaped;
  gboolean in_angle;
} ContactCut;

static guint
count_contact_commas (ContactCut *cut,
                      const char *p,
                      const char *end)
{
  guint n = 0;

  for (; p < end; p++)
    {
      char c = *p;

      if (cut->in_quotes)
        {
          if (cut->escaped)
            cut->escaped = FALSE;
          else if (c == '\\')
            cut->escaped = TRUE;
          else if (c == '"')
            cut->in_quotes = FALSE;
        }
      else if (cut->in_angle)
        cut->in_angle = c != '>';
      else if (c == '"')
        cut->in_quotes = TRUE;
      else if (c == '<')
        cut->in_angle = TRUE;
      else if (c == ',')
        n++;
    }
  return n;
}

/* The value of a Content-Length line as a number, -1 unless it is digits (SP/HT around); a value
 * above G_MAXINT32 is G_MAXINT32 + 1, more than any message can hold. */
static gint64
content_length_value (const char *p,
                      const char *end)
{
  gint64 value = 0;
  guint n_digits = 0;

  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  for (; p < end && g_ascii_isdigit (*p); p++, n_digits++)
    if (value <= G_MAXINT32)
      value = value * 10 + (*p - '0');
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  return n_digits > 0 && p == end ? MIN (value, (gint64) G_MAXINT32 + 1) : -1;
}

const char *
sim_message_line_end (const char  *p,
                      const char  *end,
                      const char **next)
{
  const char *eol = p;

  while (eol < end && *eol != '\r' && *eol != '\n')
    eol++;
  if (next != NULL)
    {
      if (eol == end)
        *next = end;
      else if (*eol == '\r' && eol + 1 < end && eol[1] == '\n')
        *next = eol + 2;
      else
        *next = eol + 1;
    }
  return eol;
}

gboolean
sim_message_scan (const char      *data,
                  gsize            len,
                  SimMessageScan  *scan,
                  GError         **error)
{
  const char *p = data, *end = data + len;
  gboolean first = TRUE, in_contact = FALSE, over = FALSE;
  ContactCut cut = { FALSE, };

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (scan != NULL, FALSE);

  memset (scan, 0, sizeof *scan);
  scan->content_length = -1;
  scan->body_offset = len;
  /* RFC 3261 §7.5: CRLFs before the start line are ignored. */
  while (p < end && (*p == '\r' || *p == '\n'))
    p++;
  scan->is_response = end - p >= 4 && memcmp (p, "SIP/", 4) == 0;

  /*
   * After a cap is exceeded the pass goes on (it stays linear): where the body starts and what
   * the Content-Length says are still needed to step over the message on a stream.
   */
  while (p < end)
    {
      const char *next;
      const char *eol = sim_message_line_end (p, end, &next);
      gsize line_len = eol - p;

      if (!first && line_len == 0 && eol < end)
        {
          scan->has_blank_line = TRUE;
          scan->body_offset = next - data;
          break;
        }
      scan->longest_line = MAX (scan->longest_line, line_len);
      if (line_len > SIM_MESSAGE_MAX_LINE_LENGTH && !over)
        {
          g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_TOO_LARGE,
                       "a line of %" G_GSIZE_FORMAT " bytes is longer than %d", line_len,
                       SIM_MESSAGE_MAX_LINE_LENGTH);
          over = TRUE;
        }
      if (!first)
        {
          if (++scan->n_header_lines > SIM_MESSAGE_MAX_HEADER_LINES && !over)
            {
              g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_TOO_LARGE,
                           "more than %d header lines", SIM_MESSAGE_MAX_HEADER_LINES);
              over = TRUE;
            }
          if (*p == ' ' || *p == '\t')
            {
              /* A folded continuation (RFC 3261 §7.3.1) belongs to the header above. */
              if (in_contact)
                scan->n_contacts += count_contact_commas (&cut, p, eol);
            }
          else
            {
              gsize name_len = header_name_len (p, line_len);
              /* The value starts after the colon, past any SP/HT between the name and it. */
              const char *value = name_len > 0 ? (const char *) memchr (p, ':', line_len) + 1 : eol;

              in_contact = header_name_is (p, name_len, "contact", 'm');
              if (in_contact)
                {
                  memset (&cut, 0, sizeof cut);
                  scan->n_contacts += 1 + count_contact_commas (&cut, value, eol);
                }
              else if (header_name_is (p, name_len, "content-length", 'l'))
                {
                  gint64 value_n = content_length_value (value, eol);

                  /* Two that differ (or one unreadable) leave no length every reader agrees on. */
                  if (scan->n_content_lengths++ == 0)
                    scan->content_length = value_n;
                  else if (value_n != scan->content_length)
                    scan->content_length = -1;
                }
            }
          if (scan->n_contacts > SIM_MESSAGE_MAX_CONTACTS && !over)
            {
              g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_TOO_LARGE,
                           "more than %d Contact values", SIM_MESSAGE_MAX_CONTACTS);
              over = TRUE;
            }
        }
      first = FALSE;
      p = next;
    }
  return !over;
}

osip_message_t *
sim_message_parse_essentials (const char  *data,
                              gsize        len,
                              GError     **error)
{
  g_autoptr(GString) text = NULL;
  const char *p = data, *end = data + len;
  gsize method_len;
  guint n_lines = 0;
  gboolean keep = FALSE;

  sim_message_init_library ();
  check_unsplit_names ();
  while (p < end && (*p == '\r' || *p == '\n'))
    p++;
  for (method_len = 0; p + method_len < end && is_token_char (p[method_len]); method_len++)
    if (method_len >= 32)
      break;
  if (method_len == 0 || method_len >= 32 || p + method_len >= end || p[method_len] != ' ')
    {
      g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_UNPARSABLE, "no request line");
      return NULL;
    }
  text = g_string_sized_new (1024);
  g_string_append_len (text, p, method_len);
  g_string_append (text, " sip:invalid SIP/2.0\r\n");

  sim_message_line_end (p, end, &p);
  while (p < end)
    {
      const char *next;
      const char *eol = sim_message_line_end (p, end, &next);

      if (eol == p)
        break;
      if (*p != ' ' && *p != '\t')
        {
          gsize name_len = header_name_len (p, eol - p);

          keep = header_name_is (p, name_len, "via", 'v') ||
                 header_name_is (p, name_len, "from", 'f') ||
                 header_name_is (p, name_len, "to", 't') ||
                 header_name_is (p, name_len, "call-id", 'i') ||
                 header_name_is (p, name_len, "cseq", 0);
        }
      if (keep)
        {
          if ((gsize) (eol - p) > SIM_MESSAGE_MAX_LINE_LENGTH ||
              ++n_lines > SIM_MESSAGE_MAX_HEADER_LINES)
            {
              g_set_error (error, SIM_MESSAGE_ERROR, SIM_MESSAGE_ERROR_TOO_LARGE,
                           "the headers a response copies are too large to copy");
              return NULL;
            }
          g_string_append_len (text, p, eol - p);
          g_string_append (text, "\r\n");
        }
      p = next;
    }
  g_string_append (text, "Content-Length: 0\r\n\r\n");
  return sim_message_parse (text->str, text->len, error);
}

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

/*
 * libosip2 stores the names of headers it does not parse itself in lower case and writes them
 * back as "Max-forwards".  Names are case-insensitive (RFC 3261 §7.3.1), but students read
 * these messages: write the usual spelling.  Same length, so the fix is made in place.
 */
#define SPELLING(name) { name, sizeof (name) - 1 }
static const struct {
  const char *name;
  gsize len;
} header_spellings[] = {
  SPELLING ("Max-Forwards"), SPELLING ("User-Agent"), SPELLING ("Min-Expires"),
  SPELLING ("Expires"), SPELLING ("Date"), SPELLING ("Allow"), SPELLING ("Supported"),
  SPELLING ("Require"), SPELLING ("Unsupported"), SPELLING ("Retry-After"), SPELLING ("Server"),
  SPELLING ("Timestamp"), SPELLING ("Organization"), SPELLING ("Subject"), SPELLING ("Accept"),
  SPELLING ("Priority"), SPELLING ("Warning"), SPELLING ("Reply-To"), SPELLING ("In-Reply-To"),
  SPELLING ("Path"), SPELLING ("Event"),
};
#undef SPELLING

/* @name: the first @n bytes of a header line, up to its first ':'. */
static inline void
fix_name_spelling (char  *name,
                   gsize  n)
{
  for (guint i = 0; i < G_N_ELEMENTS (header_spellings); i++)
    if (header_spellings[i].len == n && g_ascii_strncasecmp (name, header_spellings[i].name, n) == 0)
      {
        memcpy (name, header_spellings[i].name, n);
        break;
      }
}

static void
fix_header_spelling (char  *text,
                     gsize  len)
{
  char *line = text;
  char *end = text + len;

  /* Skip the start line, then fix each header name up to the blank line. */
  while ((line = memchr (line, '\n', end - line)) != NULL && ++line < end && *line != '\r' && *line != '\n')
    {
      char *colon = memchr (line, ':', end - line);

      if (colon == NULL)
        break;
      fix_name_spelling (line, colon - line);
    }
}

/* What sim_message_to_string did before it had its own serialiser; still used for what that one
 * leaves to libosip2 (multipart bodies, structures libosip2 itself cannot write). */
static char *
message_to_string_with_osip (osip_message_t *msg,
                             gsize          *len)
{
  char *dest = NULL;
  size_t n = 0;
  char *out;

  osip_message_force_update (msg);
  if (osip_message_to_str (msg, &dest, &n) != 0 || dest == NULL)
    g_error ("libosip2 could not serialise a message");
  out = g_strndup (dest, n);
  osip_free (dest);
  fix_header_spelling (out, n);
  if (len != NULL)
    *len = n;
  return out;
}

/*
 * Our own serialiser.  libosip2's osip_message_to_str builds every header with sprintf into its
 * own malloc'd string and copies it again into the message; this one appends each piece once
 * into a GString.  The output is byte for byte what libosip2 5.3 writes (osip_message_to_str.c,
 * osip_uri.c, osip_via.c, osip_from.c, osip_www_authenticate.c, osip_authorization.c...) followed
 * by fix_header_spelling: same header order, parameters, escaping and Content-Length.
 * tests/test-message.c checks that on every message the scenarios send plus a set of odd ones.
 * Whatever it does not handle itself makes it return FALSE, and the caller uses libosip2.
 */

/*
 * The GString itself lives on the stack around a g_malloc'd buffer: the g_string_* functions only
 * use its public fields, and the buffer is what we return.  Saves allocating and freeing the
 * GString on every message.
 */
static inline void
stack_string_init (GString *out,
                   gsize    size)
{
  out->str = g_malloc (size);
  out->str[0] = '\0';
  out->len = 0;
  out->allocated_len = size;
}

/* Appends without the NUL terminator; sim_message_append_to adds it once at the end. */
static inline void
put_len (GString    *out,
         const char *text,
         gsize       n)
{
  if (G_LIKELY (out->len + n < out->allocated_len))
    {
      memcpy (out->str + out->len, text, n);
      out->len += n;
    }
  else
    g_string_append_len (out, text, n);
}

static inline void
put_str (GString    *out,
         const char *text)
{
  put_len (out, text, strlen (text));
}

#define put_lit(out, literal) put_len ((out), "" literal, sizeof (literal) - 1)

static inline void
put_c (GString *out,
       char     c)
{
  if (G_LIKELY (out->len + 1 < out->allocated_len))
    out->str[out->len++] = c;
  else
    g_string_append_c (out, c);
}

/* Walks an osip_list_t as osip_list_get_first/_next do; the loops in libosip2 also stop at the
 * first NULL element. */
typedef struct {
  const __node_t *node;
  int pos;
  int n;
} ListIter;

static inline void *
list_first (ListIter          *it,
            const osip_list_t *list)
{
  it->n = list->nb_elt;
  it->pos = 0;
  it->node = list->nb_elt > 0 ? list->node : NULL;
  return it->node != NULL ? it->node->element : NULL;
}

static inline void *
list_next (ListIter *it)
{
  if (it->node == NULL)
    return NULL;
  it->node = it->node->next;
  if (it->node == NULL || ++it->pos >= it->n)
    {
      it->node = NULL;
      return NULL;
    }
  return it->node->element;
}

/* osip_uri.c: the characters besides [A-Za-z0-9] each part of a URI leaves unescaped. */
static const char uri_user_unreserved[] = "-_.!~*'()&=+$,;?/";
static const char uri_password_unreserved[] = "-_.!~*'()&=+$,";
static const char uri_param_unreserved[] = "-_.!~*'()[]/:&+$";
static const char uri_header_unreserved[] = "-_.!~*'()[]/?:+$";

/* __osip_uri_escape_nonascii_and_nondef: anything else becomes %XX (upper case). */
static void
put_uri_escaped (GString    *out,
                 const char *text,
                 const char *unreserved)
{
  static const char hex[] = "0123456789ABCDEF";
  const char *run = text;
  const char *p;

  for (p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;
      char escaped[3];

      if (g_ascii_isalnum (c) || (c < 0x80 && strchr (unreserved, c) != NULL))
        continue;
      put_len (out, run, p - run);
      escaped[0] = '%';
      escaped[1] = hex[c >> 4];
      escaped[2] = hex[c & 0xf];
      put_len (out, escaped, 3);
      run = p + 1;
    }
  put_len (out, run, p - run);
}

/* osip_uri_to_str */
static gboolean
put_uri (GString          *out,
         const osip_uri_t *uri)
{
  ListIter it;
  const osip_uri_param_t *param;

  if (uri->host == NULL && uri->string == NULL)
    return FALSE;
  if (uri->string != NULL)
    {
      /* Not a SIP URI (tel:, http:...): kept as it came. */
      if (uri->scheme == NULL)
        return FALSE;
      put_str (out, uri->scheme);
      put_c (out, ':');
      put_str (out, uri->string);
      return TRUE;
    }

  if (uri->scheme != NULL)
    put_str (out, uri->scheme);
  else
    put_lit (out, "sip");
  put_c (out, ':');
  if (uri->username != NULL)
    {
      put_uri_escaped (out, uri->username, uri_user_unreserved);
      if (uri->password != NULL)
        {
          put_c (out, ':');
          put_uri_escaped (out, uri->password, uri_password_unreserved);
        }
      put_c (out, '@');
    }
  if (strchr (uri->host, ':') != NULL)
    {
      put_c (out, '[');
      put_str (out, uri->host);
      put_c (out, ']');
    }
  else
    put_str (out, uri->host);
  if (uri->port != NULL)
    {
      put_c (out, ':');
      put_str (out, uri->port);
    }

  for (param = list_first (&it, &uri->url_params); param != NULL; param = list_next (&it))
    {
      if (param->gname == NULL)
        return FALSE;
      /* eXosip's internal parameters: libosip2 never writes them. */
      if ((param->gname[0] == 'x' || param->gname[0] == 'X') &&
          (g_ascii_strcasecmp (param->gname, "x-obr") == 0 || g_ascii_strcasecmp (param->gname, "x-obp") == 0))
        continue;
      put_c (out, ';');
      put_uri_escaped (out, param->gname, uri_param_unreserved);
      if (param->gvalue != NULL)
        {
          put_c (out, '=');
          put_uri_escaped (out, param->gvalue, uri_param_unreserved);
        }
    }

  for (param = list_first (&it, &uri->url_headers); param != NULL; param = list_next (&it))
    {
      if (param->gname == NULL || param->gvalue == NULL)
        return FALSE;
      put_c (out, it.pos == 0 ? '?' : '&');
      put_uri_escaped (out, param->gname, uri_header_unreserved);
      put_c (out, '=');
      put_uri_escaped (out, param->gvalue, uri_header_unreserved);
    }
  return TRUE;
}

/* ";name=value" or ";name", unescaped: Via, From, To, Contact, Route, Record-Route. */
static gboolean
put_generic_params (GString           *out,
                    const osip_list_t *params)
{
  ListIter it;
  const osip_generic_param_t *param;

  for (param = list_first (&it, params); param != NULL; param = list_next (&it))
    {
      if (param->gname == NULL)
        return FALSE;
      put_c (out, ';');
      put_str (out, param->gname);
      if (param->gvalue != NULL)
        {
          put_c (out, '=');
          put_str (out, param->gvalue);
        }
    }
  return TRUE;
}

/* osip_via_to_str */
static gboolean
put_via (GString          *out,
         const osip_via_t *via)
{
  if (via->host == NULL || via->version == NULL || via->protocol == NULL)
    return FALSE;
  put_lit (out, "SIP/");
  put_str (out, via->version);
  put_c (out, '/');
  put_str (out, via->protocol);
  put_c (out, ' ');
  if (strchr (via->host, ':') != NULL)
    {
      put_c (out, '[');
      put_str (out, via->host);
      put_c (out, ']');
    }
  else
    put_str (out, via->host);
  if (via->port != NULL)
    {
      put_c (out, ':');
      put_str (out, via->port);
    }
  if (!put_generic_params (out, &via->via_params))
    return FALSE;
  if (via->comment != NULL)
    {
      put_lit (out, " (");
      put_str (out, via->comment);
      put_c (out, ')');
    }
  return TRUE;
}

/* osip_from_to_str, and osip_record_route_to_str (the same text) for To, Route, Record-Route. */
static gboolean
put_name_addr (GString           *out,
               const osip_from_t *from)
{
  if (from->url == NULL)
    return FALSE;
  if (from->displayname != NULL)
    {
      put_str (out, from->displayname);
      put_lit (out, " <");
    }
  else
    put_c (out, '<');
  if (!put_uri (out, from->url))
    return FALSE;
  put_c (out, '>');
  return put_generic_params (out, &from->gen_params);
}

/* osip_contact_to_str: "Contact: *" is kept in the display name. */
static gboolean
put_contact (GString              *out,
             const osip_contact_t *contact)
{
  if (contact->displayname != NULL && contact->displayname[0] == '*')
    {
      put_c (out, '*');
      return TRUE;
    }
  return put_name_addr (out, contact);
}

typedef struct {
  const char *label;
  gsize len;
  gsize offset;
} AuthField;

#define AUTH_FIELD(label, type, field) { label, sizeof (label) - 1, G_STRUCT_OFFSET (type, field) }

static inline const char *
auth_field_value (const void      *header,
                  const AuthField *field)
{
  return *(char *const *) ((const guint8 *) header + field->offset);
}

/* osip_www_authenticate_to_str, for WWW-Authenticate and Proxy-Authenticate.  Fields it does
 * not know (auth_param) are not written. */
static const AuthField challenge_fields[] = {
  AUTH_FIELD (", domain=", osip_www_authenticate_t, domain),
  AUTH_FIELD (", nonce=", osip_www_authenticate_t, nonce),
  AUTH_FIELD (", opaque=", osip_www_authenticate_t, opaque),
  AUTH_FIELD (", stale=", osip_www_authenticate_t, stale),
  AUTH_FIELD (", algorithm=", osip_www_authenticate_t, algorithm),
  AUTH_FIELD (", qop=", osip_www_authenticate_t, qop_options),
  AUTH_FIELD (", version=", osip_www_authenticate_t, version),
  AUTH_FIELD (", targetname=", osip_www_authenticate_t, targetname),
  AUTH_FIELD (", gssapi-data=", osip_www_authenticate_t, gssapi_data),
};

static gboolean
put_challenge (GString                       *out,
               const osip_www_authenticate_t *challenge)
{
  gsize type_end;

  if (challenge->auth_type == NULL)
    return FALSE;
  put_str (out, challenge->auth_type);
  type_end = out->len;
  if (challenge->realm != NULL)
    {
      put_lit (out, " realm=");
      put_str (out, challenge->realm);
    }
  for (guint i = 0; i < G_N_ELEMENTS (challenge_fields); i++)
    {
      const char *value = auth_field_value (challenge, &challenge_fields[i]);

      if (value != NULL)
        {
          put_len (out, challenge_fields[i].label, challenge_fields[i].len);
          put_str (out, value);
        }
    }
  /* Without a realm libosip2 turns the comma after the scheme into a space ("Digest  nonce="). */
  if (challenge->realm == NULL && type_end < out->len && out->str[type_end] == ',')
    out->str[type_end] = ' ';
  return TRUE;
}

/* osip_authorization_to_str, for Authorization and Proxy-Authorization. */
static const AuthField credentials_fields[] = {
  AUTH_FIELD (" username=", osip_authorization_t, username),
  AUTH_FIELD (" realm=", osip_authorization_t, realm),
  AUTH_FIELD (" nonce=", osip_authorization_t, nonce),
  AUTH_FIELD (" uri=", osip_authorization_t, uri),
  AUTH_FIELD (" response=", osip_authorization_t, response),
  AUTH_FIELD (" digest=", osip_authorization_t, digest),
  AUTH_FIELD (" algorithm=", osip_authorization_t, algorithm),
  AUTH_FIELD (" cnonce=", osip_authorization_t, cnonce),
  AUTH_FIELD (" opaque=", osip_authorization_t, opaque),
  AUTH_FIELD (" qop=", osip_authorization_t, message_qop),
  AUTH_FIELD (" nc=", osip_authorization_t, nonce_count),
  AUTH_FIELD (" version=", osip_authorization_t, version),
  AUTH_FIELD (" targetname=", osip_authorization_t, targetname),
  AUTH_FIELD (" gssapi-data=", osip_authorization_t, gssapi_data),
  AUTH_FIELD (" crand=", osip_authorization_t, crand),
  AUTH_FIELD (" cnum=", osip_authorization_t, cnum),
};

#undef AUTH_FIELD

static gboolean
put_credentials (GString                    *out,
                 const osip_authorization_t *credentials)
{
  gboolean first = TRUE;

  if (credentials->auth_type == NULL)
    return FALSE;
  put_str (out, credentials->auth_type);
  for (guint i = 0; i < G_N_ELEMENTS (credentials_fields); i++)
    {
      const char *value = auth_field_value (credentials, &credentials_fields[i]);

      if (value != NULL)
        {
          if (!first)
            put_c (out, ',');
          first = FALSE;
          put_len (out, credentials_fields[i].label, credentials_fields[i].len);
          put_str (out, value);
        }
    }
  return TRUE;
}

/* osip_call_id_to_str */
static gboolean
put_call_id (GString              *out,
             const osip_call_id_t *call_id)
{
  if (call_id->number == NULL)
    return FALSE;
  put_str (out, call_id->number);
  if (call_id->host != NULL)
    {
      put_c (out, '@');
      put_str (out, call_id->host);
    }
  return TRUE;
}

/* osip_cseq_to_str */
static gboolean
put_cseq (GString           *out,
          const osip_cseq_t *cseq)
{
  if (cseq->number == NULL || cseq->method == NULL)
    return FALSE;
  put_str (out, cseq->number);
  put_c (out, ' ');
  put_str (out, cseq->method);
  return TRUE;
}

typedef gboolean (*PutHeaderFunc) (GString *out, const void *header);
typedef int (*OsipToStrFunc) (const void *header, char **dest);

/*
 * The header table of _osip_message_to_str, in its order.  Each header is written by our own
 * function when the kind is common, else by libosip2's own *_to_str (rare kinds: one malloc more).
 * Single headers are at @single_offset (a pointer in osip_message_t), lists at @list_offset.
 */
typedef struct {
  const char *name;
  gsize name_len;
  gssize single_offset;
  gssize list_offset;
  PutHeaderFunc put;
  OsipToStrFunc to_str;
} HeaderKind;

#define SINGLE(name, field, put, to_str) \
  { name, sizeof (name) - 1, G_STRUCT_OFFSET (osip_message_t, field), -1, (PutHeaderFunc) (put), (OsipToStrFunc) (to_str) }
#define LIST(name, field, put, to_str) \
  { name, sizeof (name) - 1, -1, G_STRUCT_OFFSET (osip_message_t, field), (PutHeaderFunc) (put), (OsipToStrFunc) (to_str) }

static const HeaderKind header_kinds[] = {
  LIST ("Via: ", vias, put_via, NULL),
  LIST ("Record-Route: ", record_routes, put_name_addr, NULL),
  LIST ("Route: ", routes, put_name_addr, NULL),
  SINGLE ("From: ", from, put_name_addr, NULL),
  SINGLE ("To: ", to, put_name_addr, NULL),
  SINGLE ("Call-ID: ", call_id, put_call_id, NULL),
  SINGLE ("CSeq: ", cseq, put_cseq, NULL),
  LIST ("Contact: ", contacts, put_contact, NULL),
  LIST ("Authorization: ", authorizations, put_credentials, NULL),
  LIST ("WWW-Authenticate: ", www_authenticates, put_challenge, NULL),
  LIST ("Proxy-Authenticate: ", proxy_authenticates, put_challenge, NULL),
  LIST ("Proxy-Authorization: ", proxy_authorizations, put_credentials, NULL),
  LIST ("Call-Info: ", call_infos, NULL, osip_call_info_to_str),
  SINGLE ("Content-Type: ", content_type, NULL, osip_content_type_to_str),
  /* Sic: libosip2 writes Mime-Version with osip_content_length_to_str. */
  SINGLE ("Mime-Version: ", mime_version, NULL, osip_content_length_to_str),
  LIST ("Allow: ", allows, NULL, osip_allow_to_str),
  LIST ("Content-Encoding: ", content_encodings, NULL, osip_content_encoding_to_str),
  LIST ("Alert-Info: ", alert_infos, NULL, osip_call_info_to_str),
  LIST ("Error-Info: ", error_infos, NULL, osip_call_info_to_str),
  LIST ("Accept: ", accepts, NULL, osip_accept_to_str),
  LIST ("Accept-Encoding: ", accept_encodings, NULL, osip_accept_encoding_to_str),
  LIST ("Accept-Language: ", accept_languages, NULL, osip_accept_language_to_str),
  LIST ("Authentication-Info: ", authentication_infos, NULL, osip_authentication_info_to_str),
  LIST ("Proxy-Authentication-Info: ", proxy_authentication_infos, NULL, osip_authentication_info_to_str),
};

#undef SINGLE
#undef LIST

static gboolean
put_header_value (GString          *out,
                  const HeaderKind *kind,
                  const void       *header)
{
  char *text = NULL;

  if (kind->put != NULL)
    return kind->put (out, header);
  if (kind->to_str (header, &text) != 0 || text == NULL)
    return FALSE;
  put_str (out, text);
  osip_free (text);
  return TRUE;
}

/* __osip_message_startline_to_str */
static gboolean
put_start_line (GString              *out,
                const osip_message_t *msg)
{
  if (msg->sip_method != NULL)
    {
      if (msg->req_uri == NULL || msg->sip_version == NULL)
        return FALSE;
      put_str (out, msg->sip_method);
      put_c (out, ' ');
      if (!put_uri (out, msg->req_uri))
        return FALSE;
      put_c (out, ' ');
      put_str (out, msg->sip_version);
    }
  else
    {
      char code[3];

      if (msg->sip_version == NULL || msg->reason_phrase == NULL ||
          msg->status_code < 100 || msg->status_code > 699)
        return FALSE;
      put_str (out, msg->sip_version);
      put_c (out, ' ');
      code[0] = '0' + msg->status_code / 100;
      code[1] = '0' + msg->status_code / 10 % 10;
      code[2] = '0' + msg->status_code % 10;
      put_len (out, code, 3);
      put_c (out, ' ');
      put_str (out, msg->reason_phrase);
    }
  put_lit (out, "\r\n");
  return TRUE;
}

/* osip_header_to_str, then fix_header_spelling on the line. */
static gboolean
put_other_header (GString             *out,
                  const osip_header_t *header)
{
  gsize line = out->len;
  gsize name_len;
  const char *colon;

  /* fix_header_spelling stops at a line starting with CR: leave that to the reference path. */
  if (header->hname == NULL || header->hname[0] == '\r')
    return FALSE;
  name_len = strlen (header->hname);
  put_len (out, header->hname, name_len);
  put_lit (out, ": ");
  if (header->hvalue != NULL)
    put_str (out, header->hvalue);
  put_lit (out, "\r\n");

  if (out->str[line] >= 'a' && out->str[line] <= 'z')
    out->str[line] -= 'a' - 'A';
  colon = memchr (header->hname, ':', name_len);
  fix_name_spelling (out->str + line, colon != NULL ? (gsize) (colon - header->hname) : name_len);
  return TRUE;
}

static gboolean
put_bodies (GString              *out,
            const osip_message_t *msg,
            gsize                *headers_end)
{
  ListIter it;
  const osip_body_t *body;
  gsize length_at, start;
  gsize size;

  /* Multipart (a boundary between parts) only with Mime-Version: left to libosip2. */
  if (msg->mime_version != NULL)
    return FALSE;

  put_lit (out, "Content-Length: ");
  length_at = out->len;
  put_lit (out, "     \r\n\r\n");
  start = *headers_end = out->len;

  for (body = list_first (&it, &msg->bodies); body != NULL; body = list_next (&it))
    {
      if (body->body == NULL || body->headers == NULL || body->length == 0)
        return FALSE;
      if (body->content_type != NULL || !osip_list_eol (body->headers, 0))
        {
          char *text = NULL;
          size_t text_len = 0;

          if (osip_body_to_str (body, &text, &text_len) != 0 || text == NULL)
            return FALSE;
          put_len (out, text, text_len);
          osip_free (text);
        }
      else
        put_len (out, body->body, body->length);
    }

  /*
   * libosip2 right-aligns the length in the five spaces it left.  A body with a NUL would be cut
   * there by the g_strndup of the reference path: leave both to it.
   */
  size = out->len - start;
  if (size > 99999 || memchr (out->str + start, '\0', size) != NULL)
    return FALSE;
  for (char *digit = out->str + length_at + 4; ; digit--)
    {
      *digit = '0' + size % 10;
      size /= 10;
      if (size == 0)
        break;
    }
  return TRUE;
}

gboolean
sim_message_append_to (GString        *out,
                       osip_message_t *msg)
{
  gsize start = out->len;
  gsize headers_end;
  guint n_lines = 0, n_line_feeds = 0;
  const char *p;

  if (!put_start_line (out, msg))
    goto fail;
  n_lines++;

  for (guint k = 0; k < G_N_ELEMENTS (header_kinds); k++)
    {
      const HeaderKind *kind = &header_kinds[k];

      if (kind->single_offset >= 0)
        {
          const void *header = G_STRUCT_MEMBER (const void *, msg, kind->single_offset);

          if (header == NULL)
            continue;
          put_len (out, kind->name, kind->name_len);
          if (!put_header_value (out, kind, header))
            goto fail;
          put_lit (out, "\r\n");
          n_lines++;
        }
      else
        {
          const osip_list_t *list = &G_STRUCT_MEMBER (osip_list_t, msg, kind->list_offset);
          ListIter it;

          for (const void *header = list_first (&it, list); header != NULL; header = list_next (&it))
            {
              put_len (out, kind->name, kind->name_len);
              if (!put_header_value (out, kind, header))
                goto fail;
              put_lit (out, "\r\n");
              n_lines++;
            }
        }
    }

  {
    ListIter it;

    for (const osip_header_t *header = list_first (&it, &msg->headers); header != NULL;
         header = list_next (&it))
      {
        if (!put_other_header (out, header))
          goto fail;
        n_lines++;
      }
  }

  /* Content-Length is always recomputed. */
  if (osip_list_eol (&msg->bodies, 0))
    {
      put_lit (out, "Content-Length: 0\r\n\r\n");
      headers_end = out->len;
    }
  else
    {
      if (!put_bodies (out, msg, &headers_end))
        goto fail;
    }
  n_lines += 2;

  /*
   * The spelling fix above went header by header; fix_header_spelling goes line by line.  They
   * agree unless a field holds a line feed: count them.
   */
  for (p = out->str + start; (p = memchr (p, '\n', out->str + headers_end - p)) != NULL; p++)
    n_line_feeds++;
  if (n_line_feeds != n_lines)
    goto fail;

  out->str[out->len] = '\0';
  return TRUE;

fail:
  g_string_truncate (out, start);
  return FALSE;
}

char *
sim_message_to_string (osip_message_t *msg,
                       gsize          *len)
{
  GString out;

  stack_string_init (&out, 1024);
  if (!sim_message_append_to (&out, msg))
    {
      g_free (out.str);
      return message_to_string_with_osip (msg, len);
    }
  if (len != NULL)
    *len = out.len;
  return out.str;
}

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

osip_message_t *
sim_message_new_response (const osip_message_t *request,
                          int                   status,
                          const char           *reason,
                          const char           *to_tag)
{
  osip_message_t *response = NULL;
  osip_generic_param_t *tag = NULL;

  g_return_val_if_fail (request != NULL && request->sip_method != NULL, NULL);

  osip_message_init (&response);
  osip_message_set_version (response, osip_strdup ("SIP/2.0"));
  osip_message_set_status_code (response, status);
  osip_message_set_reason_phrase (response,
                                  osip_strdup (reason ? reason : sim_message_reason_phrase (status)));

  for (int pos = 0; !osip_list_eol (&request->vias, pos); pos++)
    {
      osip_via_t *via = osip_list_get (&request->vias, pos), *copy = NULL;
      osip_via_clone (via, &copy);
      osip_list_add (&response->vias, copy, -1);
    }
  osip_from_clone (request->from, &response->from);
  osip_to_clone (request->to, &response->to);
  osip_call_id_clone (request->call_id, &response->call_id);
  osip_cseq_clone (request->cseq, &response->cseq);

  /* RFC 3261 §8.2.6.2: a UAS adds a To tag, except to a 100 Trying. */
  if (status > 100 && to_tag != NULL && response->to != NULL &&
      (osip_to_get_tag (response->to, &tag) != 0 || tag == NULL))
    osip_to_set_tag (response->to, osip_strdup (to_tag));

  osip_message_set_content_length (response, "0");
  return response;
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
sim_uri_to_string (const osip_uri_t *uri)
{
  GString out;
  char *dest = NULL;
  char *text;

  if (uri == NULL)
    return NULL;
  /* Same text as osip_uri_to_str (see put_uri); what put_uri leaves is left to libosip2. */
  stack_string_init (&out, 128);
  if (put_uri (&out, uri))
    {
      out.str[out.len] = '\0';
      return out.str;
    }
  g_free (out.str);
  if (osip_uri_to_str (uri, &dest) != 0 || dest == NULL)
    return NULL;
  text = g_strdup (dest);
  osip_free (dest);
  return text;
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
    return -1;
  value = g_strstrip (g_strdup (raw));
  if (*value == '\0' || strspn (value, "0123456789") != strlen (value))
    return -2;
  /* RFC 3261 §20.19: delta-seconds; larger values are treated as 2^32-1. */
  if (strlen (value) > 10 || !g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, &n, NULL))
    return G_MAXUINT32;
  return (gint64) MIN (n, G_MAXUINT32);
}

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

char *
sim_random_token (GRand *rand,
                  guint  n_chars)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  char *token = g_malloc (n_chars + 1);

  for (guint i = 0; i < n_chars; i++)
    token[i] = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
  token[n_chars] = '\0';
  return token;
}

char *
sim_random_branch (GRand *rand)
{
  g_autofree char *token = sim_random_token (rand, 10);
  return g_strconcat ("z9hG4bK", token, NULL);
}

gboolean
sim_uri_to_addr (const osip_uri_t *uri,
                 SimAddr          *addr)
{
  osip_uri_param_t *transport = NULL;
  guint64 port = 5060;

  if (uri == NULL || uri->host == NULL || *uri->host == '\0')
    return FALSE;
  if (uri->port != NULL && !g_ascii_string_to_unsigned (uri->port, 10, 1, 65535, &port, NULL))
    return FALSE;
  sim_addr_init (addr, uri->host, (guint16) port, SIM_TRANSPORT_UDP);
  if (osip_uri_param_get_byname ((osip_list_t *) &uri->url_params, (char *) "transport", &transport) == 0 &&
      transport != NULL && transport->gvalue != NULL && g_ascii_strcasecmp (transport->gvalue, "tcp") == 0)
    addr->transport = SIM_TRANSPORT_TCP;
  return TRUE;
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
