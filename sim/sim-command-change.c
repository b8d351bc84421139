/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-command-private.h"

#include <string.h>

/*
 * The two changes the command language shares with the scenario's statements: a link's
 * parameters (the "link" verb and statement) and the registrar's policy (the "policy" verb and
 * statement, applied by sim_policy_change_apply when a scenario is built or the verb runs).
 * Both are read, checked and written here once.
 */

#define SYNTAX   SIM_COMMAND_ERROR_SYNTAX
#define INVALID  SIM_COMMAND_ERROR_INVALID

/* ------------------------------------------------------------------------------------------ */
/* Links                                                                                      */

void
_sim_link_change_clear (SimLinkChange *link)
{
  g_clear_pointer (&link->a, g_free);
  g_clear_pointer (&link->b, g_free);
}

void
_sim_link_change_apply (const SimLinkChange *link,
                        SimLinkParams       *params)
{
  if (link->fields & SIM_LINK_FIELD_LATENCY)
    params->latency = link->params.latency;
  if (link->fields & SIM_LINK_FIELD_JITTER)
    params->jitter = link->params.jitter;
  if (link->fields & SIM_LINK_FIELD_LOSS)
    params->loss = link->params.loss;
  if (link->fields & SIM_LINK_FIELD_TLS)
    params->tls = link->params.tls;
}

/* "tls" alone or "tls on" puts the link on TLS, "tls off" takes it off. */
static gboolean
read_tls (SimWords      *w,
          SimLinkChange *link)
{
  link->params.tls = TRUE;
  if (_sim_words_accept (w, "on"))
    return TRUE;
  if (_sim_words_accept (w, "off"))
    link->params.tls = FALSE;
  return TRUE;
}

/* Link parameters: any of "latency D", "jitter D", "loss P%", "tls [on|off]", at least one. */
static gboolean
read_link_params (SimWords      *w,
                  SimLinkChange *link)
{
  while (!_sim_words_at_end (w))
    {
      const char *key = _sim_words_next (w, "link parameter");
      SimLinkFields field;
      gboolean ok;

      if (strcmp (key, "latency") == 0)
        {
          field = SIM_LINK_FIELD_LATENCY;
          ok = _sim_words_next_duration (w, "latency", &link->params.latency);
        }
      else if (strcmp (key, "jitter") == 0)
        {
          field = SIM_LINK_FIELD_JITTER;
          ok = _sim_words_next_duration (w, "jitter", &link->params.jitter);
        }
      else if (strcmp (key, "loss") == 0)
        {
          field = SIM_LINK_FIELD_LOSS;
          ok = _sim_words_next_percent (w, "loss", &link->params.loss);
        }
      else if (strcmp (key, "tls") == 0)
        {
          field = SIM_LINK_FIELD_TLS;
          ok = read_tls (w, link);
        }
      else
        return _sim_words_fail (w, SYNTAX, "unknown link parameter '%s' (expected latency, "
                                "jitter, loss or tls)", key);
      if (!ok)
        return FALSE;
      if (link->fields & field)
        return _sim_words_fail (w, INVALID, "'%s' is given twice", key);
      link->fields |= field;
    }
  if (link->fields == 0)
    return _sim_words_fail (w, SYNTAX, "missing link parameters (latency, jitter, loss or tls)");
  return TRUE;
}

gboolean
_sim_link_change_read (SimWords              *w,
                       const SimCommandScope *scope,
                       SimLinkChange         *link)
{
  const char *a = _sim_words_next (w, "'default' or two node names");
  const char *b;

  if (a == NULL)
    return FALSE;
  if (strcmp (a, "default") != 0)
    {
      if (!_sim_command_check_node (w, scope, a, "node"))
        return FALSE;
      b = _sim_words_next (w, "the second node of the link");
      if (b == NULL || !_sim_command_check_node (w, scope, b, "node"))
        return FALSE;
      if (strcmp (a, b) == 0)
        return _sim_words_fail (w, INVALID, "a link joins two different nodes, not '%s' to "
                                "itself", a);
      link->a = g_strdup (a);
      link->b = g_strdup (b);
    }
  return read_link_params (w, link);
}

