/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-lesson-handin.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/rand.h>

#include "sim-digest.h"

/*
 * Hand-ins and class keys: written by `siplab-cli lesson --summary`, made by `siplab-cli class
 * init`, read by `siplab-cli grade`.  Both are GKeyFiles, so a teacher can read them in an
 * editor; the signature is an HMAC-SHA256 over the bytes before it.
 */

G_DEFINE_QUARK (sim-lesson-handin-error-quark, sim_lesson_handin_error)

#define SIGNATURE_LINE "[signature]\n"

/* ------------------------------------------------------------------------------------------ */
/* Class keys                                                                                 */

static void
set_key_id (SimClassKey *key)
{
  g_autofree char *sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, key->key, sizeof key->key);

  memcpy (key->id, sha, 8);
  key->id[8] = '\0';
}

SimClassKey *
sim_class_key_new_random (GError **error)
{
  g_autoptr(SimClassKey) key = g_new0 (SimClassKey, 1);

  if (RAND_bytes (key->key, sizeof key->key) != 1)
    {
      g_set_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_IO,
                   "the system has no random source for a key");
      return NULL;
    }
  set_key_id (key);
  return g_steal_pointer (&key);
}

void
sim_class_key_free (SimClassKey *key)
{
  if (key == NULL)
    return;
  /* The key is a secret: do not leave it in freed memory. */
  memset (key, 0, sizeof *key);
  g_free (key);
}

static char *
hex (const guint8 *data,
     gsize         len)
{
  GString *s = g_string_sized_new (2 * len);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

gboolean
sim_class_key_save (const SimClassKey  *key,
                    const char         *path,
                    GError            **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  g_autofree char *key_hex = hex (key->key, sizeof key->key);
  g_autofree char *text = NULL;
  gsize len, done = 0;
  int fd, saved;

  g_return_val_if_fail (key != NULL && path != NULL, FALSE);
  text = g_strdup_printf ("# SIP Lab class key (siplab-cli class init).  Whoever holds this file can\n"
                          "# sign hand-ins: keep it where students cannot read it.\n"
                          "[class]\nkey=%s\nkey-id=%s\ncreated=%s\n", key_hex, key->id, stamp);
  len = strlen (text);
  /* O_EXCL: a teacher's existing key is never overwritten by a second 'class init'. */
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, SIM_LESSON_HANDIN_ERROR,
                   saved == EEXIST ? SIM_LESSON_HANDIN_ERROR_EXISTS : SIM_LESSON_HANDIN_ERROR_IO,
                   "%s: %s", path, saved == EEXIST ? "a file is already there (not overwritten)"
                                                   : g_strerror (saved));
      return FALSE;
    }
  while (done < len)
    {
      gssize n = write (fd, text + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          saved = errno;
          close (fd);
          g_unlink (path);
          g_set_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_IO, "%s: %s", path,
                       g_strerror (saved));
          return FALSE;
        }
      done += n;
    }
  explicit_bzero (text, len);
  if (close (fd) != 0)
    {
      saved = errno;
      g_set_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_IO, "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

SimClassKey *
sim_class_key_load (const char  *path,
                    GError     **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(SimClassKey) key = g_new0 (SimClassKey, 1);
  g_autofree char *key_hex = NULL;
  g_autofree char *id = NULL;
  GError *local = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, SIM_LESSON_HANDIN_ERROR,
                   local->domain == G_FILE_ERROR ? SIM_LESSON_HANDIN_ERROR_IO : SIM_LESSON_HANDIN_ERROR_FORMAT,
                   "%s: %s", path, local->message);
      g_error_free (local);
      return NULL;
    }
  key_hex = g_key_file_get_string (kf, "class", "key", NULL);
  if (key_hex == NULL || strlen (key_hex) != 2 * SIM_CLASS_KEY_BYTES)
    goto bad;
  for (guint i = 0; i < SIM_CLASS_KEY_BYTES; i++)
    {
      int hi = g_ascii_xdigit_value (key_hex[2 * i]), lo = g_ascii_xdigit_value (key_hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        goto bad;
      key->key[i] = (guint8) (hi << 4 | lo);
    }
  explicit_bzero (key_hex, strlen (key_hex));
  set_key_id (key);
  id = g_key_file_get_string (kf, "class", "key-id", NULL);
  if (id != NULL && g_ascii_strcasecmp (id, key->id) != 0)
    goto bad;
  return g_steal_pointer (&key);

bad:
  g_set_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_FORMAT,
               "%s is not a class key file (a [class] group with key=64 hex digits; "
               "'siplab-cli class init' makes one)", path);
  return NULL;
}

