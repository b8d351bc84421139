/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-serve-config.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim-transport.h"

/*
 * The keys of serve.conf, each the flag it stands for.  docs/man/siplab-serve.conf.5.scd
 * documents every one of them: add a key there when adding it here.
 */
typedef enum {
  KEY_STRING,     /* a non-empty word: --flag VALUE */
  KEY_PATH,       /* a file, relative to the configuration file's directory */
  KEY_LISTEN,     /* a ;-separated list of TRANSPORT:HOST:PORT: one --listen each */
  KEY_COUNT,      /* a whole number, 0 or more */
  KEY_SECONDS,    /* a whole number of seconds, 1 to a year */
  KEY_BOOLEAN,    /* true: the flag alone; false: nothing */
  KEY_FORMAT,     /* ladder, jsonl or none */
  KEY_LEVEL,      /* error, warning or info */
} KeyType;

typedef struct {
  const char *group;
  const char *key;
  const char *flag;
  KeyType type;
} ConfigKey;

static const ConfigKey config_keys[] = {
  { "server", "listen", "--listen", KEY_LISTEN },
  { "server", "domain", "--domain", KEY_STRING },
  { "server", "users", "--users", KEY_PATH },
  { "server", "database", "--db", KEY_PATH },
  { "server", "relay", "--relay", KEY_BOOLEAN },
  { "server", "max-message", "--max-message", KEY_COUNT },
  { "tls", "certificate", "--cert", KEY_PATH },
  { "tls", "key", "--key", KEY_PATH },
  { "auth", "limit", "--auth-limit", KEY_COUNT },
  { "auth", "window", "--auth-window", KEY_SECONDS },
  { "auth", "block", "--auth-block", KEY_SECONDS },
  { "tcp", "idle", "--tcp-idle", KEY_SECONDS },
  { "tcp", "message-timeout", "--tcp-message-timeout", KEY_SECONDS },
  { "tcp", "connect-timeout", "--tcp-connect-timeout", KEY_SECONDS },
  { "tcp", "max-connections", "--tcp-max", KEY_COUNT },
  { "tcp", "max-connections-per-ip", "--tcp-max-per-ip", KEY_COUNT },
  { "limits", "max-transactions", "--max-transactions", KEY_COUNT },
  { "limits", "max-transaction-memory", "--max-transaction-memory", KEY_COUNT },
  { "log", "trace", "--format", KEY_FORMAT },
  { "log", "timers", "--timers", KEY_BOOLEAN },
  { "log", "level", "--log-level", KEY_LEVEL },
};

static const ConfigKey *
config_key_find (const char *group,
                 const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (config_keys); i++)
    if (strcmp (config_keys[i].group, group) == 0 &&
        (key == NULL || strcmp (config_keys[i].key, key) == 0))
      return &config_keys[i];
  return NULL;
}

static gboolean
config_error (GError    **error,
              const char *path,
              guint       line,
              const char *format,
              ...) G_GNUC_PRINTF (4, 5);

/* Sets @error to "FILE:LINE: MESSAGE" (just "FILE: MESSAGE" without a line); returns FALSE. */
static gboolean
config_error (GError    **error,
              const char *path,
              guint       line,
              const char *format,
              ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (line > 0)
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "%s:%u: %s", path, line,
                 message);
  else
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "%s: %s", path, message);
  return FALSE;
}

/*
 * The line-by-line scan GKeyFile does not offer: every line is blank, a # comment, a [group] or
 * a key = value of that group, each key at most once.  Fills @lines with "group/key" -> line.
 */
static gboolean
config_scan (const char  *path,
             const char  *text,
             GHashTable  *lines,
             GError     **error)
{
  g_auto(GStrv) split = g_strsplit (text, "\n", -1);
  g_autofree char *group = NULL;

  for (guint i = 0; split[i] != NULL; i++)
    {
      guint line = i + 1;
      char *s = g_strstrip (split[i]);
      char *eq;
      g_autofree char *name = NULL;

      if (*s == '\0' || *s == '#')
        continue;
      if (*s == '[')
        {
          if (s[strlen (s) - 1] != ']')
            return config_error (error, path, line, "a group header is [name], not '%s'", s);
          g_free (group);
          group = g_strndup (s + 1, strlen (s) - 2);
          if (config_key_find (group, NULL) == NULL)
            return config_error (error, path, line, "unknown group [%s] (server, tls, auth, "
                                 "tcp, limits or log)", group);
          continue;
        }
      eq = strchr (s, '=');
      if (eq == NULL)
        return config_error (error, path, line, "'%s' is not a key = value, a [group] or a "
                             "# comment", s);
      *eq = '\0';
      g_strchomp (s);
      if (group == NULL)
        return config_error (error, path, line, "key '%s' comes before any [group]", s);
      if (config_key_find (group, s) == NULL)
        return config_error (error, path, line, "unknown key '%s' in [%s] (see "
                             "siplab-serve.conf(5))", s, group);
      name = g_strconcat (group, "/", s, NULL);
      if (g_hash_table_contains (lines, name))
        return config_error (error, path, line, "%s is set twice in [%s] (first on line %u)", s,
                             group, GPOINTER_TO_UINT (g_hash_table_lookup (lines, name)));
      g_hash_table_insert (lines, g_steal_pointer (&name), GUINT_TO_POINTER (line));
    }
  return TRUE;
}

