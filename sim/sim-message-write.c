/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * osip_message_t to text: sim_message_to_string, sim_message_append_to, sim_uri_to_string.
 *
 * Our own serialiser.  libosip2's osip_message_to_str builds every header with sprintf into its
 * own malloc'd string and copies it again into the message; this one appends each piece once
 * into a GString.  The output is byte for byte what libosip2 5.3 writes (osip_message_to_str.c,
 * osip_uri.c, osip_via.c, osip_from.c, osip_www_authenticate.c, osip_authorization.c...) followed
 * by fix_header_spelling: same header order, parameters, escaping and Content-Length.
 * tests/test-message.c checks that on every message the scenarios send plus a set of odd ones.
 * Whatever it does not handle itself makes it return FALSE, and the caller uses libosip2.
 */
#include "sim-message-private.h"

#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Header spellings, and libosip2 for what we do not write                                  */

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

/* ---------------------------------------------------------------------------------------- */
/* Appending to a GString                                                                   */

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

/* ---------------------------------------------------------------------------------------- */
/* URIs and header values                                                                   */

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

/* ---------------------------------------------------------------------------------------- */
/* The message                                                                              */

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

/*
 * Counts the line feeds of @out from @start: sim_message_append_to's check that no field it
 * wrote from a structure held a line feed of its own.
 */
static guint
count_line_feeds (const GString *out,
                  gsize          start)
{
  guint n = 0;

  for (const char *p = out->str + start; (p = memchr (p, '\n', out->str + out->len - p)) != NULL;
       p++)
    n++;
  return n;
}

static gboolean written_responses = TRUE;
static gint n_written_responses;

void
_sim_message_set_written_responses (gboolean enabled)
{
  written_responses = enabled;
}

guint
_sim_message_get_n_written_responses (void)
{
  return (guint) g_atomic_int_get (&n_written_responses);
}

gboolean
sim_message_append_response (GString              *out,
                             const osip_message_t *request,
                             int                   status,
                             const char           *reason,
                             const char           *to_tag,
                             const char           *extra,
                             gsize                 extra_len)
{
  gsize start = out->len;
  guint n_lines = 0;
  osip_generic_param_t *tag = NULL;
  ListIter it;
  char code[3];

  g_return_val_if_fail (request != NULL, FALSE);

  if (!written_responses || request->from == NULL || request->to == NULL || request->call_id == NULL ||
      request->cseq == NULL || status < 100 || status > 699)
    return FALSE;
  /* The caller adds a tag only to a To without one (response_finish's rule). */
  if (to_tag != NULL && osip_to_get_tag (request->to, &tag) == 0 && tag != NULL)
    return FALSE;

  /* response_new */
  put_lit (out, "SIP/2.0 ");
  code[0] = '0' + status / 100;
  code[1] = '0' + status / 10 % 10;
  code[2] = '0' + status % 10;
  put_len (out, code, 3);
  put_c (out, ' ');
  put_str (out, reason != NULL ? reason : sim_message_reason_phrase (status));
  put_lit (out, "\r\n");
  n_lines++;

  for (const osip_via_t *via = list_first (&it, &request->vias); via != NULL;
       via = list_next (&it))
    {
      put_lit (out, "Via: ");
      if (!put_via (out, via))
        goto fail;
      put_lit (out, "\r\n");
      n_lines++;
    }
  put_lit (out, "From: ");
  if (!put_name_addr (out, request->from))
    goto fail;
  put_lit (out, "\r\nTo: ");
  if (!put_name_addr (out, request->to))
    goto fail;
  /* osip_to_set_tag appends the parameter after the others. */
  if (to_tag != NULL)
    {
      put_lit (out, ";tag=");
      put_str (out, to_tag);
    }
  put_lit (out, "\r\nCall-ID: ");
  if (!put_call_id (out, request->call_id))
    goto fail;
  put_lit (out, "\r\nCSeq: ");
  if (!put_cseq (out, request->cseq))
    goto fail;
  put_lit (out, "\r\n");
  n_lines += 4;
  if (count_line_feeds (out, start) != n_lines)
    goto fail;

  put_len (out, extra, extra_len);
  put_lit (out, "Content-Length: 0\r\n\r\n");
  out->str[out->len] = '\0';
  g_atomic_int_inc (&n_written_responses);
  return TRUE;

fail:
  g_string_truncate (out, start);
  return FALSE;
}

gboolean
_sim_message_append_uri (GString          *out,
                         const osip_uri_t *uri)
{
  gsize start = out->len;

  if (put_uri (out, uri))
    {
      /* put_len leaves room for the NUL, and a GString is always terminated. */
      out->str[out->len] = '\0';
      return TRUE;
    }
  g_string_truncate (out, start);
  return FALSE;
}

gboolean
_sim_message_append_challenge (GString                       *out,
                               const osip_www_authenticate_t *challenge)
{
  gsize start = out->len;

  if (put_challenge (out, challenge))
    {
      /* put_len leaves room for the NUL, and a GString is always terminated. */
      out->str[out->len] = '\0';
      return TRUE;
    }
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


/* ---------------------------------------------------------------------------------------- */
/* URIs on their own                                                                        */

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
