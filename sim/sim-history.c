/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-history.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

/*
 * An event is a record of varints and length-prefixed strings (sim-history.h says why).  The
 * time comes first, so that a search by time reads it without decoding the rest.  A string is
 * its length plus one, 0 for NULL, then its bytes; a signed number is zigzag-encoded.
 */

/*
 * Compressed bytes of a full chunk: in the spill file at @offset, or in memory (@bytes) when
 * no spill file could be made.  @len 0: nothing (a chunk with no checkpoint).
 */
typedef struct {
  guint64 offset;
  gsize len;
  GBytes *bytes;
} Blob;

typedef struct {
  guint64 first;            /* index of its first event */
  SimTime first_t;
  guint n;
  gsize size;               /* decompressed */
  Blob packed;              /* raw deflate */
  Blob checkpoint;          /* packed state before its first event; empty: none recorded */
  gsize checkpoint_size;
  Blob records;             /* packed records stamped within it */
  gsize records_size;
} Chunk;

typedef struct {
  GHashTable *nodes;        /* node -> (aor -> GPtrArray of SimBinding*, empty: removed) */
  GHashTable *phones;       /* device -> SimHistoryPhone* */
} State;

enum {
  RECORD_BINDINGS = 1,
  RECORD_PHONE = 2
};

typedef struct {
  guint chunk;
  GBytes *data;
  guint32 *offsets;         /* n + 1: where each record starts, then the end */
} Cached;

struct _SimHistory {
  GObject parent_instance;
  GArray *chunks;           /* Chunk: full and compressed */
  GByteArray *open;         /* the chunk being filled, uncompressed */
  GArray *open_offsets;     /* guint32: where each of its records starts */
  guint64 n_events;
  GQueue cache;             /* Cached*, the most recently read first */
  SimTrace *trace;
  gulong event_handler;
  State *shadow;            /* the state after every record so far */
  GBytes *open_checkpoint;  /* the open chunk's, packed; NULL: empty */
  gsize open_checkpoint_size;
  GByteArray *open_records;
  int spill_fd;             /* the unlinked spill file; -1: none yet, -2: could not make one */
  guint64 spill_end;
  gboolean spill_failed;    /* a write failed: later chunks stay in memory, warned once */
};

G_DEFINE_FINAL_TYPE (SimHistory, sim_history, G_TYPE_OBJECT)

/* ------------------------------------------------------------------------------------------ */
/* Encoding                                                                                   */

static void
put_varint (GByteArray *out,
            guint64     v)
{
  guint8 b[10];
  guint n = 0;

  do
    {
      b[n] = v & 0x7f;
      v >>= 7;
      if (v != 0)
        b[n] |= 0x80;
      n++;
    }
  while (v != 0);
  g_byte_array_append (out, b, n);
}

static void
put_sint (GByteArray *out,
          gint64      v)
{
  put_varint (out, ((guint64) v << 1) ^ (guint64) (v >> 63));
}

static void
put_str (GByteArray *out,
         const char *s)
{
  gsize len;

  if (s == NULL)
    {
      put_varint (out, 0);
      return;
    }
  len = strlen (s);
  put_varint (out, len + 1);
  g_byte_array_append (out, (const guint8 *) s, len);
}

static void
put_addr (GByteArray    *out,
          const SimAddr *addr)
{
  gsize len = strnlen (addr->ip, sizeof addr->ip);

  put_varint (out, len);
  g_byte_array_append (out, (const guint8 *) addr->ip, len);
  put_varint (out, addr->port);
  put_varint (out, addr->transport);
}

static void
encode_event (GByteArray     *out,
              const SimEvent *e)
{
  put_sint (out, e->t);
  put_varint (out, e->type);
  put_str (out, e->action);
  put_str (out, e->node);
  put_str (out, e->from);
  put_str (out, e->to);
  put_addr (out, &e->src);
  put_addr (out, &e->dst);
  put_str (out, e->raw);
  put_str (out, e->first_line);
  put_str (out, e->call_id);
  put_str (out, e->cseq);
  put_str (out, e->method);
  put_sint (out, e->status);
  put_str (out, e->branch);
  put_varint (out, e->tls ? 1 : 0);
  put_varint (out, e->wire_len);
  put_str (out, e->aor);
  put_str (out, e->contact);
  put_sint (out, e->expires);
  put_str (out, e->nonce);
  put_str (out, e->user);
  put_str (out, e->algorithm);
  put_str (out, e->name);
  put_sint (out, e->duration);
  put_str (out, e->reason);
  put_str (out, e->text);
}

/* ------------------------------------------------------------------------------------------ */
/* Decoding: our own bytes, so a short read is a bug, not an attack; it still stops at the end */

typedef struct {
  const guint8 *p;
  const guint8 *end;
} Reader;

