/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "siplab-cli-audit.h"

#include <stdio.h>

#include "sim-audit.h"
#include "siplab-cli-common.h"
#include "siplab-cli-serve-config.h"

static char *
find_common_passwords (void)
{
  const char *env = g_getenv ("SIPLAB_COMMON_PASSWORDS");
  const char *candidates[3] = { NULL };
  char *installed;
  guint n = 0;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  /* An installation's own copy first, wherever it was unpacked (siplab-cli-common.h). */
  installed = siplab_cli_installed_data_path ("common-passwords.txt");
  if (installed != NULL)
    return installed;
#ifdef SIPLAB_SOURCE_COMMON_PASSWORDS
  candidates[n++] = SIPLAB_SOURCE_COMMON_PASSWORDS;
#endif
#ifdef SIPLAB_DATA_COMMON_PASSWORDS
  candidates[n++] = SIPLAB_DATA_COMMON_PASSWORDS;
#endif
  for (guint i = 0; i < n; i++)
    if (g_file_test (candidates[i], G_FILE_TEST_IS_REGULAR))
      return g_strdup (candidates[i]);
  return NULL;
}

GHashTable *
siplab_cli_common_passwords (void)
{
  static GHashTable *common;
  static gboolean tried;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (tried)
    return common;
  tried = TRUE;
  path = find_common_passwords ();
  if (path == NULL)
    {
      fprintf (stderr, "%ssiplab-cli: warning: common-passwords.txt not found; the password "
                       "audit checks only the length\n",
               siplab_cli_serve_log_prefix (SIPLAB_SERVE_LOG_WARNING));
      return NULL;
    }
  common = sim_audit_read_common_passwords (path, &error);
  if (common == NULL)
    fprintf (stderr, "%ssiplab-cli: warning: %s; the password audit checks only the length\n",
             siplab_cli_serve_log_prefix (SIPLAB_SERVE_LOG_WARNING), error->message);
  return common;
}

void
siplab_cli_audit_users (const char *path)
{
  g_autoptr(GPtrArray) warnings = NULL;

  if (path == NULL)
    return;
  warnings = sim_audit_users_file (path, siplab_cli_common_passwords (), NULL);
  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    fprintf (stderr, "%ssiplab-cli serve: warning: %s\n",
             siplab_cli_serve_log_prefix (SIPLAB_SERVE_LOG_WARNING),
             (const char *) warnings->pdata[i]);
}
