/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Deep comparison of two osip_message_t, field by field: the fast path of sim_message_parse
 * against libosip2's osip_message_parse.  Shared by tests/test-message.c and fuzz-parse.c;
 * a difference aborts (g_error / g_assert).
 */
#pragma once

#include <string.h>

#include "sim-message-private.h"

#define STR_EQ(a, b, what) \
  do { if (g_strcmp0 ((a), (b)) != 0) g_error ("%s differs: '%s' vs '%s'", (what), (a) ? (a) : "(null)", (b) ? (b) : "(null)"); } while (0)

static void
assert_params_equal (const osip_list_t *a,
                     const osip_list_t *b,
                     const char        *what)
{
  g_assert_cmpint (osip_list_size (a), ==, osip_list_size (b));
  for (int i = 0; i < osip_list_size (a); i++)
    {
      const osip_generic_param_t *pa = osip_list_get (a, i), *pb = osip_list_get (b, i);
      g_assert_true ((pa == NULL) == (pb == NULL));
      if (pa == NULL)
        continue;
      STR_EQ (pa->gname, pb->gname, what);
      STR_EQ (pa->gvalue, pb->gvalue, what);
    }
}

static void
assert_uris_equal (const osip_uri_t *a,
                   const osip_uri_t *b)
{
  g_assert_true ((a == NULL) == (b == NULL));
  if (a == NULL)
    return;
  STR_EQ (a->scheme, b->scheme, "uri scheme");
  STR_EQ (a->username, b->username, "uri username");
  STR_EQ (a->password, b->password, "uri password");
  STR_EQ (a->host, b->host, "uri host");
  STR_EQ (a->port, b->port, "uri port");
  STR_EQ (a->string, b->string, "uri string");
  assert_params_equal (&a->url_params, &b->url_params, "uri param");
  assert_params_equal (&a->url_headers, &b->url_headers, "uri header");
}

static void
assert_name_addrs_equal (const osip_from_t *a,
                         const osip_from_t *b)
{
  g_assert_true ((a == NULL) == (b == NULL));
  if (a == NULL)
    return;
  STR_EQ (a->displayname, b->displayname, "display name");
  assert_uris_equal (a->url, b->url);
  assert_params_equal (&a->gen_params, &b->gen_params, "name-addr param");
}

static void
assert_vias_equal (const osip_via_t *a,
                   const osip_via_t *b)
{
  STR_EQ (a->version, b->version, "via version");
  STR_EQ (a->protocol, b->protocol, "via protocol");
  STR_EQ (a->host, b->host, "via host");
  STR_EQ (a->port, b->port, "via port");
  STR_EQ (a->comment, b->comment, "via comment");
  assert_params_equal (&a->via_params, &b->via_params, "via param");
}

/* Every char * field of a structure made only of strings (authorization, challenges...). */
static void
assert_string_structs_equal (const void *a,
                             const void *b,
                             gsize       size,
                             const char *what)
{
  for (gsize off = 0; off + sizeof (char *) <= size; off += sizeof (char *))
    STR_EQ (*(char *const *) ((const guint8 *) a + off), *(char *const *) ((const guint8 *) b + off), what);
}

typedef int (*ToStrFunc) (const void *, char **);

/* Lists of kinds we do not compare field by field: their texts, element by element. */
static void
assert_lists_equal_as_text (const osip_list_t *a,
                            const osip_list_t *b,
                            ToStrFunc          to_str,
                            const char        *what)
{
  g_assert_cmpint (osip_list_size (a), ==, osip_list_size (b));
  for (int i = 0; i < osip_list_size (a); i++)
    {
      char *ta = NULL, *tb = NULL;
      int ra = to_str (osip_list_get (a, i), &ta), rb = to_str (osip_list_get (b, i), &tb);

      g_assert_cmpint (ra, ==, rb);
      STR_EQ (ta, tb, what);
      osip_free (ta);
      osip_free (tb);
    }
}