static guint64
get_varint (Reader *r)
{
  guint64 v = 0;
  guint shift = 0;

  while (r->p < r->end && shift < 64)
    {
      guint8 b = *r->p++;

      v |= (guint64) (b & 0x7f) << shift;
      if (!(b & 0x80))
        return v;
      shift += 7;
    }
  g_critical ("SimHistory: a record ends early");
  return 0;
}

static gint64
get_sint (Reader *r)
{
  guint64 v = get_varint (r);

  return (gint64) (v >> 1) ^ -(gint64) (v & 1);
}

static char *
get_str (Reader *r)
{
  guint64 n = get_varint (r);
  char *s;

  if (n == 0)
    return NULL;
  n--;
  if (n > (guint64) (r->end - r->p))
    {
      g_critical ("SimHistory: a string runs past its record");
      n = r->end - r->p;
    }
  s = g_strndup ((const char *) r->p, n);
  r->p += n;
  return s;
}

static void
get_addr (Reader  *r,
          SimAddr *addr)
{
  guint64 n = get_varint (r);

  memset (addr, 0, sizeof *addr);
  n = MIN (n, MIN (sizeof addr->ip - 1, (guint64) (r->end - r->p)));
  memcpy (addr->ip, r->p, n);
  r->p += n;
  addr->port = get_varint (r);
  addr->transport = get_varint (r);
}

static void
skip_str (Reader *r)
{
  guint64 n = get_varint (r);

  if (n > 0)
    r->p += MIN (n - 1, (guint64) (r->end - r->p));
}

static void
skip_addr (Reader *r)
{
  guint64 n = get_varint (r);

  r->p += MIN (n, (guint64) (r->end - r->p));
  get_varint (r);
  get_varint (r);
}

/*
 * Steps over an event without building it, field by field as encode_event() wrote them:
 * finding where each event of a chunk starts would otherwise build 4,096 events that are
 * thrown away, a good part of a seek's reading.
 */
static void
skip_event (Reader *r)
{
  get_varint (r);                       /* t */
  get_varint (r);                       /* type */
  for (guint i = 0; i < 4; i++)         /* action, node, from, to */
    skip_str (r);
  skip_addr (r);
  skip_addr (r);
  for (guint i = 0; i < 5; i++)         /* raw, first_line, call_id, cseq, method */
    skip_str (r);
  get_varint (r);                       /* status */
  skip_str (r);                         /* branch */
  get_varint (r);                       /* tls */
  get_varint (r);                       /* wire_len */
  skip_str (r);                         /* aor */
  skip_str (r);                         /* contact */
  get_varint (r);                       /* expires */
  for (guint i = 0; i < 4; i++)         /* nonce, user, algorithm, name */
    skip_str (r);
  get_varint (r);                       /* duration */
  skip_str (r);                         /* reason */
  skip_str (r);                         /* text */
}

static SimEvent *
decode_event (Reader *r)
{
  SimTime t = get_sint (r);
  SimEventType type = get_varint (r);
  g_autofree char *action = get_str (r);
  SimEvent *e = sim_event_new (type, action);

  e->t = t;
  e->node = get_str (r);
  e->from = get_str (r);
  e->to = get_str (r);
  get_addr (r, &e->src);
  get_addr (r, &e->dst);
  e->raw = get_str (r);
  e->first_line = get_str (r);
  e->call_id = get_str (r);
  e->cseq = get_str (r);
  e->method = get_str (r);
  e->status = get_sint (r);
  e->branch = get_str (r);
  e->tls = get_varint (r) != 0;
  e->wire_len = get_varint (r);
  e->aor = get_str (r);
  e->contact = get_str (r);
  e->expires = get_sint (r);
  e->nonce = get_str (r);
  e->user = get_str (r);
  e->algorithm = get_str (r);
  e->name = get_str (r);
  e->duration = get_sint (r);
  e->reason = get_str (r);
  e->text = get_str (r);
  return e;
}

/* ------------------------------------------------------------------------------------------ */
/* Compression                                                                                */

static GBytes *
convert_all (GConverter   *converter,
             const guint8 *data,
             gsize         len,
             gsize         size_hint)
{
  g_autoptr(GByteArray) out = g_byte_array_sized_new (size_hint);
  gsize in = 0, used = 0;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gsize read = 0, written = 0;
      GConverterResult result;

      if (out->len - used < 4096)
        g_byte_array_set_size (out, MAX (out->len * 2, used + 65536));
      result = g_converter_convert (converter, data + in, len - in, out->data + used,
                                    out->len - used, G_CONVERTER_INPUT_AT_END, &read, &written,
                                    &error);
      in += read;
      used += written;
      if (result == G_CONVERTER_FINISHED)
        break;
      if (result == G_CONVERTER_ERROR &&
          !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
        {
          g_critical ("SimHistory: zlib: %s", error->message);
          break;
        }
    }
  /* Exactly what was written: a byte array keeps its capacity, and a chunk's compressed bytes
   * are a fifth of the estimate a GByteArray grows from. */
  return g_bytes_new_take (g_realloc (g_byte_array_free (g_steal_pointer (&out), FALSE), used),
                           used);
}