/* A path of the file: ${CREDENTIALS_DIRECTORY}/ expanded, relative ones from the file's dir. */
static char *
config_path (const char  *config_path,
             guint        line,
             const char  *value,
             GError     **error)
{
  static const char credentials[] = "${CREDENTIALS_DIRECTORY}/";
  g_autofree char *dir = NULL;

  if (g_str_has_prefix (value, credentials))
    {
      const char *env = g_getenv ("CREDENTIALS_DIRECTORY");

      if (env == NULL || *env == '\0')
        {
          config_error (error, config_path, line, "%s needs $CREDENTIALS_DIRECTORY, which is "
                        "not set (systemd's LoadCredential= sets it)", value);
          return NULL;
        }
      return g_build_filename (env, value + strlen (credentials), NULL);
    }
  if (g_path_is_absolute (value))
    return g_strdup (value);
  dir = g_path_get_dirname (config_path);
  return g_build_filename (dir, value, NULL);
}

/* One key's value, checked, as flags appended to @flags; FALSE with "FILE:LINE: ..." if wrong. */
static gboolean
config_key_to_flags (const char       *path,
                     GKeyFile         *file,
                     const ConfigKey  *key,
                     guint             line,
                     GPtrArray        *flags,
                     GError          **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *value = NULL;
  g_auto(GStrv) list = NULL;
  guint64 n;

  switch (key->type)
    {
    case KEY_BOOLEAN:
      if (g_key_file_get_boolean (file, key->group, key->key, &local))
        g_ptr_array_add (flags, g_strdup (key->flag));
      if (local != NULL)
        return config_error (error, path, line, "%s takes true or false", key->key);
      return TRUE;

    case KEY_LISTEN:
      list = g_key_file_get_string_list (file, key->group, key->key, NULL, &local);
      if (list == NULL || list[0] == NULL)
        return config_error (error, path, line, "listen needs at least one TRANSPORT:HOST:PORT");
      for (guint i = 0; list[i] != NULL; i++)
        {
          SimAddr addr;

          g_strstrip (list[i]);
          if (!sim_transport_parse_spec (list[i], &addr, &local))
            return config_error (error, path, line, "listen: %s", local->message);
          g_ptr_array_add (flags, g_strdup (key->flag));
          g_ptr_array_add (flags, g_strdup (list[i]));
        }
      return TRUE;

    case KEY_STRING:
    case KEY_PATH:
    case KEY_COUNT:
    case KEY_SECONDS:
    case KEY_FORMAT:
    case KEY_LEVEL:
    default:
      break;
    }

  value = g_key_file_get_string (file, key->group, key->key, &local);
  if (value == NULL)
    return config_error (error, path, line, "%s: %s", key->key, local->message);
  g_strstrip (value);
  if (*value == '\0')
    return config_error (error, path, line, "%s has no value", key->key);
  /* GKeyFile has no comments after a value: they would become part of it. */
  if (strstr (value, " #") != NULL || strstr (value, "\t#") != NULL)
    return config_error (error, path, line, "%s = '%s': a comment goes on a line of its own",
                         key->key, value);
  if (key->type == KEY_STRING && strpbrk (value, " \t") != NULL)
    return config_error (error, path, line, "%s is one word, not '%s'", key->key, value);
  if (key->type == KEY_COUNT && !g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT, &n, NULL))
    return config_error (error, path, line, "%s takes a whole number, not '%s'", key->key, value);
  if (key->type == KEY_SECONDS &&
      !g_ascii_string_to_unsigned (value, 10, 1, 365 * 24 * 3600, &n, NULL))
    return config_error (error, path, line, "%s takes a number of seconds, not '%s'", key->key,
                         value);
  if (key->type == KEY_FORMAT && strcmp (value, "ladder") != 0 && strcmp (value, "jsonl") != 0 &&
      strcmp (value, "none") != 0)
    return config_error (error, path, line, "trace is ladder, jsonl or none, not '%s'", value);
  if (key->type == KEY_LEVEL && !siplab_cli_serve_log_level_parse (value, NULL))
    return config_error (error, path, line, "level is error, warning or info, not '%s'", value);
  if (key->type == KEY_PATH)
    {
      char *full = config_path (path, line, value, error);

      if (full == NULL)
        return FALSE;
      g_free (value);
      value = full;
    }
  g_ptr_array_add (flags, g_strdup (key->flag));
  g_ptr_array_add (flags, g_steal_pointer (&value));
  return TRUE;
}