static void
assert_messages_equal (const osip_message_t *a,
                       const osip_message_t *b)
{
  STR_EQ (a->sip_version, b->sip_version, "version");
  assert_uris_equal (a->req_uri, b->req_uri);
  STR_EQ (a->sip_method, b->sip_method, "method");
  g_assert_cmpint (a->status_code, ==, b->status_code);
  STR_EQ (a->reason_phrase, b->reason_phrase, "reason");

  assert_lists_equal_as_text (&a->accepts, &b->accepts, (ToStrFunc) osip_accept_to_str, "accept");
  assert_lists_equal_as_text (&a->accept_encodings, &b->accept_encodings, (ToStrFunc) osip_accept_encoding_to_str, "accept-encoding");
  assert_lists_equal_as_text (&a->accept_languages, &b->accept_languages, (ToStrFunc) osip_accept_language_to_str, "accept-language");
  assert_lists_equal_as_text (&a->alert_infos, &b->alert_infos, (ToStrFunc) osip_call_info_to_str, "alert-info");
  assert_lists_equal_as_text (&a->allows, &b->allows, (ToStrFunc) osip_allow_to_str, "allow");
  assert_lists_equal_as_text (&a->authentication_infos, &b->authentication_infos, (ToStrFunc) osip_authentication_info_to_str, "authentication-info");
  assert_lists_equal_as_text (&a->proxy_authentication_infos, &b->proxy_authentication_infos, (ToStrFunc) osip_authentication_info_to_str, "proxy-authentication-info");
  assert_lists_equal_as_text (&a->call_infos, &b->call_infos, (ToStrFunc) osip_call_info_to_str, "call-info");
  assert_lists_equal_as_text (&a->error_infos, &b->error_infos, (ToStrFunc) osip_call_info_to_str, "error-info");
  assert_lists_equal_as_text (&a->content_encodings, &b->content_encodings, (ToStrFunc) osip_content_encoding_to_str, "content-encoding");

  g_assert_cmpint (osip_list_size (&a->authorizations), ==, osip_list_size (&b->authorizations));
  for (int i = 0; i < osip_list_size (&a->authorizations); i++)
    assert_string_structs_equal (osip_list_get (&a->authorizations, i), osip_list_get (&b->authorizations, i),
                                 sizeof (osip_authorization_t), "authorization");
  g_assert_cmpint (osip_list_size (&a->proxy_authorizations), ==, osip_list_size (&b->proxy_authorizations));
  for (int i = 0; i < osip_list_size (&a->proxy_authorizations); i++)
    assert_string_structs_equal (osip_list_get (&a->proxy_authorizations, i), osip_list_get (&b->proxy_authorizations, i),
                                 sizeof (osip_authorization_t), "proxy-authorization");
  g_assert_cmpint (osip_list_size (&a->www_authenticates), ==, osip_list_size (&b->www_authenticates));
  for (int i = 0; i < osip_list_size (&a->www_authenticates); i++)
    assert_string_structs_equal (osip_list_get (&a->www_authenticates, i), osip_list_get (&b->www_authenticates, i),
                                 sizeof (osip_www_authenticate_t), "www-authenticate");
  g_assert_cmpint (osip_list_size (&a->proxy_authenticates), ==, osip_list_size (&b->proxy_authenticates));
  for (int i = 0; i < osip_list_size (&a->proxy_authenticates); i++)
    assert_string_structs_equal (osip_list_get (&a->proxy_authenticates, i), osip_list_get (&b->proxy_authenticates, i),
                                 sizeof (osip_www_authenticate_t), "proxy-authenticate");

  g_assert_true ((a->call_id == NULL) == (b->call_id == NULL));
  if (a->call_id != NULL)
    {
      STR_EQ (a->call_id->number, b->call_id->number, "call-id number");
      STR_EQ (a->call_id->host, b->call_id->host, "call-id host");
    }
  g_assert_true ((a->cseq == NULL) == (b->cseq == NULL));
  if (a->cseq != NULL)
    {
      STR_EQ (a->cseq->number, b->cseq->number, "cseq number");
      STR_EQ (a->cseq->method, b->cseq->method, "cseq method");
    }
  g_assert_true ((a->content_length == NULL) == (b->content_length == NULL));
  if (a->content_length != NULL)
    STR_EQ (a->content_length->value, b->content_length->value, "content-length");
  g_assert_true ((a->mime_version == NULL) == (b->mime_version == NULL));
  if (a->mime_version != NULL)
    STR_EQ (a->mime_version->value, b->mime_version->value, "mime-version");
  g_assert_true ((a->content_type == NULL) == (b->content_type == NULL));
  if (a->content_type != NULL)
    {
      STR_EQ (a->content_type->type, b->content_type->type, "content-type type");
      STR_EQ (a->content_type->subtype, b->content_type->subtype, "content-type subtype");
      assert_params_equal (&a->content_type->gen_params, &b->content_type->gen_params, "content-type param");
    }

  assert_name_addrs_equal (a->from, b->from);
  assert_name_addrs_equal (a->to, b->to);
  {
    const osip_list_t *la[] = { &a->contacts, &a->routes, &a->record_routes };
    const osip_list_t *lb[] = { &b->contacts, &b->routes, &b->record_routes };

    for (guint k = 0; k < G_N_ELEMENTS (la); k++)
      {
        g_assert_cmpint (osip_list_size (la[k]), ==, osip_list_size (lb[k]));
        for (int i = 0; i < osip_list_size (la[k]); i++)
          assert_name_addrs_equal (osip_list_get (la[k], i), osip_list_get (lb[k], i));
      }
  }
  g_assert_cmpint (osip_list_size (&a->vias), ==, osip_list_size (&b->vias));
  for (int i = 0; i < osip_list_size (&a->vias); i++)
    assert_vias_equal (osip_list_get (&a->vias, i), osip_list_get (&b->vias, i));

  g_assert_cmpint (osip_list_size (&a->headers), ==, osip_list_size (&b->headers));
  for (int i = 0; i < osip_list_size (&a->headers); i++)
    {
      const osip_header_t *ha = osip_list_get (&a->headers, i), *hb = osip_list_get (&b->headers, i);
      STR_EQ (ha->hname, hb->hname, "header name");
      STR_EQ (ha->hvalue, hb->hvalue, "header value");
    }

  g_assert_cmpint (osip_list_size (&a->bodies), ==, osip_list_size (&b->bodies));
  for (int i = 0; i < osip_list_size (&a->bodies); i++)
    {
      const osip_body_t *ba = osip_list_get (&a->bodies, i), *bb = osip_list_get (&b->bodies, i);
      g_assert_cmpmem (ba->body, ba->length, bb->body, bb->length);
      g_assert_true ((ba->content_type == NULL) == (bb->content_type == NULL));
      g_assert_true ((ba->headers == NULL) == (bb->headers == NULL));
      if (ba->headers != NULL)
        g_assert_cmpint (osip_list_size (ba->headers), ==, osip_list_size (bb->headers));
    }

  g_assert_cmpint (a->message_property, ==, b->message_property);
  g_assert_cmpuint (a->message_length, ==, b->message_length);
  g_assert_true ((a->message == NULL) == (b->message == NULL));
  if (a->message != NULL)
    g_assert_cmpmem (a->message, a->message_length, b->message, b->message_length);
  g_assert_true (a->application_data == b->application_data);
}