/* Level 1: a 3600x run emits thousands of events a second, and level 1 already finds the
 * repetition that matters (the same headers in every message). */
static GBytes *
pack (const guint8 *data,
      gsize         len)
{
  g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, 1);

  return convert_all (G_CONVERTER (z), data, len, len / 4 + 64);
}

static GBytes *
unpack (GBytes *packed,
        gsize   size)
{
  g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  gsize len;
  const guint8 *data;

  if (packed == NULL)
    return g_bytes_new (NULL, 0);
  data = g_bytes_get_data (packed, &len);
  return convert_all (G_CONVERTER (z), data, len, size + 64);
}

/* ------------------------------------------------------------------------------------------ */
/* The spill file (sim-history.h): full chunks leave memory                                   */

static int
spill_fd (SimHistory *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  int fd;

  if (self->spill_fd != -1)
    return self->spill_fd;
  fd = g_file_open_tmp ("siplab-history-XXXXXX", &path, &error);
  if (fd < 0)
    {
      g_warning ("SimHistory: no spill file, the history stays in memory: %s", error->message);
      self->spill_fd = -2;
      return -2;
    }
  /* Unlinked at once: nothing is left behind however the process ends, and no other process
   * finds it by name. */
  g_unlink (path);
  fcntl (fd, F_SETFD, FD_CLOEXEC);
  self->spill_fd = fd;
  self->spill_end = 0;
  return fd;
}

static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         len,
           guint64       offset)
{
  while (len > 0)
    {
      ssize_t n = pwrite (fd, data, len, offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= n;
      offset += n;
    }
  return TRUE;
}

/* Stores @packed (taken) in the spill file, or keeps it in memory when it cannot be written. */
static Blob
blob_store (SimHistory *self,
            GBytes     *packed)
{
  Blob blob = { 0 };
  gsize len;
  const guint8 *data;
  int fd;

  if (packed == NULL)
    return blob;
  data = g_bytes_get_data (packed, &len);
  blob.len = len;
  fd = self->spill_failed ? -2 : spill_fd (self);
  if (fd >= 0 && write_all (fd, data, len, self->spill_end))
    {
      blob.offset = self->spill_end;
      self->spill_end += len;
      g_bytes_unref (packed);
      return blob;
    }
  if (fd >= 0)
    {
      /* A full disk: what is in the file stays readable, the rest stays here. */
      g_warning ("SimHistory: writing the spill file failed (%s), keeping chunks in memory",
                 g_strerror (errno));
      self->spill_failed = TRUE;
    }
  blob.bytes = packed;
  return blob;
}

/* The compressed bytes of @blob, read back; NULL for an empty one. */
static GBytes *
blob_load (SimHistory *self,
           const Blob *blob)
{
  guint8 *data;
  gsize done = 0;

  if (blob->bytes != NULL)
    return g_bytes_ref (blob->bytes);
  if (blob->len == 0)
    return NULL;
  data = g_malloc (blob->len);
  while (done < blob->len)
    {
      ssize_t n = pread (self->spill_fd, data + done, blob->len - done, blob->offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          /* Our own file: only a disk failing gets here.  What was read decodes as far as it
           * goes, and the readers say where it stops. */
          g_critical ("SimHistory: reading the spill file failed: %s",
                      n < 0 ? g_strerror (errno) : "short file");
          break;
        }
      done += n;
    }
  return g_bytes_new_take (data, done);
}

static void
blob_clear (Blob *blob)
{
  g_clear_pointer (&blob->bytes, g_bytes_unref);
  blob->len = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Replay state: bindings and phones as recorded (sim-history.h)                              */

static void
phone_free (SimHistoryPhone *phone)
{
  g_free (phone->device);
  g_free (phone->reg_reason);
  g_free (phone);
}

static void
bindings_unref (gpointer data)
{
  g_ptr_array_unref (data);
}

static State *
state_new (void)
{
  State *state = g_new0 (State, 1);

  state->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_hash_table_unref);
  state->phones = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) phone_free);
  return state;
}

