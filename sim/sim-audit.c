/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-audit.h"

#include <string.h>

GHashTable *
sim_audit_read_common_passwords (const char  *path,
                                 GError     **error)
{
  g_autoptr(GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, NULL, error))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (*line == '\0' || *line == '#' || strlen (line) > SIM_AUDIT_MAX_COMMON_LENGTH)
        continue;
      if (g_hash_table_size (set) >= SIM_AUDIT_MAX_COMMON_PASSWORDS)
        break;
      g_hash_table_add (set, g_ascii_strdown (line, -1));
    }
  return g_steal_pointer (&set);
}

gboolean
sim_audit_password_is_weak (const char  *password,
                            GHashTable  *common,
                            const char **why)
{
  const char *reason = NULL;

  g_return_val_if_fail (password != NULL, FALSE);

  /* A file that is not UTF-8 is counted in bytes: still a fair measure of its length. */
  if ((g_utf8_validate (password, -1, NULL) ? g_utf8_strlen (password, -1)
                                            : (glong) strlen (password))
      < SIM_AUDIT_MIN_PASSWORD_LENGTH)
    reason = "is shorter than " G_STRINGIFY (SIM_AUDIT_MIN_PASSWORD_LENGTH) " characters";
  else if (common != NULL)
    {
      g_autofree char *lower = g_ascii_strdown (password, -1);
      if (g_hash_table_contains (common, lower))
        reason = "is in the common-password list";
    }
  if (why != NULL)
    *why = reason;
  return reason != NULL;
}

GPtrArray *
sim_audit_users (const char *path,
                 const char *contents,
                 GHashTable *common)
{
  GPtrArray *warnings = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (path != NULL && contents != NULL, warnings);

  /* The same reading of a line as sim_users_parse(): stripped, the name before the first
   * colon (chomped), the password everything after it. */
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *colon;
      const char *why;

      if (*line == '\0' || *line == '#' || (colon = strchr (line, ':')) == NULL)
        continue;
      *colon = '\0';
      g_strchomp (line);
      if (*line == '\0' || colon[1] == '\0')
        continue;
      if (sim_audit_password_is_weak (colon + 1, common, &why))
        g_ptr_array_add (warnings,
                         g_strdup_printf ("%s:%u: user '%s': the password %s; a sniffer who "
                                          "captures one 401 and its answer can guess it "
                                          "offline", path, i + 1, line, why));
      /* The line held a password: leave no copy of it in freed memory. */
      memset (colon + 1, 0, strlen (colon + 1));
    }
  return warnings;
}

GPtrArray *
sim_audit_users_file (const char  *path,
                      GHashTable  *common,
                      GError     **error)
{
  g_autofree char *contents = NULL;
  GPtrArray *warnings;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, NULL, error))
    return NULL;
  warnings = sim_audit_users (path, contents, common);
  memset (contents, 0, strlen (contents));
  return warnings;
}