static char *
hmac_hex (const SimClassKey *key,
          const char        *data,
          gsize              len)
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key->key, sizeof key->key);

  g_hmac_update (hmac, (const guchar *) data, len);
  return g_strdup (g_hmac_get_string (hmac));
}

/* ------------------------------------------------------------------------------------------ */
/* Writing                                                                                    */

static char *
kind_word (SimLessonItemKind kind)
{
  return g_ascii_strdown (sim_lesson_item_kind_name (kind), -1);
}

static void
write_items (GKeyFile        *kf,
             SimLessonRunner *runner)
{
  SimLesson *lesson = sim_lesson_runner_get_lesson (runner);

  for (guint i = 0; i < sim_lesson_get_n_items (lesson); i++)
    {
      const SimLessonItem *item = sim_lesson_get_item (lesson, i);
      const SimLessonAttempt *a = sim_lesson_runner_get_attempt (runner, i);
      g_autofree char *group = g_strdup_printf ("item-%u", i + 1);
      g_autofree char *kind = kind_word (item->kind);

      g_key_file_set_string (kf, group, "kind", kind);
      g_key_file_set_string (kf, group, "title", item->title);
      g_key_file_set_string (kf, group, "result", sim_lesson_result_name (a->result));
      g_key_file_set_integer (kf, group, "attempts", a->attempts);
      g_key_file_set_integer (kf, group, "hints", a->hints);
      g_key_file_set_string (kf, group, "answer", a->answer ? a->answer : "");
    }
}

char *
sim_lesson_handin_write (SimLessonRunner   *runner,
                         const char        *user,
                         GDateTime         *date,
                         const SimClassKey *key)
{
  SimLesson *lesson;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *stamp = NULL;
  g_autofree char *seed = NULL;
  g_autofree char *body = NULL;
  g_autofree char *mac = NULL;
  guint n_tasks = 0;
  gsize len;

  g_return_val_if_fail (SIM_IS_LESSON_RUNNER (runner), NULL);
  g_return_val_if_fail (date != NULL, NULL);
  lesson = sim_lesson_runner_get_lesson (runner);
  for (guint i = 0; i < sim_lesson_get_n_items (lesson); i++)
    n_tasks += sim_lesson_get_item (lesson, i)->kind == SIM_LESSON_TASK;
  stamp = g_date_time_format_iso8601 (date);
  seed = g_strdup_printf ("%u", sim_lesson_get_seed (lesson));

  g_key_file_set_comment (kf, NULL, NULL, " SIP Lab hand-in.  The [signature] at the end covers every "
                          "byte above it:\n an edited file shows as edited when it is graded.", NULL);
  g_key_file_set_integer (kf, "hand-in", "format", SIM_LESSON_HANDIN_FORMAT);
  g_key_file_set_string (kf, "hand-in", "lesson", sim_lesson_get_id (lesson));
  g_key_file_set_string (kf, "hand-in", "title", sim_lesson_get_title (lesson));
  g_key_file_set_string (kf, "hand-in", "lesson-sha256", sim_lesson_get_sha256 (lesson));
  g_key_file_set_string (kf, "hand-in", "student",
                         sim_lesson_get_student (lesson) ? sim_lesson_get_student (lesson) : "");
  g_key_file_set_value (kf, "hand-in", "seed", seed);
  g_key_file_set_string (kf, "hand-in", "user", user ? user : "");
  g_key_file_set_string (kf, "hand-in", "date", stamp);
  g_key_file_set_integer (kf, "hand-in", "items", sim_lesson_get_n_items (lesson));
  g_key_file_set_integer (kf, "hand-in", "reached",
                          MIN (sim_lesson_runner_get_position (runner) + 1, sim_lesson_get_n_items (lesson)));
  g_key_file_set_boolean (kf, "hand-in", "finished", sim_lesson_runner_is_done (runner));
  g_key_file_set_integer (kf, "hand-in", "questions", sim_lesson_get_n_questions (lesson));
  g_key_file_set_integer (kf, "hand-in", "correct", sim_lesson_runner_get_n_correct (runner));
  g_key_file_set_integer (kf, "hand-in", "tasks", n_tasks);
  g_key_file_set_integer (kf, "hand-in", "tasks-done", sim_lesson_runner_get_n_tasks_done (runner));
  g_key_file_set_integer (kf, "hand-in", "hints", sim_lesson_runner_get_n_hints (runner));
  g_key_file_set_integer (kf, "hand-in", "skipped", sim_lesson_runner_get_n_skipped (runner));
  write_items (kf, runner);

  body = g_key_file_to_data (kf, &len, NULL);
  if (key == NULL)
    return g_steal_pointer (&body);
  mac = hmac_hex (key, body, len);
  return g_strdup_printf ("%s%skey-id=%s\nhmac-sha256=%s\n", body, SIGNATURE_LINE, key->id, mac);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading                                                                                    */

const char *
sim_lesson_handin_status_name (SimLessonHandinStatus status)
{
  static const char *names[] = { "signed", "unsigned", "other key", "edited" };

  g_return_val_if_fail (status < G_N_ELEMENTS (names), NULL);
  return names[status];
}

static void
handin_item_free (SimLessonHandinItem *item)
{
  g_free (item->title);
  g_free (item->attempt.answer);
  g_free (item);
}

void
sim_lesson_handin_free (SimLessonHandin *h)
{
  if (h == NULL)
    return;
  g_free (h->lesson);
  g_free (h->title);
  g_free (h->lesson_sha256);
  g_free (h->student);
  g_free (h->user);
  g_free (h->date);
  g_clear_pointer (&h->items, g_ptr_array_unref);
  g_free (h);
}

/* Where the signature starts: the last "[signature]" line, or -1. */
static gssize
find_signature (const char *text,
                gsize       length)
{
  for (gssize i = (gssize) length - (gssize) strlen (SIGNATURE_LINE); i >= 0; i--)
    if ((i == 0 || text[i - 1] == '\n') && memcmp (text + i, SIGNATURE_LINE, strlen (SIGNATURE_LINE)) == 0)
      return i;
  return -1;
}

/* Sets @h->status from the signature part (from "[signature]" to the end). */
static void
verify (SimLessonHandin   *h,
        const char        *text,
        gsize              body_len,
        const char        *signature,
        gsize              sig_len,
        const SimClassKey *key)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *id = NULL;
  g_autofree char *mac = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *lower = NULL;

  if (!g_key_file_load_from_data (kf, signature, sig_len, G_KEY_FILE_NONE, NULL) ||
      (mac = g_key_file_get_string (kf, "signature", "hmac-sha256", NULL)) == NULL)
    {
      /* A signature part that does not read as one was damaged: that is an edit too. */
      h->status = SIM_LESSON_HANDIN_EDITED;
      return;
    }
  id = g_key_file_get_string (kf, "signature", "key-id", NULL);
  if (id == NULL)
    {
      h->status = SIM_LESSON_HANDIN_EDITED;
      return;
    }
  if (key == NULL || g_ascii_strcasecmp (id, key->id) != 0)
    {
      h->status = SIM_LESSON_HANDIN_OTHER_KEY;
      return;
    }
  expected = hmac_hex (key, text, body_len);
  lower = g_ascii_strdown (mac, -1);
  /* Constant time: the grader is no oracle for guessing a MAC byte by byte. */
  h->status = sim_digest_equal (lower, expected) ? SIM_LESSON_HANDIN_SIGNED : SIM_LESSON_HANDIN_EDITED;
}