static void
state_free (State *state)
{
  g_hash_table_unref (state->nodes);
  g_hash_table_unref (state->phones);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (State, state_free)

/* Every field: a replay world must hold exactly what a straight run holds. */
static gboolean
binding_equal (const SimBinding *a,
               const SimBinding *b)
{
  return g_strcmp0 (a->aor, b->aor) == 0 && g_strcmp0 (a->contact, b->contact) == 0 &&
         g_strcmp0 (a->display, b->display) == 0 && memcmp (&a->q, &b->q, sizeof a->q) == 0 &&
         a->expires_at == b->expires_at && a->granted == b->granted &&
         g_strcmp0 (a->call_id, b->call_id) == 0 && a->cseq == b->cseq &&
         sim_addr_equal (&a->source, &b->source) && a->source.transport == b->source.transport &&
         g_strcmp0 (a->user_agent, b->user_agent) == 0 &&
         g_strcmp0 (a->instance, b->instance) == 0 && a->registered_at == b->registered_at &&
         a->updated_at == b->updated_at;
}

static gboolean
bindings_equal (GPtrArray *a,
                GPtrArray *b)
{
  guint na = a ? a->len : 0, nb = b ? b->len : 0;

  if (na != nb)
    return FALSE;
  for (guint i = 0; i < na; i++)
    if (!binding_equal (a->pdata[i], b->pdata[i]))
      return FALSE;
  return TRUE;
}

/* Sets @aor's bindings at @node to copies of @bindings; FALSE when they were already so. */
static gboolean
state_set_bindings (State      *state,
                    const char *node,
                    const char *aor,
                    GPtrArray  *bindings)
{
  GHashTable *aors = g_hash_table_lookup (state->nodes, node);
  GPtrArray *copy;

  if (aors == NULL)
    {
      aors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, bindings_unref);
      g_hash_table_insert (state->nodes, g_strdup (node), aors);
    }
  else if (g_hash_table_contains (aors, aor) &&
           bindings_equal (g_hash_table_lookup (aors, aor), bindings))
    return FALSE;
  copy = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_binding_free);
  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    g_ptr_array_add (copy, sim_binding_copy (bindings->pdata[i]));
  g_hash_table_replace (aors, g_strdup (aor), copy);
  return TRUE;
}

static gboolean
state_set_phone (State                 *state,
                 const SimHistoryPhone *phone)
{
  SimHistoryPhone *old = g_hash_table_lookup (state->phones, phone->device);
  SimHistoryPhone *copy;

  if (old != NULL && old->reg_state == phone->reg_state && old->granted == phone->granted &&
      old->refresh_at == phone->refresh_at && old->powered == phone->powered &&
      g_strcmp0 (old->reg_reason, phone->reg_reason) == 0)
    return FALSE;
  copy = g_new (SimHistoryPhone, 1);
  *copy = *phone;
  copy->device = g_strdup (phone->device);
  copy->reg_reason = g_strdup (phone->reg_reason);
  g_hash_table_replace (state->phones, copy->device, copy);
  return TRUE;
}

static void
encode_bindings (GByteArray *out,
                 guint64     stamp,
                 const char *node,
                 const char *aor,
                 GPtrArray  *bindings)
{
  guint n = bindings ? bindings->len : 0;

  put_varint (out, RECORD_BINDINGS);
  put_varint (out, stamp);
  put_str (out, node);
  put_str (out, aor);
  put_varint (out, n);
  for (guint i = 0; i < n; i++)
    {
      const SimBinding *b = bindings->pdata[i];
      guint64 q;

      memcpy (&q, &b->q, sizeof q);
      put_str (out, b->contact);
      put_str (out, b->display);
      put_varint (out, q);
      put_sint (out, b->expires_at);
      put_varint (out, b->granted);
      put_str (out, b->call_id);
      put_varint (out, b->cseq);
      put_addr (out, &b->source);
      put_str (out, b->user_agent);
      put_str (out, b->instance);
      put_sint (out, b->registered_at);
      put_sint (out, b->updated_at);
    }
}

static void
encode_phone (GByteArray            *out,
              guint64                stamp,
              const SimHistoryPhone *phone)
{
  put_varint (out, RECORD_PHONE);
  put_varint (out, stamp);
  put_str (out, phone->device);
  put_varint (out, phone->reg_state);
  put_str (out, phone->reg_reason);
  put_varint (out, phone->granted);
  put_sint (out, phone->refresh_at);
  put_varint (out, phone->powered ? 1 : 0);
}

static GPtrArray *
decode_bindings (Reader     *r,
                 const char *aor)
{
  guint64 n = get_varint (r);
  GPtrArray *bindings = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_binding_free);

  for (guint64 i = 0; i < n && r->p < r->end; i++)
    {
      SimBinding *b = g_new0 (SimBinding, 1);
      guint64 q;

      b->aor = g_strdup (aor);
      b->contact = get_str (r);
      b->display = get_str (r);
      q = get_varint (r);
      memcpy (&b->q, &q, sizeof q);
      b->expires_at = get_sint (r);
      b->granted = get_varint (r);
      b->call_id = get_str (r);
      b->cseq = get_varint (r);
      get_addr (r, &b->source);
      b->user_agent = get_str (r);
      b->instance = get_str (r);
      b->registered_at = get_sint (r);
      b->updated_at = get_sint (r);
      g_ptr_array_add (bindings, b);
    }
  return bindings;
}

/*
 * Applies to @state the records of @data stamped at or below @limit (they are in stamp
 * order); returns where the first one past it starts.
 */
