/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target for the TCP framing (sim-framing.c): an arbitrary byte stream is fed to a
 * SimFramer whole and again in pieces, and the invariants that make a stream safe to serve
 * are checked:
 *
 * - the same stream gives the same messages, pongs and error however it is cut;
 * - every message is a copy of the input at the framer's consumed offset, and what was skipped
 *   before it (and before each pong) is CRLF keep-alives only, so the messages plus keep-alives
 *   are exactly a prefix of the input;
 * - every message is at most max_message long, starts with a start line and carries the body
 *   its Content-Length names; waiting never holds max_message bytes or more.
 *
 * Input layout: byte 0 picks max_message (0: 65535, else 16 + 4 * byte), bytes 1-4 seed the
 * cut points (pieces of 1 to 64 bytes, or byte by byte when byte 1 is 0), the rest is the
 * stream.
 *
 * Build (clang only): see tests/fuzz/README.md; ninja -C _build-fuzz tests/fuzz/fuzz-framing.
 */
#define _GNU_SOURCE   /* memmem(3) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim-framing.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
  GPtrArray *messages;     /* GBytes */
  guint pongs;
  gboolean failed;
  SimFramerError error;
} Outcome;

#define CHECK(cond) \
  G_STMT_START { if (!(cond)) { g_printerr ("invariant failed: %s\n", #cond); abort (); } } G_STMT_END

/* Everything in @skipped is "\r\n" pairs (keep-alives), optionally closed by a ping. */
static gboolean
only_keep_alives (const uint8_t *skipped,
                  gsize          len)
{
  if (len % 2 != 0)
    return FALSE;
  for (gsize i = 0; i < len; i += 2)
    if (skipped[i] != '\r' || skipped[i + 1] != '\n')
      return FALSE;
  return TRUE;
}

static void
drain (SimFramer     *framer,
       const uint8_t *stream,
       gsize          fed,
       gsize          max_message,
       guint64       *seen,
       Outcome       *o)
{
  while (!o->failed)
    {
      const char *msg = NULL;
      gsize len = 0;
      SimFramerError error;
      SimFramerResult result = sim_framer_next (framer, &msg, &len, &error);
      guint64 consumed = sim_framer_get_consumed (framer);

      CHECK (consumed >= *seen && consumed <= fed);
      switch (result)
        {
        case SIM_FRAMER_NEED_MORE:
          /* Lone CRLF keep-alives are skipped without a result. */
          CHECK (only_keep_alives (stream + *seen, consumed - *seen));
          *seen = consumed;
          CHECK (sim_framer_get_buffered (framer) == fed - consumed);
          CHECK (sim_framer_get_buffered (framer) < max_message ||
                 sim_framer_get_buffered (framer) < 4);
          return;

        case SIM_FRAMER_PONG:
          CHECK (consumed - *seen >= 4);
          CHECK (only_keep_alives (stream + *seen, consumed - *seen));
          CHECK (memcmp (stream + consumed - 4, "\r\n\r\n", 4) == 0);
          o->pongs++;
          break;

        case SIM_FRAMER_MESSAGE:
          CHECK (len > 0 && len <= max_message && consumed - *seen >= len);
          CHECK (memcmp (msg, stream + consumed - len, len) == 0);
          CHECK (only_keep_alives (stream + *seen, consumed - len - *seen));
          CHECK (memmem (msg, len, "\r\n\r\n", 4) != NULL);   /* NULs and all */
          CHECK (msg[0] != '\r' || msg[1] != '\n');
          g_ptr_array_add (o->messages, g_bytes_new (msg, len));
          break;

        case SIM_FRAMER_ERROR:
        default:
          CHECK (result == SIM_FRAMER_ERROR);
          CHECK (error != SIM_FRAMER_ERROR_NONE);
          CHECK (only_keep_alives (stream + *seen, consumed - *seen));
          CHECK (!sim_framer_in_message (framer));
          /* Final: asking again gives the same. */
          CHECK (sim_framer_next (framer, NULL, NULL, NULL) == SIM_FRAMER_ERROR);
          o->failed = TRUE;
          o->error = error;
          return;
        }
      *seen = consumed;
    }
}

static guint32
next_random (guint32 *state)
{
  /* xorshift32: cut points that depend only on the input. */
  *state ^= *state << 13;
  *state ^= *state >> 17;
  *state ^= *state << 5;
  return *state;
}

static void
run (const uint8_t *stream,
     gsize          len,
     gsize          max_message,
     guint32        seed,
     gboolean       whole,
     Outcome       *o)
{
  SimFramer *framer = sim_framer_new (max_message);
  guint64 seen = 0;
  gsize at = 0;

  o->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  while (at < len && !o->failed)
    {
      gsize piece = len - at;

      if (!whole)
        {
          /* MIN() evaluates its arguments twice: draw once. */
          gsize cut = seed == 0 ? 1 : 1 + next_random (&seed) % 64;
          piece = MIN (piece, cut);
        }
      sim_framer_push (framer, stream + at, piece);
      at += piece;
      drain (framer, stream, at, max_message, &seen, o);
    }
  sim_framer_free (framer);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Outcome whole = { NULL, };
  Outcome pieces = { NULL, };
  gsize max_message;
  guint32 seed;

  if (size < 5)
    return 0;
  max_message = data[0] == 0 ? 65535 : 16 + 4 * (gsize) data[0];
  seed = (guint32) data[1] << 24 | (guint32) data[2] << 16 | (guint32) data[3] << 8 | data[4];
  if (data[1] == 0)
    seed = 0;
  else if (seed == 0)
    seed = 1;
  data += 5;
  size -= 5;

  run (data, size, max_message, 0, TRUE, &whole);
  run (data, size, max_message, seed, FALSE, &pieces);

  CHECK (whole.failed == pieces.failed);
  CHECK (whole.error == pieces.error);
  CHECK (whole.pongs == pieces.pongs);
  CHECK (whole.messages->len == pieces.messages->len);
  for (guint i = 0; i < whole.messages->len; i++)
    CHECK (g_bytes_equal (whole.messages->pdata[i], pieces.messages->pdata[i]));

  g_ptr_array_unref (whole.messages);
  g_ptr_array_unref (pieces.messages);
  return 0;
}
