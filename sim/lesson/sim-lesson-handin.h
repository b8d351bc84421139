/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sim-lesson.h"
#include "sim-lesson-student.h"

G_BEGIN_DECLS

/*
 * Hand-ins and class keys (lessons/README.md, "Hand-ins and grading").
 *
 * A teacher makes a class key (`siplab-cli class init`): a key file, mode 0600,
 *
 *   [class]
 *   key=64 hex digits            32 random bytes (OpenSSL RAND_bytes)
 *   key-id=8 hex digits          the first 4 bytes of SHA-256 (key): names the key, not secret
 *
 * A hand-in (`siplab-cli lesson --student NAME --summary FILE`) is a GKeyFile: a [hand-in]
 * group (lesson id, title and the SHA-256 of its text, the student, the seed, the Unix user,
 * the date, the counts), an [item-N] group per item (kind, title, result, attempts, hints,
 * answer) and, when the student's copy of siplab has the class key, last:
 *
 *   [signature]
 *   key-id=3f2a9c1e
 *   hmac-sha256=HMAC-SHA256 (key, every byte of the file before the "[signature]" line)
 *
 * Grading reads only the signed bytes, so anything added after the signature is ignored.  What
 * the signature proves is that the file was written by a siplab holding the class key and not
 * changed since: a student who can read the key file can still sign what they like, so the key
 * belongs where students cannot read it (the lab's installed copy, not their home folder).
 */

#define SIM_LESSON_HANDIN_ERROR (sim_lesson_handin_error_quark ())
GQuark sim_lesson_handin_error_quark (void);

typedef enum {
  SIM_LESSON_HANDIN_ERROR_IO = 1,
  SIM_LESSON_HANDIN_ERROR_FORMAT,    /* not a hand-in or not a key file */
  SIM_LESSON_HANDIN_ERROR_EXISTS,    /* class init would overwrite a key */
} SimLessonHandinError;

/* The bytes of a class key. */
#define SIM_CLASS_KEY_BYTES 32
/* A hand-in file larger than this is refused unread: a real one is a few kilobytes. */
#define SIM_LESSON_HANDIN_MAX_BYTES (1024 * 1024)
/* At most this many items in a hand-in. */
#define SIM_LESSON_HANDIN_MAX_ITEMS 1000
/* The format this version writes and reads. */
#define SIM_LESSON_HANDIN_FORMAT 1

typedef struct {
  guint8 key[SIM_CLASS_KEY_BYTES];
  char id[9];                /* 8 hex digits */
} SimClassKey;

/* A fresh key from the system's random source; NULL with an error when there is none. */
SimClassKey *sim_class_key_new_random        (GError            **error) G_GNUC_WARN_UNUSED_RESULT;
/* Writes @key to a new file @path with mode 0600; an existing file is not overwritten. */
gboolean     sim_class_key_save              (const SimClassKey  *key,
                                              const char         *path,
                                              GError            **error);
SimClassKey *sim_class_key_load              (const char         *path,
                                              GError            **error) G_GNUC_WARN_UNUSED_RESULT;
void         sim_class_key_free              (SimClassKey        *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimClassKey, sim_class_key_free)

/* A hand-in of @runner's session, signed with @key (NULL: unsigned). @user: the Unix user. */
char        *sim_lesson_handin_write         (SimLessonRunner    *runner,
                                              const char         *user,
                                              GDateTime          *date,
                                              const SimClassKey  *key) G_GNUC_WARN_UNUSED_RESULT;

typedef enum {
  SIM_LESSON_HANDIN_SIGNED,      /* signed with the key, unchanged since */
  SIM_LESSON_HANDIN_UNSIGNED,    /* no signature */
  SIM_LESSON_HANDIN_OTHER_KEY,   /* signed with another class's key */
  SIM_LESSON_HANDIN_EDITED,      /* signed with this key's id, but the bytes changed since */
} SimLessonHandinStatus;

const char  *sim_lesson_handin_status_name   (SimLessonHandinStatus status);

typedef struct {
  SimLessonItemKind kind;
  char *title;
  SimLessonAttempt attempt;
} SimLessonHandinItem;

typedef struct {
  SimLessonHandinStatus status;
  gboolean seed_matches;     /* the seed is the one the student's name gives for the lesson */
  char *lesson;              /* the lesson id */
  char *title;
  char *lesson_sha256;
  char *student;
  guint32 seed;
  char *user;
  char *date;
  guint n_items;
  guint reached;
  gboolean finished;
  guint n_questions;
  guint n_correct;
  guint n_tasks;
  guint n_tasks_done;
  guint n_hints;
  guint n_skipped;
  GPtrArray *items;          /* SimLessonHandinItem*, index = item */
} SimLessonHandin;

/*
 * Reads a hand-in and verifies its signature against @key (NULL: every signed file is
 * OTHER_KEY).  NULL with SIM_LESSON_HANDIN_ERROR_FORMAT when it is not a hand-in at all.
 */
SimLessonHandin *sim_lesson_handin_parse     (const char         *text,
                                              gsize               length,
                                              const SimClassKey  *key,
                                              GError            **error) G_GNUC_WARN_UNUSED_RESULT;
/* sim_lesson_handin_parse() of a file of at most SIM_LESSON_HANDIN_MAX_BYTES. */
SimLessonHandin *sim_lesson_handin_load      (const char         *path,
                                              const SimClassKey  *key,
                                              GError            **error) G_GNUC_WARN_UNUSED_RESULT;
void         sim_lesson_handin_free          (SimLessonHandin    *handin);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimLessonHandin, sim_lesson_handin_free)

G_END_DECLS