static gsize
apply_records (State        *state,
               const guint8 *data,
               gsize         size,
               guint64       limit)
{
  Reader r = { data, data + size };

  while (r.p < r.end)
    {
      const guint8 *start = r.p;
      guint64 kind = get_varint (&r);
      guint64 stamp = get_varint (&r);

      if (stamp > limit)
        return start - data;
      if (kind == RECORD_BINDINGS)
        {
          g_autofree char *node = get_str (&r);
          g_autofree char *aor = get_str (&r);
          g_autoptr(GPtrArray) bindings = decode_bindings (&r, aor);

          state_set_bindings (state, node ? node : "", aor ? aor : "", bindings);
        }
      else if (kind == RECORD_PHONE)
        {
          SimHistoryPhone phone = { 0 };
          g_autofree char *device = get_str (&r);
          g_autofree char *reason = NULL;

          phone.device = device ? device : (char *) "";
          phone.reg_state = get_varint (&r);
          phone.reg_reason = reason = get_str (&r);
          phone.granted = get_varint (&r);
          phone.refresh_at = get_sint (&r);
          phone.powered = get_varint (&r) != 0;
          state_set_phone (state, &phone);
        }
      else
        {
          g_critical ("SimHistory: unknown record %" G_GUINT64_FORMAT, kind);
          break;
        }
    }
  return size;
}

/* The whole of @state as records stamped 0, packed: a checkpoint. */
static GBytes *
pack_state (State *state,
            gsize *size)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  GHashTableIter nodes, aors, phones;
  gpointer node, table, aor, bindings, phone;

  g_hash_table_iter_init (&nodes, state->nodes);
  while (g_hash_table_iter_next (&nodes, &node, &table))
    {
      g_hash_table_iter_init (&aors, table);
      while (g_hash_table_iter_next (&aors, &aor, &bindings))
        encode_bindings (out, 0, node, aor, bindings);
    }
  g_hash_table_iter_init (&phones, state->phones);
  while (g_hash_table_iter_next (&phones, NULL, &phone))
    encode_phone (out, 0, phone);
  *size = out->len;
  return pack (out->data, out->len);
}

static void
apply_packed (State   *state,
              GBytes  *packed,
              gsize    size,
              guint64  limit)
{
  g_autoptr(GBytes) data = NULL;
  gsize len;
  const guint8 *bytes;

  if (packed == NULL)
    return;
  data = unpack (packed, size);
  bytes = g_bytes_get_data (data, &len);
  apply_records (state, bytes, len, limit);
}

/* ------------------------------------------------------------------------------------------ */
/* Chunks                                                                                     */

static void
cached_free (Cached *cached)
{
  g_bytes_unref (cached->data);
  g_free (cached->offsets);
  g_free (cached);
}

static void
clear_cache (SimHistory *self)
{
  Cached *cached;

  while ((cached = g_queue_pop_head (&self->cache)) != NULL)
    cached_free (cached);
}

static void
chunk_clear (gpointer data)
{
  Chunk *chunk = data;

  blob_clear (&chunk->packed);
  blob_clear (&chunk->checkpoint);
  blob_clear (&chunk->records);
}

static guint64
open_first (SimHistory *self)
{
  return self->n_events - self->open_offsets->len;
}

static SimTime
record_time (const guint8 *data,
             gsize         size,
             guint32       offset)
{
  Reader r = { data + offset, data + size };

  return get_sint (&r);
}

static void
seal_open_chunk (SimHistory *self)
{
  Chunk chunk = { 0 };

  chunk.first = open_first (self);
  chunk.first_t = record_time (self->open->data, self->open->len, 0);
  chunk.n = self->open_offsets->len;
  chunk.size = self->open->len;
  chunk.checkpoint = blob_store (self, g_steal_pointer (&self->open_checkpoint));
  chunk.checkpoint_size = self->open_checkpoint_size;
  chunk.packed = blob_store (self, pack (self->open->data, self->open->len));
  chunk.records_size = self->open_records->len;
  chunk.records = blob_store (self, pack (self->open_records->data, self->open_records->len));
  g_array_append_val (self->chunks, chunk);
  g_byte_array_set_size (self->open, 0);
  g_array_set_size (self->open_offsets, 0);
  g_byte_array_set_size (self->open_records, 0);
  /* The next chunk starts from everything recorded so far. */
  self->open_checkpoint = pack_state (self->shadow, &self->open_checkpoint_size);
}

/* Where each record of a decompressed chunk starts: walks them, decoding nothing kept. */
static guint32 *
find_offsets (const guint8 *data,
              gsize         size,
              guint         n)
{
  guint32 *offsets = g_new (guint32, n + 1);
  Reader r = { data, data + size };

  for (guint i = 0; i < n; i++)
    {
      offsets[i] = r.p - data;
      skip_event (&r);
    }
  offsets[n] = r.p - data;
  return offsets;
}