/* libosip2's own text for @msg, NULL (length 0) where it cannot write it.  Free with osip_free. */
static char *
parse_compare_osip_text (osip_message_t *msg,
                         size_t         *len)
{
  char *dest = NULL;

  *len = 0;
  osip_message_force_update (msg);
  if (osip_message_to_str (msg, &dest, len) != 0 || dest == NULL)
    {
      osip_free (dest);
      *len = 0;
      return NULL;
    }
  return dest;
}

typedef enum {
  PARSE_PATHS_REJECTED,      /* libosip2 refuses it, and so does sim_message_parse */
  PARSE_PATHS_OSIP,          /* accepted; the fast path declined, libosip2 parsed it */
  PARSE_PATHS_FAST,          /* accepted by the fast path */
} ParsePaths;

/*
 * @text through the fast path, through libosip2 alone and through sim_message_parse: the same
 * acceptance and error, equal structures, and equal texts from both serialisers.  Aborts on a
 * difference.  With @fast_out, a message the fast path built is handed over.
 */
static ParsePaths
parse_compare_paths (const char      *text,
                     gsize            len,
                     osip_message_t **fast_out)
{
  g_autoptr(GError) reference_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(osip_message_t) reference = _sim_message_parse_with_osip (text, len, &reference_error);
  g_autoptr(osip_message_t) fast = _sim_message_parse_fast (text, len);
  g_autoptr(osip_message_t) parsed = sim_message_parse (text, len, &error);

  g_assert_true ((reference == NULL) == (parsed == NULL));
  if (reference == NULL)
    {
      if (fast != NULL)
        g_error ("fast path accepted what libosip2 rejects:\n%.*s", (int) len, text);
      g_assert_error (error, reference_error->domain, reference_error->code);
      g_assert_cmpstr (error->message, ==, reference_error->message);
      return PARSE_PATHS_REJECTED;
    }
  g_assert_no_error (error);
  assert_messages_equal (parsed, reference);
  if (fast == NULL)
    return PARSE_PATHS_OSIP;
  assert_messages_equal (fast, reference);
  {
    size_t fast_len, reference_len;
    char *fast_text = parse_compare_osip_text (fast, &fast_len);
    char *reference_text = parse_compare_osip_text (reference, &reference_len);
    gboolean writable = reference_text != NULL;

    g_assert_cmpmem (fast_text, fast_len, reference_text, reference_len);
    osip_free (fast_text);
    osip_free (reference_text);
    /* sim_message_to_string falls back on libosip2, which aborts where it cannot write. */
    if (writable)
      {
        gsize a_len = 0, b_len = 0;
        g_autofree char *a = sim_message_to_string (fast, &a_len);
        g_autofree char *b = sim_message_to_string (reference, &b_len);

        g_assert_cmpmem (a, a_len, b, b_len);
      }
  }
  if (fast_out != NULL)
    *fast_out = g_steal_pointer (&fast);
  return PARSE_PATHS_FAST;
}
