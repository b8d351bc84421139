/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "sim-framing.h"
#include "sim-message-private.h"

/*
 * SimFramer without sockets: a stream of messages with bodies, keep-alives and compact
 * headers is cut at every byte offset and fed byte by byte, and must always give the same
 * messages; errors are decided on whole lines or the size cap only.
 */

typedef struct {
  GPtrArray *messages;   /* char* */
  guint pongs;
  SimFramerError error;
  gboolean failed;
} Outcome;

static void
outcome_clear (Outcome *o)
{
  g_clear_pointer (&o->messages, g_ptr_array_unref);
}

/* Pulls everything the framer has ready into @o. */
static void
drain (SimFramer *framer,
       Outcome   *o)
{
  for (;;)
    {
      const char *data;
      gsize len;
      SimFramerError error;

      switch (sim_framer_next (framer, &data, &len, &error))
        {
        case SIM_FRAMER_NEED_MORE:
          return;
        case SIM_FRAMER_PONG:
          o->pongs++;
          break;
        case SIM_FRAMER_MESSAGE:
          g_ptr_array_add (o->messages, g_strndup (data, len));
          break;
        case SIM_FRAMER_ERROR:
        default:
          o->failed = TRUE;
          o->error = error;
          return;
        }
    }
}

/* Feeds @text in pieces ending at each offset of @cuts (ascending), then the rest. */
static void
feed (const char  *text,
      gsize        len,
      const gsize *cuts,
      guint        n_cuts,
      gsize        max_message,
      Outcome     *o)
{
  g_autoptr(SimFramer) framer = sim_framer_new (max_message);
  gsize at = 0;

  memset (o, 0, sizeof *o);
  o->messages = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i <= n_cuts && !o->failed; i++)
    {
      gsize end = i < n_cuts ? cuts[i] : len;

      sim_framer_push (framer, (const guint8 *) text + at, end - at);
      at = end;
      drain (framer, o);
    }
}

static void
assert_same (const Outcome *a,
             const Outcome *b)
{
  g_assert_cmpuint (a->messages->len, ==, b->messages->len);
  for (guint i = 0; i < a->messages->len; i++)
    g_assert_cmpstr (a->messages->pdata[i], ==, b->messages->pdata[i]);
  g_assert_cmpuint (a->pongs, ==, b->pongs);
  g_assert_cmpint (a->failed, ==, b->failed);
  g_assert_cmpint (a->error, ==, b->error);
}

static const char *const stream_messages[] = {
  "OPTIONS sip:lab.example SIP/2.0\r\n"
  "Via: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK-1\r\n"
  "Max-Forwards: 70\r\n"
  "From: <sip:alice@lab.example>;tag=1\r\n"
  "To: <sip:lab.example>\r\n"
  "Call-ID: c1\r\n"
  "CSeq: 1 OPTIONS\r\n"
  "Content-Length: 0\r\n\r\n",

  /* A body holding a blank line and a fake start line: only Content-Length decides. */
  "MESSAGE sip:bob@lab.example SIP/2.0\r\n"
  "v: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK-2\r\n"
  "f: <sip:alice@lab.example>;tag=2\r\n"
  "t: <sip:bob@lab.example>\r\n"
  "i: c2\r\n"
  "CSeq: 2 MESSAGE\r\n"
  "c: text/plain\r\n"
  "l: 37\r\n\r\n"
  "hi\r\n\r\nOPTIONS sip:x SIP/2.0\r\nl: 0\r\n\r\n",

  "SIP/2.0 200 OK\r\n"
  "Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-3\r\n"
  "From: <sip:lab.example>;tag=3\r\n"
  "To: <sip:alice@lab.example>;tag=4\r\n"
  "Call-ID: c3\r\n"
  "CSeq: 3 OPTIONS\r\n"
  "content-length  :   5\r\n\r\n"
  "abcde",

  /* Two Content-Length headers that agree are fine. */
  "REGISTER sip:lab.example SIP/2.0\r\n"
  "Via: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK-4\r\n"
  "From: <sip:alice@lab.example>;tag=5\r\n"
  "To: <sip:alice@lab.example>\r\n"
  "Call-ID: c4\r\n"
  "CSeq: 4 REGISTER\r\n"
  "Contact: <sip:alice@10.0.0.5:5060;transport=tcp>\r\n"
  "Content-Length: 3\r\n"
  "L: 3\r\n\r\n"
  "\r\n\r",
};