/* Chunk @k's bytes and record offsets: the open chunk's own, or a cached decompressed copy. */
static void
view_chunk (SimHistory     *self,
            guint           k,
            const guint8  **data,
            gsize          *size,
            const guint32 **offsets)
{
  Chunk *chunk;
  Cached *cached = NULL;

  if (k == self->chunks->len)
    {
      *data = self->open->data;
      *size = self->open->len;
      *offsets = (const guint32 *) self->open_offsets->data;
      return;
    }
  for (GList *l = self->cache.head; l != NULL; l = l->next)
    if (((Cached *) l->data)->chunk == k)
      {
        cached = l->data;
        g_queue_unlink (&self->cache, l);
        g_list_free (l);
        break;
      }
  if (cached == NULL)
    {
      const guint8 *bytes;
      gsize len;
      g_autoptr(GBytes) packed = NULL;

      chunk = &g_array_index (self->chunks, Chunk, k);
      packed = blob_load (self, &chunk->packed);
      cached = g_new0 (Cached, 1);
      cached->chunk = k;
      cached->data = unpack (packed, chunk->size);
      bytes = g_bytes_get_data (cached->data, &len);
      cached->offsets = find_offsets (bytes, len, chunk->n);
      while (self->cache.length >= SIM_HISTORY_CACHED_CHUNKS)
        cached_free (g_queue_pop_tail (&self->cache));
    }
  g_queue_push_head (&self->cache, cached);
  *data = g_bytes_get_data (cached->data, size);
  *offsets = cached->offsets;
}

static guint
chunk_of (SimHistory *self,
          guint64     index)
{
  guint lo = 0, hi = self->chunks->len;

  /* The last chunk whose first event is at or before @index (the open one past them all). */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      Chunk *chunk = &g_array_index (self->chunks, Chunk, mid);

      if (chunk->first + chunk->n <= index)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static guint64
chunk_first (SimHistory *self,
             guint       k)
{
  if (k == self->chunks->len)
    return open_first (self);
  return g_array_index (self->chunks, Chunk, k).first;
}

static guint
chunk_n (SimHistory *self,
         guint       k)
{
  if (k == self->chunks->len)
    return self->open_offsets->len;
  return g_array_index (self->chunks, Chunk, k).n;
}

/* ------------------------------------------------------------------------------------------ */
/* API                                                                                        */

void
sim_history_append (SimHistory     *self,
                    const SimEvent *event)
{
  guint32 offset;

  g_return_if_fail (SIM_IS_HISTORY (self));
  g_return_if_fail (event != NULL);

  if (event->index < self->n_events)
    return;
  g_return_if_fail (event->index == self->n_events);
  offset = self->open->len;
  g_array_append_val (self->open_offsets, offset);
  encode_event (self->open, event);
  self->n_events++;
  if (self->open_offsets->len >= SIM_HISTORY_CHUNK_EVENTS)
    seal_open_chunk (self);
}

static void
trace_event_cb (SimTrace   *trace,
                SimEvent   *event,
                SimHistory *self)
{
  sim_history_append (self, event);
}

void
sim_history_follow (SimHistory *self,
                    SimTrace   *trace)
{
  g_return_if_fail (SIM_IS_HISTORY (self));

  if (self->trace != NULL)
    {
      g_clear_signal_handler (&self->event_handler, self->trace);
      g_clear_object (&self->trace);
    }
  if (trace == NULL)
    return;
  self->trace = g_object_ref (trace);
  /* What it emitted before (a scene traces its nodes as it is built) and still keeps. */
  for (guint i = sim_trace_position_of (trace, self->n_events); i < sim_trace_get_n_events (trace);
       i++)
    sim_history_append (self, sim_trace_get_event (trace, i));
  self->event_handler = g_signal_connect (trace, "event", G_CALLBACK (trace_event_cb), self);
}

guint64
sim_history_get_n_events (SimHistory *self)
{
  g_return_val_if_fail (SIM_IS_HISTORY (self), 0);
  return self->n_events;
}

SimEvent *
sim_history_get_event (SimHistory *self,
                       guint64     index)
{
  const guint8 *data;
  const guint32 *offsets;
  gsize size;
  guint k;
  Reader r;
  SimEvent *event;

  g_return_val_if_fail (SIM_IS_HISTORY (self), NULL);

  if (index >= self->n_events)
    return NULL;
  k = chunk_of (self, index);
  view_chunk (self, k, &data, &size, &offsets);
  r.p = data + offsets[index - chunk_first (self, k)];
  r.end = data + size;
  event = decode_event (&r);
  event->index = index;
  return event;
}

guint64
sim_history_find_time (SimHistory *self,
                       SimTime     t)
{
  guint lo = 0, hi, k;
  const guint8 *data;
  const guint32 *offsets;
  gsize size;
  guint n;

  g_return_val_if_fail (SIM_IS_HISTORY (self), 0);

  /* Times never decrease.  The first chunk starting at @t or later; the answer is in the
   * chunk before it, or is its first event. */
  hi = self->chunks->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (self->chunks, Chunk, mid).first_t < t)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == self->chunks->len && self->open_offsets->len > 0 &&
      record_time (self->open->data, self->open->len, 0) < t)
    lo++;
  if (lo == 0)
    return 0;
  k = lo - 1;
  view_chunk (self, k, &data, &size, &offsets);
  n = chunk_n (self, k);
  lo = 0;
  hi = n;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (record_time (data, size, offsets[mid]) < t)
        lo = mid + 1;
      else
        hi = mid;
    }
  return chunk_first (self, k) + lo;
}