void
_sim_link_change_write (const SimLinkChange *link,
                        GString             *s)
{
  if (link->a == NULL)
    g_string_append (s, " default");
  else
    {
      _sim_words_append (s, link->a);
      _sim_words_append (s, link->b);
    }
  if (link->fields & SIM_LINK_FIELD_LATENCY)
    {
      g_string_append (s, " latency");
      _sim_words_append_duration (s, link->params.latency);
    }
  if (link->fields & SIM_LINK_FIELD_JITTER)
    {
      g_string_append (s, " jitter");
      _sim_words_append_duration (s, link->params.jitter);
    }
  if (link->fields & SIM_LINK_FIELD_LOSS)
    {
      g_string_append (s, " loss");
      _sim_words_append_percent (s, link->params.loss);
    }
  if (link->fields & SIM_LINK_FIELD_TLS)
    g_string_append (s, link->params.tls ? " tls" : " tls off");
}

/* ------------------------------------------------------------------------------------------ */
/* Policy                                                                                     */

static gboolean
read_min_expires (SimWords        *w,
                  SimPolicyChange *c)
{
  return _sim_words_next_seconds (w, "min-expires", &c->min_expires);
}

static gboolean
read_default_expires (SimWords        *w,
                      SimPolicyChange *c)
{
  return _sim_words_next_seconds (w, "default-expires", &c->default_expires);
}

static gboolean
read_max_expires (SimWords        *w,
                  SimPolicyChange *c)
{
  return _sim_words_next_seconds (w, "max-expires", &c->max_expires);
}

/* A word out of two: @out is TRUE for @yes. */
static gboolean
read_choice (SimWords   *w,
             const char *key,
             const char *no,
             const char *yes,
             gboolean   *out)
{
  g_autofree char *what = g_strdup_printf ("%s or %s after '%s'", no, yes, key);
  const char *v = _sim_words_next (w, what);

  if (v == NULL)
    return FALSE;
  if (strcmp (v, no) != 0 && strcmp (v, yes) != 0)
    return _sim_words_fail (w, SYNTAX, "%s is '%s' or '%s', not '%s'", key, no, yes, v);
  *out = strcmp (v, yes) == 0;
  return TRUE;
}

static gboolean
read_too_brief (SimWords        *w,
                SimPolicyChange *c)
{
  return read_choice (w, "too-brief", "423", "raise", &c->raise_to_min);
}

static gboolean
read_max_contacts (SimWords        *w,
                   SimPolicyChange *c)
{
  guint64 n;

  if (!_sim_words_next_uint (w, "max-contacts", SIM_COMMAND_MAX_CONTACTS, &n))
    return FALSE;
  if (n == 0)
    return _sim_words_fail (w, INVALID, "max-contacts must be at least 1");
  c->max_contacts = (guint) n;
  return TRUE;
}

static gboolean
read_when_full (SimWords        *w,
                SimPolicyChange *c)
{
  return read_choice (w, "when-full", "503", "replace-oldest", &c->replace_oldest);
}

static gboolean
read_auth (SimWords        *w,
           SimPolicyChange *c)
{
  return _sim_words_next_switch (w, "auth", &c->require_auth);
}

static gboolean
read_proxy_auth (SimWords        *w,
                 SimPolicyChange *c)
{
  return _sim_words_next_switch (w, "proxy-auth", &c->proxy_auth);
}

static gboolean
read_algorithms (SimWords        *w,
                 SimPolicyChange *c)
{
  const char *v = _sim_words_next (w, "algorithm list after 'algorithms' (like MD5,SHA-256)");
  g_auto(GStrv) names = NULL;

  if (v == NULL)
    return FALSE;
  names = g_strsplit (v, ",", -1);
  c->n_algorithms = 0;
  for (guint i = 0; names[i] != NULL; i++)
    {
      SimDigestAlgorithm algorithm;

      if (*names[i] == '\0' || !sim_digest_algorithm_from_name (names[i], &algorithm))
        return _sim_words_fail (w, INVALID, "unknown digest algorithm '%s' (expected MD5, "
                                "SHA-256 or SHA-512-256, separated by commas)", names[i]);
      for (guint j = 0; j < c->n_algorithms; j++)
        if (c->algorithms[j] == algorithm)
          return _sim_words_fail (w, INVALID, "algorithm '%s' is listed twice", names[i]);
      c->algorithms[c->n_algorithms++] = algorithm;
    }
  return TRUE;
}

static gboolean
read_nonce_lifetime (SimWords        *w,
                     SimPolicyChange *c)
{
  guint seconds;

  if (!_sim_words_next_seconds (w, "nonce-lifetime", &seconds))
    return FALSE;
  if (seconds == 0)
    return _sim_words_fail (w, INVALID, "nonce-lifetime must be at least 1 second");
  c->nonce_lifetime = SIM_SEC (seconds);
  return TRUE;
}