/* The flags @path stands for, in the order of config_keys; NULL with "FILE:LINE: ..." if wrong. */
static GPtrArray *
config_read (const char  *path,
             gboolean     skip_listen,
             GError     **error)
{
  g_autoptr(GHashTable) lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GPtrArray) flags = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, &local))
    return config_error (error, path, 0, "%s", local->message), NULL;
  if (len > SIPLAB_SERVE_CONFIG_MAX_BYTES)
    return config_error (error, path, 0, "larger than %d bytes: not a configuration file",
                         SIPLAB_SERVE_CONFIG_MAX_BYTES), NULL;
  if (memchr (text, '\0', len) != NULL || !g_utf8_validate (text, len, NULL))
    return config_error (error, path, 0, "not UTF-8 text"), NULL;
  if (!g_key_file_load_from_data (file, text, len, G_KEY_FILE_NONE, &local))
    {
      /* The scan names the line GKeyFile could not parse; if it finds none, the message does. */
      if (!config_scan (path, text, lines, error))
        return NULL;
      return config_error (error, path, 0, "%s", local->message), NULL;
    }
  if (!config_scan (path, text, lines, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (config_keys); i++)
    {
      const ConfigKey *key = &config_keys[i];
      g_autofree char *name = g_strconcat (key->group, "/", key->key, NULL);
      guint line = GPOINTER_TO_UINT (g_hash_table_lookup (lines, name));

      if (line == 0 || (skip_listen && key->type == KEY_LISTEN))
        continue;
      if (!config_key_to_flags (path, file, key, line, flags, error))
        return NULL;
    }
  return g_steal_pointer (&flags);
}

/* TRUE if @arg is --listen or -l, with or without its value attached. */
static gboolean
is_listen_flag (const char *arg)
{
  return strcmp (arg, "--listen") == 0 || g_str_has_prefix (arg, "--listen=") ||
         g_str_has_prefix (arg, "-l");
}

char **
siplab_cli_serve_config_expand (int      argc,
                                char   **argv,
                                GError **error)
{
  g_autoptr(GPtrArray) rest = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) flags = NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  const char *path = NULL;
  gboolean cmdline_listen = FALSE;

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (strcmp (arg, "--") == 0)
        {
          for (; i < argc; i++)
            g_ptr_array_add (rest, g_strdup (argv[i]));
          break;
        }
      if ((strcmp (arg, "--config") == 0 || strcmp (arg, "-c") == 0) && i + 1 < argc)
        path = argv[++i];
      else if (g_str_has_prefix (arg, "--config="))
        path = arg + strlen ("--config=");
      else
        {
          cmdline_listen |= is_listen_flag (arg);
          g_ptr_array_add (rest, g_strdup (arg));
        }
    }
  g_ptr_array_add (out, g_strdup (argv[0]));
  if (path != NULL)
    {
      flags = config_read (path, cmdline_listen, error);
      if (flags == NULL)
        return NULL;
      for (guint i = 0; i < flags->len; i++)
        g_ptr_array_add (out, g_strdup (flags->pdata[i]));
    }
  for (guint i = 0; i < rest->len; i++)
    g_ptr_array_add (out, g_strdup (rest->pdata[i]));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

gboolean
siplab_cli_serve_log_level_parse (const char          *text,
                                  SiplabServeLogLevel *level)
{
  SiplabServeLogLevel parsed;

  if (g_strcmp0 (text, "error") == 0 || g_strcmp0 (text, "err") == 0)
    parsed = SIPLAB_SERVE_LOG_ERROR;
  else if (g_strcmp0 (text, "warning") == 0 || g_strcmp0 (text, "warn") == 0)
    parsed = SIPLAB_SERVE_LOG_WARNING;
  else if (g_strcmp0 (text, "info") == 0 || g_strcmp0 (text, "notice") == 0)
    parsed = SIPLAB_SERVE_LOG_INFO;
  else
    return FALSE;
  if (level != NULL)
    *level = parsed;
  return TRUE;
}

SiplabServeLogLevel
siplab_cli_serve_log_priority (const char *line)
{
  if (g_str_has_prefix (line, "cannot ") || strstr (line, ": cannot ") != NULL ||
      g_str_has_prefix (line, "error"))
    return SIPLAB_SERVE_LOG_ERROR;
  if (g_str_has_prefix (line, "warning") || strstr (line, "dropped") != NULL)
    return SIPLAB_SERVE_LOG_WARNING;
  return SIPLAB_SERVE_LOG_INFO;
}

/* systemd sets $JOURNAL_STREAM to "DEVICE:INODE" of the stream it connects to stderr. */
static gboolean
stderr_is_journal (void)
{
  const char *env = g_getenv ("JOURNAL_STREAM");
  guint64 dev, ino;
  struct stat st;

  if (env == NULL || sscanf (env, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, &dev, &ino) != 2)
    return FALSE;
  return fstat (STDERR_FILENO, &st) == 0 && (guint64) st.st_dev == dev &&
         (guint64) st.st_ino == ino;
}

const char *
siplab_cli_serve_log_prefix (SiplabServeLogLevel level)
{
  static int journal = -1;

  if (journal == -1)
    journal = stderr_is_journal ();
  if (!journal)
    return "";
  return level == SIPLAB_SERVE_LOG_ERROR ? "<3>" :
         level == SIPLAB_SERVE_LOG_WARNING ? "<4>" : "<6>";
}