static State *state_at (SimHistory *self,
                        guint64     index);

void
sim_history_truncate (SimHistory *self,
                      guint64     index)
{
  guint k;

  g_return_if_fail (SIM_IS_HISTORY (self));

  if (index >= self->n_events)
    return;
  /* What was recorded up to @index stays: the shadow becomes that state. */
  state_free (self->shadow);
  self->shadow = state_at (self, index);
  k = chunk_of (self, index);
  if (k < self->chunks->len)
    {
      Chunk *chunk = &g_array_index (self->chunks, Chunk, k);
      g_autoptr(GBytes) packed_records = blob_load (self, &chunk->records);
      g_autoptr(GBytes) records = unpack (packed_records, chunk->records_size);
      g_autoptr(GBytes) packed = blob_load (self, &chunk->packed);

      g_clear_pointer (&self->open_checkpoint, g_bytes_unref);
      self->open_checkpoint = blob_load (self, &chunk->checkpoint);
      self->open_checkpoint_size = chunk->checkpoint_size;
      /* Its bytes in the spill file and everything after are written again as chunks fill. */
      if (chunk->checkpoint.len > 0 && chunk->checkpoint.bytes == NULL)
        self->spill_end = chunk->checkpoint.offset;
      else if (chunk->packed.bytes == NULL)
        self->spill_end = chunk->packed.offset;
      if (self->spill_fd >= 0 && ftruncate (self->spill_fd, self->spill_end) != 0)
        g_warning ("SimHistory: shortening the spill file failed: %s", g_strerror (errno));
      g_byte_array_set_size (self->open_records, 0);
      g_byte_array_append (self->open_records, g_bytes_get_data (records, NULL),
                           g_bytes_get_size (records));
      g_autoptr(GBytes) data = unpack (packed, chunk->size);
      gsize len;
      const guint8 *bytes = g_bytes_get_data (data, &len);
      g_autofree guint32 *offsets = find_offsets (bytes, len, chunk->n);

      /* The chunk holding @index becomes the open one again. */
      g_byte_array_set_size (self->open, 0);
      g_byte_array_append (self->open, bytes, len);
      g_array_set_size (self->open_offsets, 0);
      g_array_append_vals (self->open_offsets, offsets, chunk->n);
      self->n_events = chunk->first + chunk->n;
      g_array_set_size (self->chunks, k);
    }
  g_byte_array_set_size (self->open,
                         g_array_index (self->open_offsets, guint32, index - open_first (self)));
  g_array_set_size (self->open_offsets, index - open_first (self));
  self->n_events = index;
  {
    g_autoptr(State) scratch = state_new ();

    g_byte_array_set_size (self->open_records,
                           apply_records (scratch, self->open_records->data,
                                          self->open_records->len, index));
  }
  clear_cache (self);
}

void
sim_history_record_bindings (SimHistory *self,
                             guint64     stamp,
                             const char *node,
                             const char *aor,
                             GPtrArray  *bindings)
{
  g_return_if_fail (SIM_IS_HISTORY (self));
  g_return_if_fail (node != NULL && aor != NULL);

  if (stamp < self->n_events || !state_set_bindings (self->shadow, node, aor, bindings))
    return;
  encode_bindings (self->open_records, stamp, node, aor, bindings);
}

void
sim_history_record_phone (SimHistory            *self,
                          guint64                stamp,
                          const SimHistoryPhone *phone)
{
  g_return_if_fail (SIM_IS_HISTORY (self));
  g_return_if_fail (phone != NULL && phone->device != NULL);

  if (stamp < self->n_events || !state_set_phone (self->shadow, phone))
    return;
  encode_phone (self->open_records, stamp, phone);
}

/* The state after every record stamped at or below @index: a checkpoint and a chunk's records. */
static State *
state_at (SimHistory *self,
          guint64     index)
{
  State *state = state_new ();
  guint k = chunk_of (self, index);

  if (k == self->chunks->len)
    {
      apply_packed (state, self->open_checkpoint, self->open_checkpoint_size, G_MAXUINT64);
      apply_records (state, self->open_records->data, self->open_records->len, index);
    }
  else
    {
      Chunk *chunk = &g_array_index (self->chunks, Chunk, k);
      g_autoptr(GBytes) checkpoint = blob_load (self, &chunk->checkpoint);
      g_autoptr(GBytes) records = blob_load (self, &chunk->records);

      apply_packed (state, checkpoint, chunk->checkpoint_size, G_MAXUINT64);
      apply_packed (state, records, chunk->records_size, index);
    }
  return state;
}

