/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Text to osip_message_t: sim_message_parse and sim_message_parse_essentials.
 *
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
#include "sim-message-private.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* The fast path: character classes and plain values                                        */


/* libosip2 exports these (parser.h, not installed); osip_message_set__header uses them. */
int __osip_message_is_known_header (const char *hname);
int __osip_message_call_method (int i, osip_message_t *dest, const char *hvalue);
int __osip_message_is_header_comma_separated (const char *hname);

/* libosip2's message_property after any of its setters: the message changed, so that
 * osip_message_to_str builds its text again (osip_message_force_update sets the same). */
#define MESSAGE_PROPERTY_CHANGED 2

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
      /* parse_plain_uri reads a host with one span of user characters. */
      g_assert (!(char_classes[c] & CHAR_URI_HOST) || (char_classes[c] & CHAR_URI_USER));
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

  /*
   * Every span the fast path reads ends at a character of no class: the NUL that ends a value
   * or the request line, or the '>' after a name-addr's URI.  So the class alone stops the
   * loop (it is most of the fast path's reading); the check keeps that true.
   */
  g_assert (q <= end && !(char_classes[(guchar) *end] & klass));
  while (char_classes[(guchar) *q] & klass)
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
 * ";name=value;flag" parameters with names and values of one character class: URI parameters
 * as osip_uri_parse stores them (CHAR_URI_PARAM, nothing to unescape) and generic parameters
 * as __osip_generic_param_parseall does (CHAR_TOKEN).  scan_params checks them and notes
 * where each one lies, so that add_params builds them without reading the text again (past
 * MAX_PLAIN_PARAMS it reads it again).
 */
#define MAX_PLAIN_PARAMS 8

typedef struct {
  guint n;                     /* parameters seen; only the first MAX_PLAIN_PARAMS noted */
  struct {
    const char *name;
    const char *value;         /* NULL for a flag */
    guint8 name_len;           /* 0 when longer than 255: read again */
    guint8 value_len;
  } at[MAX_PLAIN_PARAMS];
} ParamSpans;

/* [p, end) starts at the first ';'.  FALSE for anything but plain parameters. */
static gboolean
scan_params (const char *p,
             const char *end,
             guint8      klass,
             ParamSpans *spans)
{
  spans->n = 0;
  while (p < end)
    {
      const char *name, *value = NULL;
      gsize n, value_len = 0;

      if (*p != ';')
        return FALSE;
      name = ++p;
      n = span_class (p, end, klass);
      if (n == 0)
        return FALSE;
      p += n;
      if (p < end && *p == '=')
        {
          value = ++p;
          value_len = span_class (p, end, klass);
          if (value_len == 0)
            return FALSE;
          p += value_len;
        }
      if (spans->n < MAX_PLAIN_PARAMS)
        {
          spans->at[spans->n].name = name;
          spans->at[spans->n].value = value;
          spans->at[spans->n].name_len = n <= G_MAXUINT8 && value_len <= G_MAXUINT8 ? n : 0;
          spans->at[spans->n].value_len = value_len;
        }
      spans->n++;
    }
  return TRUE;
}