/* The stream: the messages with keep-alives between them (RFC 5626 §3.5.1). */
static char *
build_stream (guint *n_pongs)
{
  GString *s = g_string_new ("\r\n\r\n");    /* a ping before anything */

  g_string_append (s, stream_messages[0]);
  g_string_append (s, "\r\n");               /* a lone CRLF keep-alive */
  g_string_append (s, stream_messages[1]);
  g_string_append (s, "\r\n\r\n\r\n\r\n");   /* two pings */
  g_string_append (s, stream_messages[2]);
  g_string_append (s, "\r\n\r\n\r\n");       /* a ping and a lone CRLF */
  g_string_append (s, stream_messages[3]);
  g_string_append (s, "\r\n\r\n");           /* a ping at the very end */
  *n_pongs = 5;
  return g_string_free (s, FALSE);
}

static void
assert_stream_outcome (const Outcome *o,
                       guint          n_pongs)
{
  g_assert_false (o->failed);
  g_assert_cmpuint (o->messages->len, ==, G_N_ELEMENTS (stream_messages));
  for (guint i = 0; i < G_N_ELEMENTS (stream_messages); i++)
    g_assert_cmpstr (o->messages->pdata[i], ==, stream_messages[i]);
  g_assert_cmpuint (o->pongs, ==, n_pongs);
}

static void
test_every_split (void)
{
  guint n_pongs;
  g_autofree char *stream = build_stream (&n_pongs);
  gsize len = strlen (stream);
  Outcome whole;

  g_test_summary ("A stream of requests and a response with bodies, compact headers, pings and "
                  "lone CRLFs gives the same messages and pongs whether it arrives whole, cut "
                  "in two at every byte offset, cut in three at many pairs, or byte by byte.");

  feed (stream, len, NULL, 0, 65535, &whole);
  assert_stream_outcome (&whole, n_pongs);

  for (gsize cut = 0; cut <= len; cut++)
    {
      Outcome o;

      feed (stream, len, &cut, 1, 65535, &o);
      assert_same (&o, &whole);
      outcome_clear (&o);
    }
  for (gsize a = 0; a <= len; a += 7)
    for (gsize b = a; b <= len; b += 13)
      {
        gsize cuts[2] = { a, b };
        Outcome o;

        feed (stream, len, cuts, 2, 65535, &o);
        assert_same (&o, &whole);
        outcome_clear (&o);
      }
  {
    g_autofree gsize *cuts = g_new (gsize, len);
    Outcome o;

    for (gsize i = 0; i < len; i++)
      cuts[i] = i;
    feed (stream, len, cuts, (guint) len, 65535, &o);
    assert_same (&o, &whole);
    outcome_clear (&o);
  }
  outcome_clear (&whole);
}