void
sim_history_restore_state (SimHistory  *self,
                           guint64      index,
                           SimLocation *location,
                           GPtrArray   *phones)
{
  g_autoptr(State) state = NULL;

  g_return_if_fail (SIM_IS_HISTORY (self));

  state = state_at (self, index);
  if (location != NULL)
    {
      GHashTable *aors = g_hash_table_lookup (state->nodes,
                                              sim_location_get_node_name (location));
      GHashTableIter iter;
      gpointer aor, bindings;

      if (aors != NULL)
        {
          g_hash_table_iter_init (&iter, aors);
          /* Only what differs: a replay world is brought forward many times a second. */
          while (g_hash_table_iter_next (&iter, &aor, &bindings))
            if (!bindings_equal (sim_location_peek (location, aor), bindings))
              sim_location_restore (location, aor, bindings);
        }
    }
  for (guint i = 0; phones != NULL && i < phones->len; i++)
    {
      SimHistoryPhone *phone = g_hash_table_lookup (state->phones,
                                                    sim_phone_get_device (phones->pdata[i]));

      SimPhone *shown = phones->pdata[i];

      if (phone != NULL &&
          (sim_phone_get_reg_state (shown) != phone->reg_state ||
           sim_phone_get_granted (shown) != phone->granted ||
           sim_phone_get_refresh_at (shown) != phone->refresh_at ||
           sim_phone_is_powered (shown) != phone->powered ||
           g_strcmp0 (sim_phone_get_reg_reason (shown), phone->reg_reason) != 0))
        sim_phone_restore_shown (phones->pdata[i], phone->reg_state, phone->reg_reason,
                                 phone->granted, phone->refresh_at, phone->powered);
    }
}

gsize
sim_history_get_memory_size (SimHistory *self)
{
  gsize size;

  g_return_val_if_fail (SIM_IS_HISTORY (self), 0);

  size = self->open->len + self->open_offsets->len * sizeof (guint32) +
         self->chunks->len * sizeof (Chunk);
  size += self->open_records->len;
  if (self->open_checkpoint != NULL)
    size += g_bytes_get_size (self->open_checkpoint);
  for (guint i = 0; i < self->chunks->len; i++)
    {
      Chunk *chunk = &g_array_index (self->chunks, Chunk, i);

      /* Only what stayed in memory: the spill file is not (sim_history_get_spilled_size()). */
      if (chunk->packed.bytes != NULL)
        size += chunk->packed.len;
      if (chunk->records.bytes != NULL)
        size += chunk->records.len;
      if (chunk->checkpoint.bytes != NULL)
        size += chunk->checkpoint.len;
    }
  for (GList *l = self->cache.head; l != NULL; l = l->next)
    {
      Cached *cached = l->data;

      size += g_bytes_get_size (cached->data) +
              (chunk_n (self, cached->chunk) + 1) * sizeof (guint32);
    }
  return size;
}

guint64
sim_history_get_spilled_size (SimHistory *self)
{
  g_return_val_if_fail (SIM_IS_HISTORY (self), 0);
  return self->spill_fd >= 0 ? self->spill_end : 0;
}

static void
sim_history_dispose (GObject *object)
{
  sim_history_follow (SIM_HISTORY (object), NULL);
  G_OBJECT_CLASS (sim_history_parent_class)->dispose (object);
}

static void
sim_history_finalize (GObject *object)
{
  SimHistory *self = SIM_HISTORY (object);

  clear_cache (self);
  state_free (self->shadow);
  g_clear_pointer (&self->open_checkpoint, g_bytes_unref);
  g_byte_array_unref (self->open_records);
  g_array_unref (self->chunks);
  g_byte_array_unref (self->open);
  g_array_unref (self->open_offsets);
  if (self->spill_fd >= 0)
    close (self->spill_fd);
  G_OBJECT_CLASS (sim_history_parent_class)->finalize (object);
}

static void
sim_history_class_init (SimHistoryClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = sim_history_dispose;
  G_OBJECT_CLASS (klass)->finalize = sim_history_finalize;
}

static void
sim_history_init (SimHistory *self)
{
  self->chunks = g_array_new (FALSE, TRUE, sizeof (Chunk));
  g_array_set_clear_func (self->chunks, chunk_clear);
  self->open = g_byte_array_new ();
  self->open_offsets = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_queue_init (&self->cache);
  self->shadow = state_new ();
  self->open_records = g_byte_array_new ();
  self->spill_fd = -1;
}

SimHistory *
sim_history_new (void)
{
  return g_object_new (SIM_TYPE_HISTORY, NULL);
}