/* The parameters scan_params (@p, @end, @klass, @spans) checked, added to @list. */
static void
add_params (osip_list_t      *list,
            const char       *p,
            const char       *end,
            guint8            klass,
            const ParamSpans *spans)
{
  guint i;

  for (i = 0; i < spans->n && i < MAX_PLAIN_PARAMS && spans->at[i].name_len > 0; i++)
    {
      const char *value = spans->at[i].value;

      add_param (list, osip_strndup_len (spans->at[i].name, spans->at[i].name_len),
                 value != NULL ? osip_strndup_len (value, spans->at[i].value_len) : NULL);
      p = (value != NULL ? value + spans->at[i].value_len
                         : spans->at[i].name + spans->at[i].name_len);
    }
  /* The rest, if any, from the text. */
  while (p < end)
    {
      const char *name = ++p, *value = NULL;
      gsize name_len = span_class (p, end, klass), value_len = 0;

      p += name_len;
      if (p < end && *p == '=')
        {
          value = ++p;
          value_len = span_class (p, end, klass);
          p += value_len;
        }
      add_param (list, osip_strndup_len (name, name_len),
                 value != NULL ? osip_strndup_len (value, value_len) : NULL);
    }
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
  ParamSpans spans;

  if (end - p < 5 || (p[0] | 0x20) != 's' || (p[1] | 0x20) != 'i' || (p[2] | 0x20) != 'p')
    return FALSE;
  if (p[3] == ':')
    scheme_len = 3;
  else if ((p[3] | 0x20) == 's' && p[4] == ':')
    scheme_len = 4;
  else
    return FALSE;
  p += scheme_len + 1;

  /*
   * user@host, or a host alone.  Host characters are user characters too, and ':', ';' and '@'
   * are neither, so one span of user characters tells them apart: followed by '@' it is the
   * user, otherwise it is read again as host[:port] (anything else after it fails there).
   */
  user_len = span_class (p, end, CHAR_URI_USER);
  if (p + user_len < end && p[user_len] == '@')
    {
      if (user_len == 0)
        return FALSE;
      user = p;
      host = p + user_len + 1;
    }
  else
    host = p;
  p = span_hostport (host, end, &host_len, &port, &port_len);
  if (p == NULL)
    return FALSE;
  params = p;
  /* Check the parameters before building anything. */
  if (params < end && !scan_params (params, end, CHAR_URI_PARAM, &spans))
    return FALSE;

  uri->scheme = osip_strndup_len (scheme, scheme_len);
  if (user != NULL)
    uri->username = osip_strndup_len (user, user_len);
  uri->host = osip_strndup_len (host, host_len);
  if (port != NULL)
    uri->port = osip_strndup_len (port, port_len);
  if (params < end)
    add_params (&uri->url_params, params, end, CHAR_URI_PARAM, &spans);
  return TRUE;
}

/*
 * The length of a plain quoted display name at @value ("Alice Smith" and one space before the
 * '<'; libosip2 keeps it with its quotes), or 0 for anything else: escapes, commas, angle
 * brackets and control characters are left to libosip2.
 */
static gsize
plain_display_name_len (const char *value)
{
  gsize n = 1;

  if (value[0] != '"')
    return 0;
  for (; value[n] != '"'; n++)
    if (value[n] < 0x20 || value[n] > 0x7e || value[n] == '\\' || value[n] == ',' ||
        value[n] == '<' || value[n] == '>')
      return 0;
  if (n < 2 || value[n + 1] != ' ' || value[n + 2] != '<')
    return 0;
  return n + 1;
}

/*
 * osip_from_parse (From, To, Contact) for "<plain URI>;name=value;flag", with or without a
 * plain quoted display name before it (phones send one: "Alice" <sip:alice@lab.example>).
 * NULL for anything else.  [@value, @end) is the value, NUL-terminated at @end, as for the
 * other parse_plain_ functions.
 */
static osip_from_t *
parse_plain_name_addr (const char *value,
                       const char *end)
{
  const char *gt;
  osip_from_t *from = NULL;
  osip_uri_t *uri = NULL;
  gsize display_len = plain_display_name_len (value);
  ParamSpans spans;

  if (display_len > 0)
    value += display_len + 1;
  if (value[0] != '<')
    return NULL;
  gt = memchr (value, '>', end - value);
  if (gt == NULL || gt - value < 8)
    return NULL;
  if (gt + 1 < end && !scan_params (gt + 1, end, CHAR_TOKEN, &spans))
    return NULL;

  osip_uri_init (&uri);
  if (!parse_plain_uri (uri, value + 1, gt))
    {
      osip_uri_free (uri);
      return NULL;
    }
  osip_from_init (&from);
  from->url = uri;
  if (display_len > 0)
    from->displayname = osip_strndup_len (value - display_len - 1, display_len);
  if (gt + 1 < end)
    add_params (&from->gen_params, gt + 1, end, CHAR_TOKEN, &spans);
  return from;
}

/* osip_via_parse for "SIP/2.0/UDP host:port;name=value;flag": no comment, no IPv6. */
static osip_via_t *
parse_plain_via (const char *value,
                 const char *end)
{
  const char *protocol = value + 8, *host, *port = NULL, *params;
  gsize protocol_len = 0, host_len, port_len = 0;
  osip_via_t *via = NULL;
  ParamSpans spans;

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
  if (params < end && !scan_params (params, end, CHAR_TOKEN, &spans))
    return NULL;

  osip_via_init (&via);
  via->version = osip_strndup_len ("2.0", 3);
  via->protocol = osip_strndup_len (protocol, protocol_len);
  via->host = osip_strndup_len (host, host_len);
  if (port != NULL)
    via->port = osip_strndup_len (port, port_len);
  if (params < end)
    add_params (&via->via_params, params, end, CHAR_TOKEN, &spans);
  return via;
}