static void
test_many_in_one_segment (void)
{
  g_autoptr(GString) s = g_string_new (NULL);
  g_autoptr(SimFramer) framer = sim_framer_new (65535);
  Outcome o = { g_ptr_array_new_with_free_func (g_free), };
  const guint n = 2000;

  g_test_summary ("Two thousand pipelined messages in one segment all come out, in order.");

  for (guint i = 0; i < n; i++)
    g_string_append (s, stream_messages[i % G_N_ELEMENTS (stream_messages)]);
  sim_framer_push (framer, (const guint8 *) s->str, s->len);
  drain (framer, &o);
  g_assert_false (o.failed);
  g_assert_cmpuint (o.messages->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (o.messages->pdata[i], ==, stream_messages[i % G_N_ELEMENTS (stream_messages)]);
  g_assert_cmpuint (sim_framer_get_buffered (framer), ==, 0);
  g_assert_cmpuint (sim_framer_get_consumed (framer), ==, s->len);
  outcome_clear (&o);
}

static void
test_split_start_line_waits (void)
{
  g_autoptr(SimFramer) framer = sim_framer_new (65535);
  const char *m = stream_messages[0];

  g_test_summary ("A start line cut at byte 20 ('OPTIONS sip:lab.exam') is no error: the framer "
                  "waits for the whole line, and meanwhile a message has begun.");

  sim_framer_push (framer, (const guint8 *) m, 20);
  g_assert_cmpint (sim_framer_next (framer, NULL, NULL, NULL), ==, SIM_FRAMER_NEED_MORE);
  g_assert_true (sim_framer_in_message (framer));
  sim_framer_push (framer, (const guint8 *) m + 20, strlen (m) - 20);
  g_assert_cmpint (sim_framer_next (framer, NULL, NULL, NULL), ==, SIM_FRAMER_MESSAGE);
  g_assert_false (sim_framer_in_message (framer));

  /* Half a ping is a keep-alive waiting, not a message. */
  sim_framer_push (framer, (const guint8 *) "\r\n", 2);
  g_assert_cmpint (sim_framer_next (framer, NULL, NULL, NULL), ==, SIM_FRAMER_NEED_MORE);
  g_assert_false (sim_framer_in_message (framer));
  sim_framer_push (framer, (const guint8 *) "\r\n", 2);
  g_assert_cmpint (sim_framer_next (framer, NULL, NULL, NULL), ==, SIM_FRAMER_PONG);
}

typedef struct {
  const char *text;
  gsize max_message;
  SimFramerError error;   /* NONE: NEED_MORE and no error */
} ErrorCase;

static void
test_errors (void)
{
  g_autofree char *long_line = g_strnfill (600, 'A');
  g_autofree char *long_head = g_strconcat ("OPTIONS sip:x SIP/2.0\r\nX: ", long_line, NULL);
  g_autofree char *big_body = g_strconcat ("OPTIONS sip:x SIP/2.0\r\nl: 600\r\n\r\n", long_line,
                                           NULL);
  const ErrorCase cases[] = {
    { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 65535, SIM_FRAMER_ERROR_NOT_SIP },
    { "OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", 65535, SIM_FRAMER_ERROR_NO_LENGTH },
    { "OPTIONS sip:x SIP/2.0\r\n\r\n", 65535, SIM_FRAMER_ERROR_NO_LENGTH },
    { "OPTIONS sip:x SIP/2.0\r\nl: abc\r\n\r\n", 65535, SIM_FRAMER_ERROR_BAD_LENGTH },
    { "OPTIONS sip:x SIP/2.0\r\nl: -1\r\n\r\n", 65535, SIM_FRAMER_ERROR_BAD_LENGTH },
    { "OPTIONS sip:x SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab", 65535,
      SIM_FRAMER_ERROR_BAD_LENGTH },
    { "OPTIONS sip:x SIP/2.0\r\nl: 99999999999\r\n\r\n", 65535, SIM_FRAMER_ERROR_BAD_LENGTH },
    { "\r\n\rX", 65535, SIM_FRAMER_ERROR_NONE },           /* "\rX" waits for its line */
    { "\r\n\rX\r\n", 65535, SIM_FRAMER_ERROR_NOT_SIP },
    { long_line, 512, SIM_FRAMER_ERROR_HEAD_TOO_LONG },
    { long_head, 512, SIM_FRAMER_ERROR_HEAD_TOO_LONG },
    { big_body, 512, SIM_FRAMER_ERROR_TOO_LARGE },
    { long_line, 65535, SIM_FRAMER_ERROR_NONE },           /* a long line waits for its end */
    { "OPTIONS sip:x SIP/2.0\r\nl: 5\r\n\r\nabc", 65535, SIM_FRAMER_ERROR_NONE },
  };

  g_test_summary ("A stream out of step is an error once a whole line or the size cap says so "
                  "(RFC 3261 §18.3), and the same error whatever the cuts; a prefix of a "
                  "valid message never is.");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = strlen (cases[i].text);
      Outcome whole;

      feed (cases[i].text, len, NULL, 0, cases[i].max_message, &whole);
      g_assert_cmpuint (whole.messages->len, ==, 0);
      g_assert_cmpint (whole.failed, ==, cases[i].error != SIM_FRAMER_ERROR_NONE);
      g_assert_cmpint (whole.error, ==, cases[i].error);
      for (gsize cut = 0; cut <= len; cut++)
        {
          Outcome o;

          feed (cases[i].text, len, &cut, 1, cases[i].max_message, &o);
          assert_same (&o, &whole);
          outcome_clear (&o);
        }
      outcome_clear (&whole);
    }
}

/* The head of a MESSAGE whose framing lines follow: the start line and the usual headers. */
#define SMUGGLE_HEAD \
  "MESSAGE sip:bob@lab.example SIP/2.0\r\n" \
  "Via: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK-s\r\n" \
  "From: <sip:alice@lab.example>;tag=s\r\n" \
  "To: <sip:bob@lab.example>\r\n" \
  "Call-ID: s1\r\n" \
  "CSeq: 1 MESSAGE\r\n" \
  "Content-Type: text/plain\r\n"

typedef struct {
  const char *text;        /* followed by stream_messages[0] in the stream */
  guint n_messages;
  SimFramerError error;
} SmuggleCase;