static gboolean
read_one_time (SimWords        *w,
               SimPolicyChange *c)
{
  return _sim_words_next_switch (w, "one-time", &c->one_time);
}

static gboolean
read_route_to (SimWords        *w,
               SimPolicyChange *c)
{
  return read_choice (w, "route-to", "flow", "contact", &c->route_to_contact);
}

static gboolean
read_nonce_count (SimWords        *w,
                  SimPolicyChange *c)
{
  return _sim_words_next_switch (w, "nonce-count", &c->nonce_count);
}

static void
write_policy_value (const SimPolicyChange *c,
                    SimPolicyKeys          key,
                    GString               *s)
{
  switch (key)
    {
    case SIM_POLICY_MIN_EXPIRES: g_string_append_printf (s, " %u", c->min_expires); break;
    case SIM_POLICY_DEFAULT_EXPIRES: g_string_append_printf (s, " %u", c->default_expires); break;
    case SIM_POLICY_MAX_EXPIRES: g_string_append_printf (s, " %u", c->max_expires); break;
    case SIM_POLICY_TOO_BRIEF: g_string_append (s, c->raise_to_min ? " raise" : " 423"); break;
    case SIM_POLICY_MAX_CONTACTS: g_string_append_printf (s, " %u", c->max_contacts); break;
    case SIM_POLICY_WHEN_FULL:
      g_string_append (s, c->replace_oldest ? " replace-oldest" : " 503");
      break;
    case SIM_POLICY_AUTH: g_string_append (s, c->require_auth ? " on" : " off"); break;
    case SIM_POLICY_PROXY_AUTH: g_string_append (s, c->proxy_auth ? " on" : " off"); break;
    case SIM_POLICY_ALGORITHMS:
      for (guint i = 0; i < c->n_algorithms; i++)
        g_string_append_printf (s, "%s%s", i ? "," : " ",
                                sim_digest_algorithm_name (c->algorithms[i]));
      break;
    case SIM_POLICY_NONCE_LIFETIME:
      g_string_append_printf (s, " %" G_GINT64_FORMAT, c->nonce_lifetime / G_USEC_PER_SEC);
      break;
    case SIM_POLICY_ONE_TIME: g_string_append (s, c->one_time ? " on" : " off"); break;
    case SIM_POLICY_ROUTE_TO: g_string_append (s, c->route_to_contact ? " contact" : " flow"); break;
    case SIM_POLICY_NONCE_COUNT: g_string_append (s, c->nonce_count ? " on" : " off"); break;
    default: g_assert_not_reached ();
    }
}

/* The keys in the order they are written and listed. */
static const struct {
  const char *key;
  SimPolicyKeys bit;
  gboolean (*read) (SimWords        *w,
            SimPolicyChange *c);
} policy_keys[] = {
  { "min-expires", SIM_POLICY_MIN_EXPIRES, read_min_expires },
  { "default-expires", SIM_POLICY_DEFAULT_EXPIRES, read_default_expires },
  { "max-expires", SIM_POLICY_MAX_EXPIRES, read_max_expires },
  { "too-brief", SIM_POLICY_TOO_BRIEF, read_too_brief },
  { "max-contacts", SIM_POLICY_MAX_CONTACTS, read_max_contacts },
  { "when-full", SIM_POLICY_WHEN_FULL, read_when_full },
  { "auth", SIM_POLICY_AUTH, read_auth },
  { "proxy-auth", SIM_POLICY_PROXY_AUTH, read_proxy_auth },
  { "algorithms", SIM_POLICY_ALGORITHMS, read_algorithms },
  { "nonce-lifetime", SIM_POLICY_NONCE_LIFETIME, read_nonce_lifetime },
  { "one-time", SIM_POLICY_ONE_TIME, read_one_time },
  { "nonce-count", SIM_POLICY_NONCE_COUNT, read_nonce_count },
  { "route-to", SIM_POLICY_ROUTE_TO, read_route_to },
};

/* RFC 3261 §10.3: the registrar grants between its minimum and maximum. */
static gboolean
check_policy_order (SimWords              *w,
                    const SimPolicyChange *c)
{
#define HAS(k) (c->keys & SIM_POLICY_##k)
  if (HAS (MIN_EXPIRES) && HAS (MAX_EXPIRES) && c->min_expires > c->max_expires)
    return _sim_words_fail (w, INVALID, "min-expires %u is above max-expires %u",
                            c->min_expires, c->max_expires);
  if (HAS (DEFAULT_EXPIRES) && HAS (MAX_EXPIRES) && c->default_expires > c->max_expires)
    return _sim_words_fail (w, INVALID, "default-expires %u is above max-expires %u",
                            c->default_expires, c->max_expires);
  if (HAS (DEFAULT_EXPIRES) && HAS (MIN_EXPIRES) && c->default_expires < c->min_expires)
    return _sim_words_fail (w, INVALID, "default-expires %u is below min-expires %u",
                            c->default_expires, c->min_expires);
#undef HAS
  return TRUE;
}