static guint
get_count (GKeyFile   *kf,
           const char *group,
           const char *key)
{
  int v = g_key_file_get_integer (kf, group, key, NULL);

  return v < 0 ? 0 : (guint) v;
}

static gboolean
item_kind_from_word (const char        *word,
                     SimLessonItemKind *kind)
{
  for (SimLessonItemKind k = SIM_LESSON_STEP; k <= SIM_LESSON_TASK; k++)
    if (word != NULL && g_ascii_strcasecmp (word, sim_lesson_item_kind_name (k)) == 0)
      {
        *kind = k;
        return TRUE;
      }
  return FALSE;
}

static void
read_items (SimLessonHandin *h,
            GKeyFile        *kf)
{
  h->items = g_ptr_array_new_with_free_func ((GDestroyNotify) handin_item_free);
  for (guint i = 0; i < h->n_items; i++)
    {
      g_autofree char *group = g_strdup_printf ("item-%u", i + 1);
      g_autofree char *kind = g_key_file_get_string (kf, group, "kind", NULL);
      g_autofree char *result = g_key_file_get_string (kf, group, "result", NULL);
      g_autofree char *answer = g_key_file_get_string (kf, group, "answer", NULL);
      SimLessonHandinItem *item = g_new0 (SimLessonHandinItem, 1);

      /* A missing or odd item reads as not reached: the signature says whether to trust it. */
      item_kind_from_word (kind, &item->kind);
      item->title = g_key_file_get_string (kf, group, "title", NULL);
      if (item->title == NULL)
        item->title = g_strdup ("");
      if (!sim_lesson_result_from_name (result, &item->attempt.result))
        item->attempt.result = SIM_LESSON_RESULT_NONE;
      item->attempt.attempts = get_count (kf, group, "attempts");
      item->attempt.hints = get_count (kf, group, "hints");
      if (answer != NULL && answer[0] != '\0')
        item->attempt.answer = g_strndup (answer, SIM_LESSON_ATTEMPT_MAX_ANSWER);
      g_ptr_array_add (h->items, item);
    }
}