/*
 * osip_authorization_parse for "Digest name=value, ...": each name one of those it knows, once,
 * in lower case, with a quoted value (no quote, backslash or comma inside) where it keeps the
 * quotes and a token where it takes a token; ',' between them with optional spaces around it.
 * libosip2 stops early on a short remainder: a last field (name=value) of fewer than 6
 * characters is not read (its setters take a remainder under 6 characters for the end of the
 * header), so the fast path declines those ("nc=12", "qop=a"); measured field by field against
 * osip_authorization_parse, and tests/test-message.c checks the edge.  Every REGISTER a phone
 * answers a challenge with ends with "nc=00000001" and takes the fast path.
 */
#define PLAIN_AUTHORIZATION_MIN_LAST_FIELD 6

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
parse_plain_authorization (const char *value,
                           const char *end)
{
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
      /* The first character and the length rule out all but one name, mostly. */
      for (k = 0; k < G_N_ELEMENTS (credential_fields); k++)
        if (credential_fields[k].len == (gsize) (p - name) && credential_fields[k].name[0] == name[0] &&
            memcmp (credential_fields[k].name, name, p - name) == 0)
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
  if (field_start == NULL || end - field_start < PLAIN_AUTHORIZATION_MIN_LAST_FIELD)
    return NULL;

  osip_authorization_init (&auth);
  auth->auth_type = osip_strndup_len (value, type_len);
  for (guint k = 0; k < G_N_ELEMENTS (credential_fields); k++)
    if (found[k].start != NULL)
      G_STRUCT_MEMBER (char *, auth, credential_fields[k].offset) = osip_strndup_len (found[k].start, found[k].len);
  return auth;
}

/* ---------------------------------------------------------------------------------------- */
/* The fast path: header lines and the message                                              */

/*
 * The libosip2 setters the fast path does itself for plain values: osip_message_set_via, _from,
 * _to, _contact, _call_id, _cseq, _content_length, _authorization.  FALSE when the value is not
 * plain or the header is a second one of a kind libosip2 takes once: the caller uses libosip2's.
 * FALSE too for a value libosip2 would cut at its commas (the caller then declines the whole
 * message): the plain Via, From, To and Contact values hold no comma (none of their character
 * classes has it), so only the other four look.  @value is @value_len bytes, NUL-terminated.
 */