static void
test_framer_and_parser_agree (void)
{
  const SmuggleCase cases[] = {
    /* A bare LF ends a line for libosip2: "l: 10" is a header, and the body is 10 bytes. */
    { SMUGGLE_HEAD "X: a\nl: 10\r\n\r\n0123456789", 2, SIM_FRAMER_ERROR_NONE },
    /* So does a bare CR. */
    { SMUGGLE_HEAD "X: a\rl: 10\r\n\r\n0123456789", 2, SIM_FRAMER_ERROR_NONE },
    /* "\r\r" is a blank line for libosip2: its body would start at "Content-Length". */
    { SMUGGLE_HEAD "X: a\r\rContent-Length: 10\r\n\r\n0123456789", 0,
      SIM_FRAMER_ERROR_BARE_LINE_END },
    { SMUGGLE_HEAD "X: a\n\nContent-Length: 10\r\n\r\n0123456789", 0,
      SIM_FRAMER_ERROR_BARE_LINE_END },
    /* A second Content-Length behind a bare LF: two values, no length every reader agrees on. */
    { SMUGGLE_HEAD "l: 10\r\nX: a\nContent-Length: 0\r\n\r\n0123456789", 0,
      SIM_FRAMER_ERROR_BAD_LENGTH },
    { SMUGGLE_HEAD "X: a\nl: 10\r\nContent-Length: 0\r\n\r\n0123456789", 0,
      SIM_FRAMER_ERROR_BAD_LENGTH },
  };

  g_test_summary ("Header lines end where libosip2 ends them (CRLF, bare LF, bare CR) for the "
                  "framer too: every message it cuts from a stream has exactly the body the "
                  "parser reads, and a header section the readers could disagree on is refused, "
                  "so nothing can be smuggled inside another message's body.");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strconcat (cases[i].text, stream_messages[0], NULL);
      gsize len = strlen (text);
      Outcome whole;

      g_test_message ("case %u", i);
      feed (text, len, NULL, 0, 65535, &whole);
      g_assert_cmpint (whole.error, ==, cases[i].error);
      g_assert_cmpuint (whole.messages->len, ==, cases[i].n_messages);
      for (guint m = 0; m < whole.messages->len; m++)
        {
          const char *framed = whole.messages->pdata[m];
          const char *body = strstr (framed, "\r\n\r\n") + 4;
          gsize body_len = strlen (body);
          g_autoptr(GError) error = NULL;
          g_autoptr(osip_message_t) msg = _sim_message_parse_with_osip (framed, strlen (framed),
                                                                       &error);
          osip_body_t *parsed_body = NULL;

          g_assert_no_error (error);
          g_assert_nonnull (msg->content_length);
          g_assert_cmpint (atoi (msg->content_length->value), ==, (int) body_len);
          osip_message_get_body (msg, 0, &parsed_body);
          if (body_len > 0)
            {
              g_assert_nonnull (parsed_body);
              g_assert_cmpmem (parsed_body->body, parsed_body->length, body, body_len);
            }
          else
            g_assert_null (parsed_body);
        }
      for (gsize cut = 0; cut <= len; cut++)
        {
          Outcome o;

          feed (text, len, &cut, 1, 65535, &o);
          assert_same (&o, &whole);
          outcome_clear (&o);
        }
      outcome_clear (&whole);
    }
}

static void
test_error_is_final (void)
{
  g_autoptr(SimFramer) framer = sim_framer_new (65535);
  const char *bad = "HELLO\r\n";
  const char *data = NULL;
  gsize len = 0;
  SimFramerError error;

  g_test_summary ("After an error the framer keeps reporting it and shows the offending line.");

  sim_framer_push (framer, (const guint8 *) bad, strlen (bad));
  g_assert_cmpint (sim_framer_next (framer, &data, &len, &error), ==, SIM_FRAMER_ERROR);
  g_assert_cmpint (error, ==, SIM_FRAMER_ERROR_NOT_SIP);
  g_assert_cmpmem (data, len, "HELLO", 5);
  sim_framer_push (framer, (const guint8 *) stream_messages[0], strlen (stream_messages[0]));
  g_assert_cmpint (sim_framer_next (framer, NULL, NULL, NULL), ==, SIM_FRAMER_ERROR);
  g_assert_false (sim_framer_in_message (framer));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sim/framing/every-split-of-a-stream-gives-the-same-messages",
                   test_every_split);
  g_test_add_func ("/sim/framing/many-messages-in-one-segment", test_many_in_one_segment);
  g_test_add_func ("/sim/framing/split-start-line-waits-for-its-end",
                   test_split_start_line_waits);
  g_test_add_func ("/sim/framing/errors-are-decided-on-whole-lines-or-the-cap", test_errors);
  g_test_add_func ("/sim/framing/an-error-is-final", test_error_is_final);
  g_test_add_func ("/sim/framing/the-framer-cuts-messages-where-the-parser-reads-them",
                   test_framer_and_parser_agree);
  return g_test_run ();
}