gboolean
_sim_policy_change_read (SimWords        *w,
                         SimPolicyChange *change)
{
  if (_sim_words_at_end (w))
    return _sim_words_fail (w, SYNTAX, "missing policy settings (like min-expires 60)");
  while (!_sim_words_at_end (w))
    {
      const char *key = _sim_words_next (w, "policy key");
      guint i;

      for (i = 0; i < G_N_ELEMENTS (policy_keys); i++)
        if (strcmp (key, policy_keys[i].key) == 0)
          break;
      if (i == G_N_ELEMENTS (policy_keys))
        return _sim_words_fail (w, SYNTAX, "unknown policy key '%s' (expected min-expires, "
                                "default-expires, max-expires, too-brief, max-contacts, "
                                "when-full, auth, proxy-auth, algorithms, nonce-lifetime, "
                                "one-time, nonce-count or route-to)", key);
      if (!policy_keys[i].read (w, change))
        return FALSE;
      change->keys |= policy_keys[i].bit;
    }
  return check_policy_order (w, change);
}

void
_sim_policy_change_write (const SimPolicyChange *change,
                          GString               *s)
{
  for (guint i = 0; i < G_N_ELEMENTS (policy_keys); i++)
    if (change->keys & policy_keys[i].bit)
      {
        g_string_append_printf (s, " %s", policy_keys[i].key);
        write_policy_value (change, policy_keys[i].bit, s);
      }
}

gboolean
sim_policy_change_apply (const SimPolicyChange  *change,
                         SimWorld               *world,
                         GError                **error)
{
  SimRegistrar *registrar;
  SimAuth *auth;
  SimRegistrarPolicy policy;

  g_return_val_if_fail (change != NULL, FALSE);
  g_return_val_if_fail (SIM_IS_WORLD (world), FALSE);

  registrar = sim_world_get_registrar (world);
  auth = sim_world_get_auth (world);
  if (registrar == NULL)
    {
      g_set_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_RUN, "this scene has no registrar");
      return FALSE;
    }
  policy = *sim_registrar_get_policy (registrar);
#define HAS(k) (change->keys & SIM_POLICY_##k)
  if (HAS (MIN_EXPIRES))
    policy.min_expires = change->min_expires;
  if (HAS (DEFAULT_EXPIRES))
    policy.default_expires = change->default_expires;
  if (HAS (MAX_EXPIRES))
    policy.max_expires = change->max_expires;
  if (HAS (TOO_BRIEF))
    policy.raise_to_min = change->raise_to_min;
  if (HAS (MAX_CONTACTS))
    policy.max_contacts = change->max_contacts;
  if (HAS (WHEN_FULL))
    policy.replace_oldest = change->replace_oldest;
  if (HAS (AUTH))
    policy.require_auth = change->require_auth;
  if (HAS (PROXY_AUTH))
    policy.proxy_auth = change->proxy_auth;
  if (HAS (ROUTE_TO))
    policy.route_to_contact = change->route_to_contact;
  /* The given keys were checked against each other when parsed; here against the others. */
  if (policy.min_expires > policy.max_expires || policy.default_expires < policy.min_expires ||
      policy.default_expires > policy.max_expires)
    {
      g_set_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_INVALID,
                   "the policy needs min-expires <= default-expires <= max-expires, but they are "
                   "%u, %u and %u (with the registrar's values for keys not given)",
                   policy.min_expires, policy.default_expires, policy.max_expires);
      return FALSE;
    }
  /* The policy copies the domain string; ours is borrowed from the registrar's. */
  sim_registrar_set_policy (registrar, &policy);
  if (HAS (ALGORITHMS))
    sim_auth_set_algorithms (auth, change->algorithms, change->n_algorithms);
  if (HAS (NONCE_LIFETIME))
    sim_auth_set_nonce_lifetime (auth, change->nonce_lifetime);
  if (HAS (ONE_TIME))
    sim_auth_set_one_time (auth, change->one_time);
  if (HAS (NONCE_COUNT))
    sim_auth_set_nonce_count (auth, change->nonce_count);
#undef HAS
  return TRUE;
}