SimLessonHandin *
sim_lesson_handin_parse (const char         *text,
                         gsize               length,
                         const SimClassKey  *key,
                         GError            **error)
{
  g_autoptr(SimLessonHandin) h = g_new0 (SimLessonHandin, 1);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *seed = NULL;
  gssize sig = find_signature (text, length);
  gsize body_len = sig < 0 ? length : (gsize) sig;
  guint64 seed_value = 0;

  g_return_val_if_fail (text != NULL, NULL);
  /* Only the signed part is read: lines after the signature change nothing. */
  if (!g_key_file_load_from_data (kf, text, body_len, G_KEY_FILE_NONE, NULL) ||
      get_count (kf, "hand-in", "format") != SIM_LESSON_HANDIN_FORMAT ||
      (h->lesson = g_key_file_get_string (kf, "hand-in", "lesson", NULL)) == NULL)
    {
      g_set_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_FORMAT,
                   "not a SIP Lab hand-in (format %d)", SIM_LESSON_HANDIN_FORMAT);
      return NULL;
    }
  h->status = SIM_LESSON_HANDIN_UNSIGNED;
  if (sig >= 0)
    verify (h, text, body_len, text + sig, length - sig, key);
  h->title = g_key_file_get_string (kf, "hand-in", "title", NULL);
  h->lesson_sha256 = g_key_file_get_string (kf, "hand-in", "lesson-sha256", NULL);
  h->student = g_key_file_get_string (kf, "hand-in", "student", NULL);
  h->user = g_key_file_get_string (kf, "hand-in", "user", NULL);
  h->date = g_key_file_get_string (kf, "hand-in", "date", NULL);
  seed = g_key_file_get_value (kf, "hand-in", "seed", NULL);
  if (seed != NULL)
    g_ascii_string_to_unsigned (seed, 10, 0, G_MAXUINT32, &seed_value, NULL);
  h->seed = (guint32) seed_value;
  h->seed_matches = h->student != NULL && h->seed != 0 &&
                    sim_lesson_student_seed (h->lesson, h->student) == h->seed;
  h->n_items = MIN (get_count (kf, "hand-in", "items"), SIM_LESSON_HANDIN_MAX_ITEMS);
  h->reached = get_count (kf, "hand-in", "reached");
  h->finished = g_key_file_get_boolean (kf, "hand-in", "finished", NULL);
  h->n_questions = get_count (kf, "hand-in", "questions");
  h->n_correct = get_count (kf, "hand-in", "correct");
  h->n_tasks = get_count (kf, "hand-in", "tasks");
  h->n_tasks_done = get_count (kf, "hand-in", "tasks-done");
  h->n_hints = get_count (kf, "hand-in", "hints");
  h->n_skipped = get_count (kf, "hand-in", "skipped");
  read_items (h, kf);
  return g_steal_pointer (&h);
}

SimLessonHandin *
sim_lesson_handin_load (const char         *path,
                        const SimClassKey  *key,
                        GError            **error)
{
  g_autoptr(GMappedFile) file = NULL;
  GError *local = NULL;
  SimLessonHandin *h;

  g_return_val_if_fail (path != NULL, NULL);
  file = g_mapped_file_new (path, FALSE, &local);
  if (file == NULL)
    {
      g_set_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return NULL;
    }
  if (g_mapped_file_get_length (file) > SIM_LESSON_HANDIN_MAX_BYTES)
    {
      g_set_error (error, SIM_LESSON_HANDIN_ERROR, SIM_LESSON_HANDIN_ERROR_FORMAT,
                   "%s: larger than a hand-in can be (%d bytes)", path, SIM_LESSON_HANDIN_MAX_BYTES);
      return NULL;
    }
  h = sim_lesson_handin_parse (g_mapped_file_get_contents (file) ? g_mapped_file_get_contents (file) : "",
                               g_mapped_file_get_length (file), key, &local);
  if (h == NULL)
    {
      g_set_error (error, SIM_LESSON_HANDIN_ERROR, local->code, "%s: %s", path, local->message);
      g_error_free (local);
    }
  return h;
}
