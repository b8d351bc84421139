/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * `siplab-cli serve --config FILE`: a GKeyFile whose keys are serve's flags (siplab-serve.conf(5),
 * docs/man/siplab-serve.conf.5.scd).  The file is turned into the flags it stands for, placed
 * before the command line's own, so a flag given on the command line overrides the file: the last
 * value of an option wins, and a --listen on the command line replaces every listener of the file.
 *
 * Every mistake is reported as "FILE:LINE: what is wrong": GKeyFile's own errors carry no line, so
 * the file is scanned line by line first.  Unknown groups and keys are errors (a typo must not be
 * silently ignored), and so is a key given twice.  Relative paths are relative to the file's
 * directory, and a path may start with ${CREDENTIALS_DIRECTORY}/ (systemd's LoadCredential=).
 */

/* The largest configuration file read: a few dozen keys, never megabytes. */
#define SIPLAB_SERVE_CONFIG_MAX_BYTES (64 * 1024)

/* Log levels of the [log] level key and --log-level: which status lines are printed. */
typedef enum {
  SIPLAB_SERVE_LOG_ERROR = 3,    /* sd-daemon's priorities (SD_ERR, SD_WARNING, SD_INFO) */
  SIPLAB_SERVE_LOG_WARNING = 4,
  SIPLAB_SERVE_LOG_INFO = 6,
} SiplabServeLogLevel;

/*
 * Returns a new argument vector: @argv[0], the flags @argv names with --config FILE (or
 * --config=FILE, -c FILE) read from FILE, then the rest of @argv without the --config.  Without
 * --config, a copy of @argv.  NULL with @error set ("FILE:LINE: ...") when the file is wrong.
 */
char **siplab_cli_serve_config_expand (int          argc,
                                       char       **argv,
                                       GError     **error);

/* "error", "warning" or "info" (also "err", "warn", "notice"): FALSE if @text is none. */
gboolean siplab_cli_serve_log_level_parse (const char          *text,
                                           SiplabServeLogLevel *level);

/*
 * "<3>", "<4>" or "<6>" for @level when stderr is the journal (systemd's $JOURNAL_STREAM names
 * it), so that a line written there gets its priority (SyslogLevelPrefix=); "" otherwise.
 */
const char *siplab_cli_serve_log_prefix (SiplabServeLogLevel level);

/* The priority of a status line: "cannot ..." is an error, "warning: ..." a warning. */
SiplabServeLogLevel siplab_cli_serve_log_priority (const char *line);

G_END_DECLS