static gboolean
set_plain_header (osip_message_t *msg,
                  const char     *lname,
                  gsize           name_len,
                  const char     *value,
                  gsize           value_len)
{
  osip_from_t **single = NULL;
  osip_from_t *from;

  /* A one-letter name is a compact form (RFC 3261 §7.3.3): v Via, i Call-ID, l Content-Length,
   * f From, t To, m Contact. */
  if ((name_len == 3 && memcmp (lname, "via", 3) == 0) || (name_len == 1 && lname[0] == 'v'))
    {
      osip_via_t *via = parse_plain_via (value, value + value_len);

      if (via == NULL)
        return FALSE;
      msg->message_property = MESSAGE_PROPERTY_CHANGED;
      osip_list_add (&msg->vias, via, -1);
      return TRUE;
    }
  if ((name_len == 7 && memcmp (lname, "call-id", 7) == 0) || (name_len == 1 && lname[0] == 'i'))
    {
      /* osip_call_id_parse: "number@host" or "number", cut at the first '@'. */
      const char *at = strchr (value, '@');
      gsize len = value_len;

      if (msg->call_id != NULL || header_is_split (lname, name_len, value, value_len) || strpbrk (value, " \t") != NULL || at == value || (at != NULL && at[1] == '\0'))
        return FALSE;
      osip_call_id_init (&msg->call_id);
      msg->message_property = MESSAGE_PROPERTY_CHANGED;
      msg->call_id->number = osip_strndup_len (value, at != NULL ? (gsize) (at - value) : len);
      if (at != NULL)
        msg->call_id->host = osip_strndup_len (at + 1, value + len - at - 1);
      return TRUE;
    }
  if (name_len == 4 && memcmp (lname, "cseq", 4) == 0)
    {
      /* osip_cseq_parse: number, one space, method. */
      const char *space = strchr (value, ' ');
      gsize len = value_len;

      if (msg->cseq != NULL || header_is_split (lname, name_len, value, value_len) || space == NULL || space == value || strchr (value, '\t') != NULL ||
          strchr (space + 1, ' ') != NULL || space[1] == '\0')
        return FALSE;
      osip_cseq_init (&msg->cseq);
      msg->message_property = MESSAGE_PROPERTY_CHANGED;
      msg->cseq->number = osip_strndup_len (value, space - value);
      msg->cseq->method = osip_strndup_len (space + 1, value + len - space - 1);
      return TRUE;
    }
  if ((name_len == 14 && memcmp (lname, "content-length", 14) == 0) || (name_len == 1 && lname[0] == 'l'))
    {
      /* osip_content_length_parse keeps the text. */
      if (msg->content_length != NULL || header_is_split (lname, name_len, value, value_len))
        return FALSE;
      osip_content_length_init (&msg->content_length);
      msg->message_property = MESSAGE_PROPERTY_CHANGED;
      msg->content_length->value = osip_strndup_len (value, value_len);
      return TRUE;
    }
  if (name_len == 13 && memcmp (lname, "authorization", 13) == 0)
    {
      osip_authorization_t *auth = NULL;

      if (header_is_split (lname, name_len, value, value_len) ||
          (auth = parse_plain_authorization (value, value + value_len)) == NULL)
        return FALSE;
      msg->message_property = MESSAGE_PROPERTY_CHANGED;
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
  from = parse_plain_name_addr (value, value + value_len);
  if (from == NULL)
    return FALSE;
  msg->message_property = MESSAGE_PROPERTY_CHANGED;
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

  /* Each line must end with CRLF, its first CR or LF (sim_message_line_end finds it). */
  eol = (char *) sim_message_line_end (line, end, NULL);
  if (eol == end || *eol != '\r' || eol + 1 >= end || eol[1] != '\n')
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
      eol = (char *) sim_message_line_end (line, end, NULL);
      if (eol == end || *eol != '\r' || eol + 1 >= end || eol[1] != '\n')
        return FALSE;                  /* a bare CR or LF */
      if (eol == line)
        break;                         /* the blank line */
      /* Folding (libosip2 rewrites it first). */
      if (*line == ' ' || *line == '\t')
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

      if (set_plain_header (msg, line, name_len, value, value_end - value))
        continue;
      if (header_is_split (line, name_len, value, value_end - value))
        return FALSE;
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
          msg->message_property = MESSAGE_PROPERTY_CHANGED;
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

/* _sim_message_set_fast_parse (FALSE): tests and benchmarks compare with libosip2 alone. */
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

/* ---------------------------------------------------------------------------------------- */
/* sim_message_parse                                                                        */

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

/* The fast path's tables, and its checks of libosip2, once before its first use. */
static void
fast_path_init (void)
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
      g_once_init_leave (&checked, 1);
    }
}

void
_sim_message_set_fast_parse (gboolean enabled)
{
  fast_path_disabled = !enabled;
}

osip_message_t *
_sim_message_parse_with_osip (const char  *data,
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

osip_via_t *
_sim_message_via_from_text (const char *value)
{
  osip_via_t *via = NULL;

  sim_message_init_library ();
  fast_path_init ();
  if (!fast_path_disabled && (via = parse_plain_via (value, value + strlen (value))) != NULL)
    return via;
  osip_via_init (&via);
  if (osip_via_parse (via, value) != 0)
    {
      osip_via_free (via);
      return NULL;
    }
  return via;
}

int
_sim_message_uri_parse (osip_uri_t *uri,
                        const char *text)
{
  sim_message_init_library ();
  fast_path_init ();
  if (!fast_path_disabled && parse_plain_uri (uri, text, text + strlen (text)))
    return 0;
  return osip_uri_parse (uri, text);
}

osip_message_t *
_sim_message_parse_fast (const char *data,
                         gsize       len)
{
  sim_message_init_library ();
  fast_path_init ();
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
  fast_path_init ();
  if (!parse_precheck (&text, &text_len, error))
    return NULL;
  if (!fast_path_disabled)
    {
      osip_message_t *msg = parse_fast (text, text_len);

      if (msg != NULL)
        return msg;
    }
  return _sim_message_parse_with_osip (data, len, error);
}

/* ---------------------------------------------------------------------------------------- */
/* Only what a response copies                                                              */

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
  fast_path_init ();
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
          gsize name_len = _sim_message_header_name_len (p, eol - p);

          keep = _sim_message_header_name_is (p, name_len, "via", 'v') ||
                 _sim_message_header_name_is (p, name_len, "from", 'f') ||
                 _sim_message_header_name_is (p, name_len, "to", 't') ||
                 _sim_message_header_name_is (p, name_len, "call-id", 'i') ||
                 _sim_message_header_name_is (p, name_len, "cseq", 0);
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
