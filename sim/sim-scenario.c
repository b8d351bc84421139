/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-scenario.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>

/*
 * The scenario format, one statement a line (docs/scenario-format.md has the full reference):
 *
 *   title Register with digest authentication
 *   server registrar 10.0.0.1 domain lab.example
 *   user alice password secret123 name "Alice"
 *   phone alice-desk user alice ip 10.0.0.11
 *   at 0s register alice-desk
 *   run 60s
 *
 * Everything is checked while parsing, with the line it is on, so a teacher sees
 * "intro.scn:12: unknown phone 'alice-dsk'" before anything runs.  A name must be declared
 * before a line uses it.  The world itself reports what only running can tell (a hang-up
 * without a call): such an action leaves a note with action "error" in the trace.
 */

G_DEFINE_QUARK (sim-scenario-error-quark, sim_scenario_error)
G_DEFINE_BOXED_TYPE (SimScenario, sim_scenario, sim_scenario_ref, sim_scenario_unref)

#define MAX_NAME_LEN 32
#define MAX_DURATION SIM_SEC ((gint64) 100 * 24 * 3600)   /* 100 days */
#define DEFAULT_SEED 1
#define RUN_AFTER_LAST_ACTION SIM_SEC (60)

/* Error codes, short: they are on almost every line of the parser. */
#define SYNTAX  SIM_SCENARIO_ERROR_SYNTAX
#define INVALID SIM_SCENARIO_ERROR_INVALID

/* ------------------------------------------------------------------------------------------ */
/* The model                                                                                  */

static void
node_free (SimScenarioNode *node)
{
  g_free (node->name);
  g_free (node->ip);
  g_free (node->domain);
  g_free (node->user);
  g_free (node->password);
  g_free (node);
}

static void
user_free (SimScenarioUser *user)
{
  g_free (user->name);
  g_free (user->password);
  g_free (user->display_name);
  g_free (user);
}

static void
link_clear (SimScenarioLink *link)
{
  g_clear_pointer (&link->a, g_free);
  g_clear_pointer (&link->b, g_free);
}

static void
link_free (SimScenarioLink *link)
{
  link_clear (link);
  g_free (link);
}

static void
action_free (SimScenarioAction *action)
{
  g_free (action->device);
  g_free (action->user);
  g_free (action->target);
  g_free (action->value);
  link_clear (&action->link);
  g_free (action);
}

SimScenario *
sim_scenario_new (const char *file)
{
  SimScenario *self = g_new0 (SimScenario, 1);

  self->ref_count = 1;
  self->file = g_strdup (file ? file : "<scenario>");
  self->seed = DEFAULT_SEED;
  self->mode = SIM_MODE_P2P;
  self->users = g_ptr_array_new_with_free_func ((GDestroyNotify) user_free);
  self->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  self->links = g_ptr_array_new_with_free_func ((GDestroyNotify) link_free);
  self->actions = g_ptr_array_new_with_free_func ((GDestroyNotify) action_free);
  return self;
}

SimScenario *
sim_scenario_ref (SimScenario *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
sim_scenario_unref (SimScenario *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->file);
  g_free (self->title);
  link_clear (&self->default_link);
  g_ptr_array_unref (self->users);
  g_ptr_array_unref (self->nodes);
  g_ptr_array_unref (self->links);
  g_ptr_array_unref (self->actions);
  g_free (self);
}

const SimScenarioNode *
sim_scenario_find_node (SimScenario *self,
                        const char  *name)
{
  g_return_val_if_fail (self != NULL, NULL);
  for (guint i = 0; name != NULL && i < self->nodes->len; i++)
    {
      const SimScenarioNode *node = self->nodes->pdata[i];
      if (strcmp (node->name, name) == 0)
        return node;
    }
  return NULL;
}

const SimScenarioUser *
sim_scenario_find_user (SimScenario *self,
                        const char  *name)
{
  g_return_val_if_fail (self != NULL, NULL);
  for (guint i = 0; name != NULL && i < self->users->len; i++)
    {
      const SimScenarioUser *user = self->users->pdata[i];
      if (strcmp (user->name, name) == 0)
        return user;
    }
  return NULL;
}

static const SimScenarioNode *
find_node_by_ip (SimScenario *self,
                 const char  *ip)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      const SimScenarioNode *node = self->nodes->pdata[i];
      if (strcmp (node->ip, ip) == 0)
        return node;
    }
  return NULL;
}

const char *
sim_scenario_get_server (SimScenario *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  for (guint i = 0; i < self->nodes->len; i++)
    {
      const SimScenarioNode *node = self->nodes->pdata[i];
      if (node->kind == SIM_SCENARIO_NODE_SERVER)
        return node->name;
    }
  return NULL;
}

SimTime
sim_scenario_get_run_length (SimScenario *self)
{
  const SimScenarioAction *last;

  g_return_val_if_fail (self != NULL, 0);
  if (self->has_run)
    return self->run;
  if (self->actions->len == 0)
    return RUN_AFTER_LAST_ACTION;
  last = self->actions->pdata[self->actions->len - 1];
  return last->at + RUN_AFTER_LAST_ACTION;
}

/* ------------------------------------------------------------------------------------------ */
/* Durations                                                                                  */

static const struct {
  const char *suffix;
  SimTime usec;
} units[] = {
  { "us", 1 },
  { "ms", 1000 },
  { "s", G_USEC_PER_SEC },
  { "min", SIM_SEC (60) },
  { "m", SIM_SEC (60) },
  { "h", SIM_SEC (3600) },
};

/* Decimal arithmetic on integers: "1.5s" is exactly 1500000 µs, on every machine. */
gboolean
sim_scenario_parse_duration (const char  *text,
                             SimTime     *out,
                             GError     **error)
{
  const char *p = text;
  guint64 whole = 0, frac = 0, scale = 1;
  gsize n_whole = 0, n_frac = 0;
  SimTime unit = 0;

  g_return_val_if_fail (text != NULL, FALSE);

  for (; g_ascii_isdigit (*p); p++, n_whole++)
    {
      if (whole > G_MAXUINT64 / 100)
        goto too_long;
      whole = whole * 10 + (*p - '0');
    }
  if (*p == '.')
    for (p++; g_ascii_isdigit (*p); p++, n_frac++)
      {
        if (n_frac >= 9)
          {
            g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                         "'%s' has too many decimals", text);
            return FALSE;
          }
        frac = frac * 10 + (*p - '0');
        scale *= 10;
      }
  if (n_whole + n_frac == 0)
    {
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                   "'%s' is not a duration (write it like 1.5s, 500ms, 2m or 1h)", text);
      return FALSE;
    }
  if (*p == '\0')
    {
      if (whole == 0 && frac == 0)
        {
          *out = 0;
          return TRUE;
        }
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                   "'%s' needs a unit: %ss, %sms, %sm or %sh", text, text, text, text, text);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (strcmp (p, units[i].suffix) == 0)
      unit = units[i].usec;
  if (unit == 0)
    {
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                   "unknown unit '%s' in '%s' (use us, ms, s, m or h)", p, text);
      return FALSE;
    }
  if ((frac * unit) % scale != 0)
    {
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
                   "'%s' is finer than a microsecond", text);
      return FALSE;
    }
  if (whole > (guint64) MAX_DURATION / unit)
    goto too_long;
  *out = (SimTime) (whole * unit + frac * unit / scale);
  if (*out > MAX_DURATION)
    goto too_long;
  return TRUE;

too_long:
  g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_SYNTAX,
               "'%s' is too long (at most 100 days)", text);
  return FALSE;
}

char *
sim_scenario_format_duration (SimTime t)
{
  if (t < 0)
    return g_strdup_printf ("-%" G_GINT64_FORMAT "us", -t);
  if (t == 0)
    return g_strdup ("0s");
  if (t % SIM_SEC (3600) == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "h", t / SIM_SEC (3600));
  if (t % SIM_SEC (60) == 0 && t < SIM_SEC (3600))
    return g_strdup_printf ("%" G_GINT64_FORMAT "m", t / SIM_SEC (60));
  if (t % SIM_SEC (1) == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "s", t / SIM_SEC (1));
  if (t < SIM_SEC (1) && t % SIM_MSEC (1) == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "ms", t / SIM_MSEC (1));
  if (t % SIM_MSEC (1) == 0)
    {
      char frac[4];
      int n;

      g_snprintf (frac, sizeof frac, "%03d", (int) (t % SIM_SEC (1) / 1000));
      for (n = 3; n > 1 && frac[n - 1] == '0'; n--)
        ;
      frac[n] = '\0';
      return g_strdup_printf ("%" G_GINT64_FORMAT ".%ss", t / SIM_SEC (1), frac);
    }
  return g_strdup_printf ("%" G_GINT64_FORMAT "us", t);
}

/* ------------------------------------------------------------------------------------------ */
/* Lines and tokens                                                                           */

typedef struct {
  char *text;
  gboolean quoted;
} Token;

static void
token_free (Token *token)
{
  g_free (token->text);
  g_free (token);
}

typedef struct {
  SimScenario *sc;
  guint line;
  GPtrArray *tokens;         /* Token* of the current line */
  guint pos;
  GError **error;
} Parser;

static gboolean fail (Parser     *p,
                      int         code,
                      const char *format,
                      ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (Parser     *p,
      int         code,
      const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (p->error, SIM_SCENARIO_ERROR, code, "%s:%u: %s", p->sc->file, p->line, message);
  return FALSE;
}

/* Reports @local (a message without position) at the current line. */
static gboolean
fail_with (Parser *p,
           GError *local)
{
  int code = local->domain == SIM_SCENARIO_ERROR ? local->code : INVALID;
  gboolean ret = fail (p, code, "%s", local->message);
  g_error_free (local);
  return ret;
}

/*
 * Splits @line into words.  '#' starts a comment; double quotes group words and protect
 * '#' ("a \"quoted\" word" and a backslash work inside them).
 */
static gboolean
tokenize (Parser     *p,
          const char *line)
{
  const char *c = line;

  g_ptr_array_set_size (p->tokens, 0);
  p->pos = 0;
  for (;;)
    {
      Token *token;

      while (*c == ' ' || *c == '\t' || *c == '\r')
        c++;
      if (*c == '\0' || *c == '#')
        return TRUE;
      token = g_new0 (Token, 1);
      g_ptr_array_add (p->tokens, token);
      if (*c == '"')
        {
          GString *s = g_string_new (NULL);

          token->quoted = TRUE;
          for (c++; *c != '"'; c++)
            {
              if (*c == '\0')
                {
                  g_string_free (s, TRUE);
                  return fail (p, SYNTAX, "a quoted text is not closed (missing \")");
                }
              if (*c == '\\' && (c[1] == '"' || c[1] == '\\'))
                c++;
              g_string_append_c (s, *c);
            }
          c++;
          token->text = g_string_free (s, FALSE);
          if (*c != '\0' && *c != ' ' && *c != '\t' && *c != '\r' && *c != '#')
            return fail (p, SYNTAX, "put a space after the closing quote");
        }
      else
        {
          const char *start = c;

          while (*c != '\0' && *c != ' ' && *c != '\t' && *c != '\r' && *c != '#')
            {
              if (*c == '"')
                return fail (p, SYNTAX,
                             "a quote inside a word: put quotes around the whole value");
              c++;
            }
          token->text = g_strndup (start, c - start);
        }
    }
}

static gboolean
at_end (Parser *p)
{
  return p->pos >= p->tokens->len;
}

static const char *
peek (Parser *p)
{
  return at_end (p) ? NULL : ((Token *) p->tokens->pdata[p->pos])->text;
}

/* Whether the next word is the bare (unquoted) keyword @word; consumes it if so. */
static gboolean
accept (Parser     *p,
        const char *word)
{
  Token *token;

  if (at_end (p))
    return FALSE;
  token = p->tokens->pdata[p->pos];
  if (token->quoted || strcmp (token->text, word) != 0)
    return FALSE;
  p->pos++;
  return TRUE;
}

/* The next word, or an error naming what is missing. */
static const char *
next (Parser     *p,
      const char *what)
{
  if (at_end (p))
    {
      fail (p, SYNTAX, "missing %s", what);
      return NULL;
    }
  return ((Token *) p->tokens->pdata[p->pos++])->text;
}

static gboolean
expect_end (Parser *p)
{
  if (at_end (p))
    return TRUE;
  return fail (p, SYNTAX, "unexpected '%s' at the end of the line", peek (p));
}

/* The rest of the line as one text (for titles and notes). */
static char *
rest_of_line (Parser *p)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (; !at_end (p); p->pos++)
    {
      if (s->len > 0)
        g_string_append_c (s, ' ');
      g_string_append (s, ((Token *) p->tokens->pdata[p->pos])->text);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Values                                                                                     */

static gboolean
valid_name (const char *name)
{
  if (!g_ascii_isalpha (name[0]) || strlen (name) > MAX_NAME_LEN)
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_' && *c != '.')
      return FALSE;
  return TRUE;
}

static const char *
next_name (Parser     *p,
           const char *what)
{
  const char *name = next (p, what);

  if (name == NULL)
    return NULL;
  if (!valid_name (name))
    {
      fail (p, SYNTAX,
            "'%s' is not a valid %s: use letters, digits, '-', '_' and '.', starting with a "
            "letter, at most %d characters", name, what, MAX_NAME_LEN);
      return NULL;
    }
  return name;
}

/* A DNS name for AORs (sip:alice@DOMAIN): letters, digits, '-' and dots between labels. */
static gboolean
valid_domain (const char *text)
{
  gboolean label_start = TRUE;

  if (*text == '\0' || strlen (text) > 253)
    return FALSE;
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '.')
        {
          if (label_start)
            return FALSE;
          label_start = TRUE;
        }
      else if (g_ascii_isalnum (*c) || (*c == '-' && !label_start))
        label_start = FALSE;
      else
        return FALSE;
    }
  return !label_start;
}

static gboolean
valid_ipv4 (const char *text)
{
  guint parts = 0;
  const char *c = text;

  while (parts < 4)
    {
      const char *start = c;
      guint value = 0, digits = 0;

      for (; g_ascii_isdigit (*c); c++, digits++)
        value = value * 10 + (*c - '0');
      /* No leading zeros: "010" reads as octal to some tools, decimal to others. */
      if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && *start == '0'))
        return FALSE;
      parts++;
      if (parts < 4 && *c++ != '.')
        return FALSE;
    }
  return *c == '\0';
}

static const char *
next_ip (Parser *p)
{
  const char *ip = next (p, "IP address");

  if (ip == NULL)
    return NULL;
  if (!valid_ipv4 (ip))
    {
      if (g_hostname_is_ip_address (ip))
        fail (p, INVALID,
              "'%s': the simulated network has IPv4 addresses only", ip);
      else
        fail (p, SYNTAX, "'%s' is not an IPv4 address (like 10.0.0.11)", ip);
      return NULL;
    }
  return ip;
}

static gboolean
next_uint (Parser     *p,
           const char *what,
           guint64     max,
           guint64    *out)
{
  const char *text = next (p, what);
  g_autoptr(GError) local = NULL;

  if (text == NULL)
    return FALSE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, max, out, &local))
    return fail (p, SYNTAX, "%s must be a whole number from 0 to %" G_GUINT64_FORMAT
                 ", not '%s'", what, max, text);
  return TRUE;
}

static gboolean
next_duration (Parser     *p,
               const char *what,
               SimTime    *out)
{
  const char *text = next (p, what);
  GError *local = NULL;

  if (text == NULL)
    return FALSE;
  if (!sim_scenario_parse_duration (text, out, &local))
    return fail_with (p, local);
  return TRUE;
}

/* A number of seconds; a unit is accepted too ("300", "300s", "5m"). */
static gboolean
next_seconds (Parser     *p,
              const char *what,
              guint      *out)
{
  const char *text = next (p, what);
  guint64 value;
  SimTime t;
  GError *local = NULL;

  if (text == NULL)
    return FALSE;
  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &value, NULL))
    {
      *out = (guint) value;
      return TRUE;
    }
  if (!g_ascii_isdigit (*text))
    return fail (p, SYNTAX, "%s is a number of seconds, like 3600, not '%s'",
                 what, text);
  if (!sim_scenario_parse_duration (text, &t, &local))
    return fail_with (p, local);
  if (t % G_USEC_PER_SEC != 0)
    return fail (p, INVALID, "%s is counted in whole seconds, not '%s'", what, text);
  *out = (guint) (t / G_USEC_PER_SEC);
  return TRUE;
}

static gboolean
next_switch (Parser     *p,
             const char *what,
             gboolean   *out)
{
  const char *text = next (p, what);

  if (text == NULL)
    return FALSE;
  if (strcmp (text, "on") == 0 || strcmp (text, "yes") == 0)
    *out = TRUE;
  else if (strcmp (text, "off") == 0 || strcmp (text, "no") == 0)
    *out = FALSE;
  else
    return fail (p, SYNTAX, "%s is 'on' or 'off', not '%s'", what, text);
  return TRUE;
}

/* "30%", "0.5%" */
static gboolean
next_percent (Parser     *p,
              const char *what,
              double     *out)
{
  const char *text = next (p, what);
  g_autofree char *number = NULL;
  char *end = NULL;
  double value;

  if (text == NULL)
    return FALSE;
  if (!g_str_has_suffix (text, "%"))
    return fail (p, SYNTAX, "write %s as a percentage, like 30%%, not '%s'",
                 what, text);
  number = g_strndup (text, strlen (text) - 1);
  value = g_ascii_strtod (number, &end);
  if (*number == '\0' || end == NULL || *end != '\0' || !g_ascii_isdigit (number[0]) ||
      value < 0.0 || value > 100.0)
    return fail (p, SYNTAX, "%s must be from 0%% to 100%%, not '%s'", what, text);
  *out = value / 100.0;
  return TRUE;
}

static const SimScenarioNode *
need_node (Parser     *p,
           const char *name,
           const char *what)
{
  const SimScenarioNode *node = sim_scenario_find_node (p->sc, name);

  if (node == NULL)
    fail (p, INVALID, "unknown %s '%s' (declare it before this line)", what, name);
  return node;
}

static const char *
next_phone (Parser *p)
{
  const char *name = next (p, "phone name");
  const SimScenarioNode *node;

  if (name == NULL)
    return NULL;
  node = sim_scenario_find_node (p->sc, name);
  if (node == NULL)
    {
      fail (p, INVALID, "unknown phone '%s' (declare it with a 'phone' line "
            "before this one)", name);
      return NULL;
    }
  if (node->kind != SIM_SCENARIO_NODE_PHONE)
    {
      fail (p, INVALID, "'%s' is a %s, not a phone", name,
            node->kind == SIM_SCENARIO_NODE_SERVER ? "server" : "host");
      return NULL;
    }
  return name;
}

static const char *
next_user (Parser *p)
{
  const char *name = next (p, "user name");

  if (name == NULL)
    return NULL;
  if (sim_scenario_find_user (p->sc, name) == NULL)
    {
      fail (p, INVALID, "unknown user '%s' (declare it with a 'user' line "
            "before this one)", name);
      return NULL;
    }
  return name;
}

/* Link parameters: any of "latency D", "jitter D", "loss P%", at least one. */
static gboolean
parse_link_params (Parser          *p,
                   SimScenarioLink *link)
{
  while (!at_end (p))
    {
      const char *key = next (p, "link parameter");
      SimScenarioLinkFields field;

      if (strcmp (key, "latency") == 0)
        {
          field = SIM_SCENARIO_LINK_LATENCY;
          if (!next_duration (p, "latency", &link->params.latency))
            return FALSE;
        }
      else if (strcmp (key, "jitter") == 0)
        {
          field = SIM_SCENARIO_LINK_JITTER;
          if (!next_duration (p, "jitter", &link->params.jitter))
            return FALSE;
        }
      else if (strcmp (key, "loss") == 0)
        {
          field = SIM_SCENARIO_LINK_LOSS;
          if (!next_percent (p, "loss", &link->params.loss))
            return FALSE;
        }
      else
        return fail (p, SYNTAX,
                     "unknown link parameter '%s' (expected latency, jitter or loss)", key);
      if (link->fields & field)
        return fail (p, INVALID, "'%s' is given twice", key);
      link->fields |= field;
    }
  if (link->fields == 0)
    return fail (p, SYNTAX, "missing link parameters (latency, jitter or loss)");
  return TRUE;
}

/* "default" or two different nodes. */
static gboolean
parse_link_ends (Parser          *p,
                 SimScenarioLink *link)
{
  const char *a = next (p, "'default' or two node names");
  const char *b;

  if (a == NULL)
    return FALSE;
  if (strcmp (a, "default") == 0)
    return TRUE;
  if (need_node (p, a, "node") == NULL)
    return FALSE;
  b = next (p, "the second node of the link");
  if (b == NULL || need_node (p, b, "node") == NULL)
    return FALSE;
  if (strcmp (a, b) == 0)
    return fail (p, INVALID, "a link joins two different nodes, not '%s' to itself", a);
  link->a = g_strdup (a);
  link->b = g_strdup (b);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Statements                                                                                 */

static gboolean
check_new_node (Parser     *p,
                const char *name,
                const char *ip)
{
  const SimScenarioNode *other = sim_scenario_find_node (p->sc, name);

  if (other != NULL)
    return fail (p, INVALID, "'%s' is already declared on line %u", name, other->line);
  if (strcmp (name, "default") == 0 || strcmp (name, "user") == 0)
    return fail (p, INVALID, "'%s' is a keyword; choose another name", name);
  other = find_node_by_ip (p->sc, ip);
  if (other != NULL)
    return fail (p, INVALID, "address %s is already used by '%s' (line %u)", ip,
                 other->name, other->line);
  return TRUE;
}

static SimScenarioNode *
add_node (Parser              *p,
          SimScenarioNodeKind  kind,
          const char          *name,
          const char          *ip)
{
  SimScenarioNode *node = g_new0 (SimScenarioNode, 1);

  node->kind = kind;
  node->name = g_strdup (name);
  node->ip = g_strdup (ip);
  node->line = p->line;
  node->expires = -1;
  node->answer_delay = -2;
  g_ptr_array_add (p->sc->nodes, node);
  return node;
}

static gboolean
parse_title (Parser *p)
{
  if (at_end (p))
    return fail (p, SYNTAX, "missing title text");
  g_free (p->sc->title);
  p->sc->title = rest_of_line (p);
  return TRUE;
}

static gboolean
parse_seed (Parser *p)
{
  guint64 seed;

  if (!next_uint (p, "seed", G_MAXUINT32, &seed))
    return FALSE;
  p->sc->seed = (guint32) seed;
  p->sc->has_seed = TRUE;
  return expect_end (p);
}

static gboolean
parse_mode (Parser *p)
{
  const char *mode = next (p, "mode (registrar or p2p)");

  if (mode == NULL)
    return FALSE;
  if (strcmp (mode, "registrar") == 0)
    p->sc->mode = SIM_MODE_REGISTRAR;
  else if (strcmp (mode, "p2p") == 0)
    p->sc->mode = SIM_MODE_P2P;
  else
    return fail (p, SYNTAX, "mode is 'registrar' or 'p2p', not '%s'", mode);
  p->sc->has_mode = TRUE;
  p->sc->mode_line = p->line;
  return expect_end (p);
}

/* server NAME [ip] IP [domain DOMAIN] */
static gboolean
parse_server (Parser *p)
{
  const char *name, *ip, *existing = sim_scenario_get_server (p->sc);
  SimScenarioNode *node;

  if (existing != NULL)
    return fail (p, INVALID, "there is already a server ('%s', line %u)", existing,
                 sim_scenario_find_node (p->sc, existing)->line);
  if ((name = next_name (p, "server name")) == NULL)
    return FALSE;
  accept (p, "ip");
  if ((ip = next_ip (p)) == NULL || !check_new_node (p, name, ip))
    return FALSE;
  node = add_node (p, SIM_SCENARIO_NODE_SERVER, name, ip);
  if (accept (p, "domain"))
    {
      const char *domain = next (p, "domain name after 'domain'");
      if (domain == NULL)
        return FALSE;
      if (!valid_domain (domain))
        return fail (p, SYNTAX, "'%s' is not a domain name", domain);
      node->domain = g_strdup (domain);
    }
  return expect_end (p);
}

static gboolean
parse_policy (Parser *p)
{
  SimScenario *sc = p->sc;

  if (at_end (p))
    return fail (p, SYNTAX, "missing policy settings (like min-expires 60)");
  if (sc->policy_line == 0)
    sc->policy_line = p->line;
  while (!at_end (p))
    {
      const char *key = next (p, "policy key");
      SimScenarioPolicyKeys bit;

      if (strcmp (key, "min-expires") == 0)
        {
          bit = SIM_SCENARIO_POLICY_MIN_EXPIRES;
          if (!next_seconds (p, "min-expires", &sc->min_expires))
            return FALSE;
        }
      else if (strcmp (key, "default-expires") == 0)
        {
          bit = SIM_SCENARIO_POLICY_DEFAULT_EXPIRES;
          if (!next_seconds (p, "default-expires", &sc->default_expires))
            return FALSE;
        }
      else if (strcmp (key, "max-expires") == 0)
        {
          bit = SIM_SCENARIO_POLICY_MAX_EXPIRES;
          if (!next_seconds (p, "max-expires", &sc->max_expires))
            return FALSE;
        }
      else if (strcmp (key, "too-brief") == 0)
        {
          const char *v = next (p, "423 or raise after 'too-brief'");
          bit = SIM_SCENARIO_POLICY_TOO_BRIEF;
          if (v == NULL)
            return FALSE;
          if (strcmp (v, "423") == 0)
            sc->raise_to_min = FALSE;
          else if (strcmp (v, "raise") == 0)
            sc->raise_to_min = TRUE;
          else
            return fail (p, SYNTAX, "too-brief is '423' or 'raise', not '%s'", v);
        }
      else if (strcmp (key, "max-contacts") == 0)
        {
          guint64 n;
          bit = SIM_SCENARIO_POLICY_MAX_CONTACTS;
          if (!next_uint (p, "max-contacts", 1000, &n))
            return FALSE;
          if (n == 0)
            return fail (p, INVALID, "max-contacts must be at least 1");
          sc->max_contacts = (guint) n;
        }
      else if (strcmp (key, "when-full") == 0)
        {
          const char *v = next (p, "503 or replace-oldest after 'when-full'");
          bit = SIM_SCENARIO_POLICY_WHEN_FULL;
          if (v == NULL)
            return FALSE;
          if (strcmp (v, "503") == 0)
            sc->replace_oldest = FALSE;
          else if (strcmp (v, "replace-oldest") == 0)
            sc->replace_oldest = TRUE;
          else
            return fail (p, SYNTAX, "when-full is '503' or 'replace-oldest', not '%s'", v);
        }
      else if (strcmp (key, "auth") == 0)
        {
          bit = SIM_SCENARIO_POLICY_AUTH;
          if (!next_switch (p, "auth", &sc->require_auth))
            return FALSE;
        }
      else if (strcmp (key, "algorithms") == 0)
        {
          const char *v = next (p, "algorithm list after 'algorithms' (like MD5,SHA-256)");
          g_auto(GStrv) names = NULL;

          bit = SIM_SCENARIO_POLICY_ALGORITHMS;
          if (v == NULL)
            return FALSE;
          names = g_strsplit (v, ",", -1);
          sc->n_algorithms = 0;
          for (guint i = 0; names[i] != NULL; i++)
            {
              SimDigestAlgorithm algorithm;

              if (*names[i] == '\0' || !sim_digest_algorithm_from_name (names[i], &algorithm))
                return fail (p, INVALID,
                             "unknown digest algorithm '%s' (expected MD5, SHA-256 or SHA-512-256, "
                             "separated by commas)", names[i]);
              for (guint j = 0; j < sc->n_algorithms; j++)
                if (sc->algorithms[j] == algorithm)
                  return fail (p, INVALID, "algorithm '%s' is listed twice", names[i]);
              sc->algorithms[sc->n_algorithms++] = algorithm;
            }
        }
      else if (strcmp (key, "nonce-lifetime") == 0)
        {
          guint seconds;
          bit = SIM_SCENARIO_POLICY_NONCE_LIFETIME;
          if (!next_seconds (p, "nonce-lifetime", &seconds))
            return FALSE;
          if (seconds == 0)
            return fail (p, INVALID, "nonce-lifetime must be at least 1 second");
          sc->nonce_lifetime = SIM_SEC (seconds);
        }
      else if (strcmp (key, "one-time") == 0)
        {
          bit = SIM_SCENARIO_POLICY_ONE_TIME;
          if (!next_switch (p, "one-time", &sc->one_time))
            return FALSE;
        }
      else if (strcmp (key, "proxy-auth") == 0)
        {
          bit = SIM_SCENARIO_POLICY_PROXY_AUTH;
          if (!next_switch (p, "proxy-auth", &sc->proxy_auth))
            return FALSE;
        }
      else
        return fail (p, SYNTAX,
                     "unknown policy key '%s' (expected min-expires, default-expires, max-expires, "
                     "too-brief, max-contacts, when-full, auth, proxy-auth, algorithms, "
                     "nonce-lifetime or one-time)", key);
      sc->policy_keys |= bit;
    }

  /* RFC 3261 §10.3: the registrar grants between its minimum and maximum. */
#define HAS(k) (sc->policy_keys & SIM_SCENARIO_POLICY_##k)
  if (HAS (MIN_EXPIRES) && HAS (MAX_EXPIRES) && sc->min_expires > sc->max_expires)
    return fail (p, INVALID, "min-expires %u is above max-expires %u",
                 sc->min_expires, sc->max_expires);
  if (HAS (DEFAULT_EXPIRES) && HAS (MAX_EXPIRES) && sc->default_expires > sc->max_expires)
    return fail (p, INVALID, "default-expires %u is above max-expires %u",
                 sc->default_expires, sc->max_expires);
  if (HAS (DEFAULT_EXPIRES) && HAS (MIN_EXPIRES) && sc->default_expires < sc->min_expires)
    return fail (p, INVALID, "default-expires %u is below min-expires %u",
                 sc->default_expires, sc->min_expires);
#undef HAS
  return TRUE;
}

static gboolean
parse_link (Parser *p)
{
  SimScenarioLink link = { 0 };

  link.line = p->line;
  if (!parse_link_ends (p, &link) || !parse_link_params (p, &link))
    {
      link_clear (&link);
      return FALSE;
    }
  if (link.a == NULL)
    {
      /* Several "link default" lines add up. */
      SimScenarioLink *d = &p->sc->default_link;
      if (link.fields & SIM_SCENARIO_LINK_LATENCY)
        d->params.latency = link.params.latency;
      if (link.fields & SIM_SCENARIO_LINK_JITTER)
        d->params.jitter = link.params.jitter;
      if (link.fields & SIM_SCENARIO_LINK_LOSS)
        d->params.loss = link.params.loss;
      d->fields |= link.fields;
      d->line = p->line;
    }
  else
    g_ptr_array_add (p->sc->links, g_memdup2 (&link, sizeof link));
  return TRUE;
}

/* user NAME password P [name "Display Name"] */
static gboolean
parse_user (Parser *p)
{
  const char *name = next (p, "user name");
  const SimScenarioUser *other;
  SimScenarioUser *user;

  if (name == NULL)
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && strchr ("-_.!~*'()&=+$,;?/", *c) == NULL)
      return fail (p, SYNTAX, "'%s' is not a valid SIP user name", name);
  if ((other = sim_scenario_find_user (p->sc, name)) != NULL)
    return fail (p, INVALID, "user '%s' is already declared on line %u", name,
                 other->line);
  user = g_new0 (SimScenarioUser, 1);
  user->name = g_strdup (name);
  user->line = p->line;
  g_ptr_array_add (p->sc->users, user);
  while (!at_end (p))
    {
      if (accept (p, "password"))
        {
          const char *v = next (p, "password after 'password'");
          if (v == NULL)
            return FALSE;
          g_free (user->password);
          user->password = g_strdup (v);
        }
      else if (accept (p, "name"))
        {
          const char *v = next (p, "display name after 'name' (in quotes if it has spaces)");
          if (v == NULL)
            return FALSE;
          g_free (user->display_name);
          user->display_name = g_strdup (v);
        }
      else
        return fail (p, SYNTAX, "unexpected '%s' (a user has 'password' and 'name')",
                     peek (p));
    }
  if (user->password == NULL)
    return fail (p, SYNTAX, "user '%s' needs a password (user %s password SECRET)",
                 name, name);
  return TRUE;
}

/* phone DEVICE user U ip IP [expires N] [password P] [answer-after D|never] */
static gboolean
parse_phone (Parser *p)
{
  const char *name = next_name (p, "phone name");
  const char *user = NULL, *ip = NULL, *password = NULL;
  gint64 expires = -1;
  SimTime answer = -2;
  SimScenarioNode *node;

  if (name == NULL)
    return FALSE;
  while (!at_end (p))
    {
      if (accept (p, "user"))
        {
          if ((user = next_user (p)) == NULL)
            return FALSE;
        }
      else if (accept (p, "ip"))
        {
          if ((ip = next_ip (p)) == NULL)
            return FALSE;
        }
      else if (accept (p, "expires"))
        {
          guint seconds;
          if (!next_seconds (p, "expires", &seconds))
            return FALSE;
          expires = seconds;
        }
      else if (accept (p, "password"))
        {
          if ((password = next (p, "password after 'password'")) == NULL)
            return FALSE;
        }
      else if (accept (p, "answer-after"))
        {
          if (accept (p, "never"))
            answer = -1;
          else if (!next_duration (p, "answer-after", &answer))
            return FALSE;
        }
      else
        return fail (p, SYNTAX, "unexpected '%s' (a phone has user, ip, expires, "
                     "password and answer-after)", peek (p));
    }
  if (user == NULL)
    return fail (p, SYNTAX, "phone '%s' needs a user (phone %s user NAME ip ADDRESS)",
                 name, name);
  if (ip == NULL)
    return fail (p, SYNTAX, "phone '%s' needs an address (phone %s user %s ip "
                 "10.0.0.11)", name, name, user);
  if (!check_new_node (p, name, ip))
    return FALSE;
  node = add_node (p, SIM_SCENARIO_NODE_PHONE, name, ip);
  node->user = g_strdup (user);
  node->expires = expires;
  node->password = g_strdup (password);
  node->answer_delay = answer;
  return TRUE;
}

/* host NAME [ip] IP */
static gboolean
parse_host (Parser *p)
{
  const char *name = next_name (p, "host name");
  const char *ip;

  if (name == NULL)
    return FALSE;
  accept (p, "ip");
  if ((ip = next_ip (p)) == NULL || !check_new_node (p, name, ip))
    return FALSE;
  add_node (p, SIM_SCENARIO_NODE_HOST, name, ip);
  return expect_end (p);
}

static gboolean
parse_run (Parser *p)
{
  if (!next_duration (p, "run length (like 60s)", &p->sc->run))
    return FALSE;
  p->sc->has_run = TRUE;
  return expect_end (p);
}

static const struct {
  const char *word;
  SimScenarioVerb verb;
} verbs[] = {
  { "register", SIM_SCENARIO_REGISTER },
  { "unregister", SIM_SCENARIO_UNREGISTER },
  { "call", SIM_SCENARIO_CALL },
  { "hangup", SIM_SCENARIO_HANGUP },
  { "move", SIM_SCENARIO_MOVE },
  { "power-off", SIM_SCENARIO_POWER_OFF },
  { "power-on", SIM_SCENARIO_POWER_ON },
  { "password", SIM_SCENARIO_PASSWORD },
  { "replay", SIM_SCENARIO_REPLAY },
  { "learn", SIM_SCENARIO_LEARN },
  { "fill-address-books", SIM_SCENARIO_FILL_ADDRESS_BOOKS },
  { "link", SIM_SCENARIO_LINK },
  { "note", SIM_SCENARIO_NOTE },
};

static const char *
verb_word (SimScenarioVerb verb)
{
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (verbs[i].verb == verb)
      return verbs[i].word;
  return "?";
}

static gboolean
parse_action_args (Parser            *p,
                   SimScenarioAction *a)
{
  const char *v;

  switch (a->verb)
    {
    case SIM_SCENARIO_REGISTER:
      if ((v = next_phone (p)) == NULL)
        return FALSE;
      a->device = g_strdup (v);
      if (accept (p, "expires"))
        {
          guint seconds;
          if (!next_seconds (p, "expires", &seconds))
            return FALSE;
          a->expires = seconds;
        }
      break;

    case SIM_SCENARIO_UNREGISTER:
      if ((v = next_phone (p)) == NULL)
        return FALSE;
      a->device = g_strdup (v);
      a->all = accept (p, "all");
      break;

    case SIM_SCENARIO_CALL:
      if ((v = next_phone (p)) == NULL)
        return FALSE;
      a->device = g_strdup (v);
      if ((v = next (p, "who to call (a user name or a sip: URI)")) == NULL)
        return FALSE;
      if (!g_str_has_prefix (v, "sip:") && sim_scenario_find_user (p->sc, v) == NULL)
        return fail (p, INVALID, "unknown user '%s' to call (a declared user "
                     "name or a sip: URI)", v);
      a->target = g_strdup (v);
      break;

    case SIM_SCENARIO_HANGUP:
    case SIM_SCENARIO_POWER_OFF:
    case SIM_SCENARIO_POWER_ON:
      if ((v = next_phone (p)) == NULL)
        return FALSE;
      a->device = g_strdup (v);
      break;

    case SIM_SCENARIO_MOVE:
      if ((v = next_phone (p)) == NULL)
        return FALSE;
      a->device = g_strdup (v);
      if ((v = next_ip (p)) == NULL)
        return FALSE;
      a->value = g_strdup (v);
      break;

    case SIM_SCENARIO_PASSWORD:
      /* "password DEVICE NEW" sets what the phone sends; "password user USER NEW" what the
       * registrar expects. */
      if (accept (p, "user"))
        {
          if ((v = next_user (p)) == NULL)
            return FALSE;
          a->user = g_strdup (v);
        }
      else
        {
          if ((v = next_phone (p)) == NULL)
            return FALSE;
          a->device = g_strdup (v);
        }
      if ((v = next (p, "the new password")) == NULL)
        return FALSE;
      a->value = g_strdup (v);
      break;

    case SIM_SCENARIO_REPLAY:
      if ((v = next_phone (p)) == NULL)
        return FALSE;
      a->device = g_strdup (v);
      while (!at_end (p))
        {
          if (accept (p, "from"))
            {
              if ((v = next (p, "the host that replays, after 'from'")) == NULL ||
                  need_node (p, v, "host") == NULL)
                return FALSE;
              a->target = g_strdup (v);
            }
          else if (accept (p, "new-call-id"))
            a->new_call_id = TRUE;
          else if (accept (p, "bump-cseq"))
            a->bump_cseq = TRUE;
          else
            return fail (p, SYNTAX, "unexpected '%s' (replay takes 'from HOST', "
                         "'new-call-id' and 'bump-cseq')", peek (p));
        }
      break;

    case SIM_SCENARIO_LEARN:
      if ((v = next_phone (p)) == NULL)
        return FALSE;
      a->device = g_strdup (v);
      if ((v = next_user (p)) == NULL)
        return FALSE;
      a->user = g_strdup (v);
      if ((v = next_ip (p)) == NULL)
        return FALSE;
      a->value = g_strdup (v);
      break;

    case SIM_SCENARIO_FILL_ADDRESS_BOOKS:
      break;

    case SIM_SCENARIO_LINK:
      a->link.line = p->line;
      return parse_link_ends (p, &a->link) && parse_link_params (p, &a->link);

    case SIM_SCENARIO_NOTE:
      if (at_end (p))
        return fail (p, SYNTAX, "missing the text of the note");
      a->value = rest_of_line (p);
      break;

    default:
      g_assert_not_reached ();
    }
  return expect_end (p);
}

/* at TIME VERB ARGS... */
static gboolean
parse_at (Parser *p)
{
  const char *word;
  SimScenarioAction *a;
  SimTime at;
  gboolean known = FALSE;

  if (!next_duration (p, "time after 'at' (like 1.5s)", &at))
    return FALSE;
  if ((word = next (p, "action after the time (like register, call, hangup)")) == NULL)
    return FALSE;
  a = g_new0 (SimScenarioAction, 1);
  a->at = at;
  a->line = p->line;
  a->expires = -1;
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (strcmp (word, verbs[i].word) == 0)
      {
        a->verb = verbs[i].verb;
        known = TRUE;
      }
  if (!known)
    {
      action_free (a);
      return fail (p, SYNTAX,
                   "unknown action '%s' (expected register, unregister, call, hangup, move, "
                   "power-off, power-on, password, replay, learn, fill-address-books, link "
                   "or note)",
                   word);
    }
  if (!parse_action_args (p, a))
    {
      action_free (a);
      return FALSE;
    }
  g_ptr_array_add (p->sc->actions, a);
  return TRUE;
}

static const struct {
  const char *word;
  gboolean (*parse) (Parser *p);
} statements[] = {
  { "title", parse_title },
  { "seed", parse_seed },
  { "mode", parse_mode },
  { "server", parse_server },
  { "policy", parse_policy },
  { "link", parse_link },
  { "user", parse_user },
  { "phone", parse_phone },
  { "host", parse_host },
  { "at", parse_at },
  { "run", parse_run },
};

static gint
compare_actions (gconstpointer a,
                 gconstpointer b)
{
  const SimScenarioAction *x = *(SimScenarioAction **) a;
  const SimScenarioAction *y = *(SimScenarioAction **) b;

  if (x->at != y->at)
    return x->at < y->at ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

/* What can only be checked once the whole file is read. */
static gboolean
check_whole (Parser *p)
{
  SimScenario *sc = p->sc;
  const char *server = sim_scenario_get_server (sc);

  if (!sc->has_mode)
    sc->mode = server != NULL ? SIM_MODE_REGISTRAR : SIM_MODE_P2P;
  else if (sc->mode == SIM_MODE_REGISTRAR && server == NULL)
    {
      p->line = sc->mode_line;
      return fail (p, INVALID, "registrar mode needs a 'server' line "
                   "(server registrar 10.0.0.1 domain lab.example)");
    }
  if (sc->policy_keys != 0 && server == NULL)
    {
      p->line = sc->policy_line;
      return fail (p, INVALID, "a policy needs a 'server' line");
    }
  for (guint i = 0; i < sc->actions->len; i++)
    {
      SimScenarioAction *a = sc->actions->pdata[i];

      if (sc->mode == SIM_MODE_P2P &&
          (a->verb == SIM_SCENARIO_REGISTER || a->verb == SIM_SCENARIO_UNREGISTER ||
           a->verb == SIM_SCENARIO_REPLAY || (a->verb == SIM_SCENARIO_PASSWORD && a->user != NULL)))
        {
          p->line = a->line;
          return fail (p, INVALID,
                       "'%s' needs a registrar, but this scenario is point-to-point%s",
                       verb_word (a->verb),
                       server ? " (mode p2p)" : " (there is no 'server' line)");
        }
    }
  if (sc->has_run && sc->actions->len > 0)
    {
      SimScenarioAction *last = NULL;

      for (guint i = 0; i < sc->actions->len; i++)
        {
          SimScenarioAction *a = sc->actions->pdata[i];
          if (last == NULL || a->at > last->at)
            last = a;
        }
      if (last->at > sc->run)
        {
          p->line = last->line;
          return fail (p, INVALID, "this action is after the end of the run");
        }
    }
  /* Times need not increase down the file; actions at one time keep their file order. */
  g_ptr_array_sort (sc->actions, compare_actions);
  return TRUE;
}

SimScenario *
sim_scenario_parse_data (const char  *text,
                         gssize       length,
                         const char  *name,
                         GError     **error)
{
  g_autoptr(SimScenario) sc = NULL;
  g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func ((GDestroyNotify) token_free);
  g_autofree char *copy = NULL;
  g_auto(GStrv) lines = NULL;
  Parser p = { 0 };

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  sc = sim_scenario_new (name);
  p.sc = sc;
  p.tokens = tokens;
  p.error = error;

  copy = length < 0 ? g_strdup (text) : g_strndup (text, length);
  if (!g_utf8_validate (copy, -1, NULL))
    {
      const char *end;
      g_utf8_validate (copy, -1, &end);
      p.line = 1;
      for (const char *c = copy; c < end; c++)
        if (*c == '\n')
          p.line++;
      fail (&p, SYNTAX, "the text is not valid UTF-8");
      return NULL;
    }
  lines = g_strsplit (copy, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *word;
      gboolean known = FALSE;

      p.line = i + 1;
      if (!tokenize (&p, lines[i]))
        return NULL;
      if (at_end (&p))
        continue;
      word = next (&p, "keyword");
      for (guint k = 0; k < G_N_ELEMENTS (statements); k++)
        if (strcmp (word, statements[k].word) == 0)
          {
            known = TRUE;
            if (!statements[k].parse (&p))
              return NULL;
            break;
          }
      if (!known)
        {
          fail (&p, SYNTAX, "unknown keyword '%s' (expected title, seed, mode, "
                "server, policy, link, user, phone, host, at or run)", word);
          return NULL;
        }
    }
  if (!check_whole (&p))
    return NULL;
  return g_steal_pointer (&sc);
}

SimScenario *
sim_scenario_parse_file (const char  *path,
                         GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local = NULL;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, &local))
    {
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_IO, "%s", local->message);
      return NULL;
    }
  return sim_scenario_parse_data (contents, length, path, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Writing it back                                                                            */

static void
append_word (GString    *s,
             const char *word)
{
  gboolean plain = *word != '\0';

  for (const char *c = word; *c != '\0' && plain; c++)
    if (*c == ' ' || *c == '\t' || *c == '#' || *c == '"' || *c == '\\')
      plain = FALSE;
  g_string_append_c (s, ' ');
  if (plain)
    {
      g_string_append (s, word);
      return;
    }
  g_string_append_c (s, '"');
  for (const char *c = word; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_c (s, '\\');
      g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
}

static void
append_duration (GString *s,
                 SimTime  t)
{
  g_autofree char *text = sim_scenario_format_duration (t);

  g_string_append_c (s, ' ');
  g_string_append (s, text);
}

static void
append_percent (GString *s,
                double   loss)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* Percentages as written: at most four decimals, no binary noise. */
  g_ascii_formatd (buf, sizeof buf, "%.4f", loss * 100.0);
  for (gsize n = strlen (buf); n > 0 && buf[n - 1] == '0'; n--)
    buf[n - 1] = '\0';
  if (buf[strlen (buf) - 1] == '.')
    buf[strlen (buf) - 1] = '\0';
  g_string_append_printf (s, " %s%%", buf);
}

static void
append_link (GString               *s,
             const SimScenarioLink *link)
{
  if (link->a == NULL)
    g_string_append (s, " default");
  else
    {
      append_word (s, link->a);
      append_word (s, link->b);
    }
  if (link->fields & SIM_SCENARIO_LINK_LATENCY)
    {
      g_string_append (s, " latency");
      append_duration (s, link->params.latency);
    }
  if (link->fields & SIM_SCENARIO_LINK_JITTER)
    {
      g_string_append (s, " jitter");
      append_duration (s, link->params.jitter);
    }
  if (link->fields & SIM_SCENARIO_LINK_LOSS)
    {
      g_string_append (s, " loss");
      append_percent (s, link->params.loss);
    }
}

char *
sim_scenario_action_to_string (const SimScenarioAction *a)
{
  GString *s = g_string_new (verb_word (a->verb));

  switch (a->verb)
    {
    case SIM_SCENARIO_REGISTER:
      append_word (s, a->device);
      if (a->expires >= 0)
        g_string_append_printf (s, " expires %" G_GINT64_FORMAT, a->expires);
      break;
    case SIM_SCENARIO_UNREGISTER:
      append_word (s, a->device);
      if (a->all)
        g_string_append (s, " all");
      break;
    case SIM_SCENARIO_CALL:
      append_word (s, a->device);
      append_word (s, a->target);
      break;
    case SIM_SCENARIO_HANGUP:
    case SIM_SCENARIO_POWER_OFF:
    case SIM_SCENARIO_POWER_ON:
      append_word (s, a->device);
      break;
    case SIM_SCENARIO_MOVE:
      append_word (s, a->device);
      append_word (s, a->value);
      break;
    case SIM_SCENARIO_PASSWORD:
      if (a->device != NULL)
        append_word (s, a->device);
      else
        {
          g_string_append (s, " user");
          append_word (s, a->user);
        }
      append_word (s, a->value);
      break;
    case SIM_SCENARIO_REPLAY:
      append_word (s, a->device);
      if (a->target != NULL)
        {
          g_string_append (s, " from");
          append_word (s, a->target);
        }
      if (a->new_call_id)
        g_string_append (s, " new-call-id");
      if (a->bump_cseq)
        g_string_append (s, " bump-cseq");
      break;
    case SIM_SCENARIO_LEARN:
      append_word (s, a->device);
      append_word (s, a->user);
      append_word (s, a->value);
      break;
    case SIM_SCENARIO_FILL_ADDRESS_BOOKS:
      break;
    case SIM_SCENARIO_LINK:
      append_link (s, &a->link);
      break;
    case SIM_SCENARIO_NOTE:
      append_word (s, a->value);
      break;
    default:
      g_assert_not_reached ();
    }
  return g_string_free (s, FALSE);
}

char *
sim_scenario_to_text (SimScenario *self)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (self != NULL, NULL);

  if (self->title != NULL)
    {
      g_string_append (s, "title");
      append_word (s, self->title);
      g_string_append_c (s, '\n');
    }
  if (self->has_seed)
    g_string_append_printf (s, "seed %u\n", self->seed);
  if (self->has_mode)
    g_string_append_printf (s, "mode %s\n", self->mode == SIM_MODE_P2P ? "p2p" : "registrar");

  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimScenarioNode *node = self->nodes->pdata[i];
      if (node->kind != SIM_SCENARIO_NODE_SERVER)
        continue;
      g_string_append_printf (s, "server %s %s", node->name, node->ip);
      if (node->domain != NULL)
        g_string_append_printf (s, " domain %s", node->domain);
      g_string_append_c (s, '\n');
    }
  if (self->policy_keys != 0)
    {
#define HAS(k) (self->policy_keys & SIM_SCENARIO_POLICY_##k)
      g_string_append (s, "policy");
      if (HAS (MIN_EXPIRES))
        g_string_append_printf (s, " min-expires %u", self->min_expires);
      if (HAS (DEFAULT_EXPIRES))
        g_string_append_printf (s, " default-expires %u", self->default_expires);
      if (HAS (MAX_EXPIRES))
        g_string_append_printf (s, " max-expires %u", self->max_expires);
      if (HAS (TOO_BRIEF))
        g_string_append_printf (s, " too-brief %s", self->raise_to_min ? "raise" : "423");
      if (HAS (MAX_CONTACTS))
        g_string_append_printf (s, " max-contacts %u", self->max_contacts);
      if (HAS (WHEN_FULL))
        g_string_append_printf (s, " when-full %s",
                                self->replace_oldest ? "replace-oldest" : "503");
      if (HAS (AUTH))
        g_string_append_printf (s, " auth %s", self->require_auth ? "on" : "off");
      if (HAS (PROXY_AUTH))
        g_string_append_printf (s, " proxy-auth %s", self->proxy_auth ? "on" : "off");
      if (HAS (ALGORITHMS))
        {
          g_string_append (s, " algorithms ");
          for (guint i = 0; i < self->n_algorithms; i++)
            g_string_append_printf (s, "%s%s", i ? "," : "",
                                    sim_digest_algorithm_name (self->algorithms[i]));
        }
      if (HAS (NONCE_LIFETIME))
        g_string_append_printf (s, " nonce-lifetime %" G_GINT64_FORMAT,
                                self->nonce_lifetime / G_USEC_PER_SEC);
      if (HAS (ONE_TIME))
        g_string_append_printf (s, " one-time %s", self->one_time ? "on" : "off");
      g_string_append_c (s, '\n');
#undef HAS
    }
  if (self->default_link.fields != 0)
    {
      g_string_append (s, "link");
      append_link (s, &self->default_link);
      g_string_append_c (s, '\n');
    }

  for (guint i = 0; i < self->users->len; i++)
    {
      SimScenarioUser *user = self->users->pdata[i];
      g_string_append (s, "user");
      append_word (s, user->name);
      g_string_append (s, " password");
      append_word (s, user->password);
      if (user->display_name != NULL)
        {
          g_string_append (s, " name");
          append_word (s, user->display_name);
        }
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimScenarioNode *node = self->nodes->pdata[i];
      if (node->kind == SIM_SCENARIO_NODE_HOST)
        g_string_append_printf (s, "host %s %s\n", node->name, node->ip);
      if (node->kind != SIM_SCENARIO_NODE_PHONE)
        continue;
      g_string_append_printf (s, "phone %s user %s ip %s", node->name, node->user, node->ip);
      if (node->expires >= 0)
        g_string_append_printf (s, " expires %" G_GINT64_FORMAT, node->expires);
      if (node->password != NULL)
        {
          g_string_append (s, " password");
          append_word (s, node->password);
        }
      if (node->answer_delay == -1)
        g_string_append (s, " answer-after never");
      else if (node->answer_delay >= 0)
        {
          g_string_append (s, " answer-after");
          append_duration (s, node->answer_delay);
        }
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < self->links->len; i++)
    {
      g_string_append (s, "link");
      append_link (s, self->links->pdata[i]);
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < self->actions->len; i++)
    {
      SimScenarioAction *a = self->actions->pdata[i];
      g_autofree char *time = sim_scenario_format_duration (a->at);
      g_autofree char *text = sim_scenario_action_to_string (a);
      g_string_append_printf (s, "at %s %s\n", time, text);
    }
  if (self->has_run)
    {
      g_string_append (s, "run");
      append_duration (s, self->run);
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Building a world                                                                           */

typedef struct {
  SimWorld *world;           /* borrowed: the world owns the clock that owns this closure */
  SimScenario *scenario;
  SimScenarioAction *action;
} Scheduled;

static void
scheduled_free (Scheduled *s)
{
  sim_scenario_unref (s->scenario);
  g_free (s);
}

static void
apply_link_fields (SimLinkParams         *params,
                   const SimScenarioLink *link)
{
  if (link->fields & SIM_SCENARIO_LINK_LATENCY)
    params->latency = link->params.latency;
  if (link->fields & SIM_SCENARIO_LINK_JITTER)
    params->jitter = link->params.jitter;
  if (link->fields & SIM_SCENARIO_LINK_LOSS)
    params->loss = link->params.loss;
}

static gboolean
run_action (SimWorld                 *world,
            const SimScenarioAction  *a,
            GError                  **error)
{
  switch (a->verb)
    {
    case SIM_SCENARIO_REGISTER:
      return sim_world_register (world, a->device, a->expires, error);
    case SIM_SCENARIO_UNREGISTER:
      return sim_world_unregister (world, a->device, a->all, error);
    case SIM_SCENARIO_CALL:
      return sim_world_call (world, a->device, a->target, error);
    case SIM_SCENARIO_HANGUP:
      return sim_world_hangup (world, a->device, error);
    case SIM_SCENARIO_MOVE:
      return sim_world_move (world, a->device, a->value, error);
    case SIM_SCENARIO_POWER_OFF:
    case SIM_SCENARIO_POWER_ON:
      return sim_world_set_power (world, a->device, a->verb == SIM_SCENARIO_POWER_ON, error);
    case SIM_SCENARIO_PASSWORD:
      return sim_world_set_password (world, a->user, a->device, a->value, error);
    case SIM_SCENARIO_REPLAY:
      return sim_world_replay (world, a->device, a->target, a->new_call_id, a->bump_cseq, error);
    case SIM_SCENARIO_LEARN:
      sim_world_learn_address (world, a->device, a->user, a->value);
      return TRUE;
    case SIM_SCENARIO_FILL_ADDRESS_BOOKS:
      sim_world_fill_address_books (world);
      return TRUE;
    case SIM_SCENARIO_LINK:
      {
        SimLinkParams params;

        /* Only the given fields change; the others keep what the link has now. */
        if (a->link.a == NULL)
          sim_net_get_default_link (sim_world_get_net (world), &params);
        else
          sim_net_get_link (sim_world_get_net (world), a->link.a, a->link.b, &params);
        apply_link_fields (&params, &a->link);
        sim_world_set_link (world, a->link.a, a->link.b, &params);
        return TRUE;
      }
    case SIM_SCENARIO_NOTE:
      sim_trace_note (sim_world_get_trace (world), sim_world_now (world), NULL, "%s", a->value);
      return TRUE;
    default:
      g_assert_not_reached ();
    }
}

static void
scheduled_cb (gpointer data)
{
  Scheduled *s = data;
  g_autoptr(GError) error = NULL;

  if (!run_action (s->world, s->action, &error))
    {
      SimTrace *trace = sim_world_get_trace (s->world);
      g_autofree char *text = sim_scenario_action_to_string (s->action);

      /* The run goes on: a lesson may well show what happens after a failed command. */
      if (sim_trace_is_enabled (trace))
        {
          SimEvent *event = sim_event_new (SIM_EVENT_NOTE, "error");
          event->t = sim_world_now (s->world);
          event->node = g_strdup (s->action->device);
          event->text = g_strdup_printf ("%s:%u: '%s' failed: %s", s->scenario->file,
                                         s->action->line, text, error->message);
          sim_trace_emit (trace, event);
        }
    }
}

static gboolean
fail_build (SimScenario  *self,
            guint         line,
            GError      **error,
            GError       *local)
{
  g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_BUILD, "%s:%u: %s", self->file, line,
               local->message);
  g_error_free (local);
  return FALSE;
}

static gboolean
build (SimScenario  *self,
       SimWorld     *world,
       GError      **error)
{
  GError *local = NULL;

  /* The server first: phones added later get it as their outbound proxy. */
  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimScenarioNode *node = self->nodes->pdata[i];
      if (node->kind == SIM_SCENARIO_NODE_SERVER &&
          !sim_world_add_server (world, node->name, node->ip, node->domain, &local))
        return fail_build (self, node->line, error, local);
    }
  if (sim_world_get_mode (world) != self->mode)
    sim_world_set_mode (world, self->mode);

  if (sim_world_get_registrar (world) != NULL)
    {
      SimRegistrar *registrar = sim_world_get_registrar (world);
      SimAuth *auth = sim_world_get_auth (world);
      SimRegistrarPolicy policy = *sim_registrar_get_policy (registrar);

#define HAS(k) (self->policy_keys & SIM_SCENARIO_POLICY_##k)
      if (HAS (MIN_EXPIRES))
        policy.min_expires = self->min_expires;
      if (HAS (DEFAULT_EXPIRES))
        policy.default_expires = self->default_expires;
      if (HAS (MAX_EXPIRES))
        policy.max_expires = self->max_expires;
      if (HAS (TOO_BRIEF))
        policy.raise_to_min = self->raise_to_min;
      if (HAS (MAX_CONTACTS))
        policy.max_contacts = self->max_contacts;
      if (HAS (WHEN_FULL))
        policy.replace_oldest = self->replace_oldest;
      if (HAS (AUTH))
        policy.require_auth = self->require_auth;
      if (HAS (PROXY_AUTH))
        policy.proxy_auth = self->proxy_auth;
      /* Given keys were checked against each other while parsing; here against the defaults. */
      if (policy.min_expires > policy.max_expires ||
          policy.default_expires < policy.min_expires ||
          policy.default_expires > policy.max_expires)
        {
          g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID,
                       "%s:%u: the policy needs min-expires <= default-expires <= max-expires, "
                       "but they are %u, %u and %u (with the registrar's defaults for keys not "
                       "given)", self->file, self->policy_line, policy.min_expires,
                       policy.default_expires, policy.max_expires);
          return FALSE;
        }
      /* The policy copies the domain string; ours is borrowed from the registrar's. */
      sim_registrar_set_policy (registrar, &policy);
      if (HAS (ALGORITHMS))
        sim_auth_set_algorithms (auth, self->algorithms, self->n_algorithms);
      if (HAS (NONCE_LIFETIME))
        sim_auth_set_nonce_lifetime (auth, self->nonce_lifetime);
      if (HAS (ONE_TIME))
        sim_auth_set_one_time (auth, self->one_time);
#undef HAS
    }

  for (guint i = 0; i < self->users->len; i++)
    {
      SimScenarioUser *user = self->users->pdata[i];
      if (!sim_world_add_user (world, user->name, user->password, user->display_name, &local))
        return fail_build (self, user->line, error, local);
    }

  for (guint i = 0; i < self->nodes->len; i++)
    {
      SimScenarioNode *node = self->nodes->pdata[i];

      if (node->kind == SIM_SCENARIO_NODE_HOST)
        {
          if (!sim_world_add_host (world, node->name, node->ip, &local))
            return fail_build (self, node->line, error, local);
        }
      else if (node->kind == SIM_SCENARIO_NODE_PHONE)
        {
          SimPhone *phone = sim_world_add_phone (world, node->user, node->name, node->ip, &local);

          if (phone == NULL)
            return fail_build (self, node->line, error, local);
          if (node->expires >= 0)
            sim_phone_set_default_expires (phone, (guint) node->expires);
          if (node->password != NULL)
            sim_phone_set_password (phone, node->password);
          if (node->answer_delay != -2)
            sim_phone_set_answer_delay (phone, node->answer_delay);
        }
    }

  {
    SimNet *net = sim_world_get_net (world);
    SimLinkParams params;

    sim_net_get_default_link (net, &params);
    apply_link_fields (&params, &self->default_link);
    sim_net_set_default_link (net, &params);
    for (guint i = 0; i < self->links->len; i++)
      {
        SimScenarioLink *link = self->links->pdata[i];

        sim_net_get_link (net, link->a, link->b, &params);
        apply_link_fields (&params, link);
        sim_net_set_link (net, link->a, link->b, &params);
      }
  }

  for (guint i = 0; i < self->actions->len; i++)
    {
      Scheduled *s = g_new0 (Scheduled, 1);

      s->world = world;
      s->scenario = sim_scenario_ref (self);
      s->action = self->actions->pdata[i];
      sim_world_schedule (world, s->action->at, scheduled_cb, s, (GDestroyNotify) scheduled_free);
    }
  return TRUE;
}

SimWorld *
sim_scenario_build (SimScenario  *self,
                    guint32       seed_override,
                    GError      **error)
{
  g_autoptr(SimWorld) world = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  world = sim_world_new (seed_override != 0 ? seed_override : self->seed);
  if (!build (self, world, error))
    return NULL;
  return g_steal_pointer (&world);
}

SimWorld *
sim_scenario_build_on_clock (SimScenario  *self,
                             guint32       seed_override,
                             SimClock     *clock,
                             GError      **error)
{
  g_autoptr(SimWorld) world = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (SIM_IS_CLOCK (clock), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  world = sim_world_new_with_clock (seed_override != 0 ? seed_override : self->seed, clock);
  if (!build (self, world, error))
    return NULL;
  return g_steal_pointer (&world);
}

void
sim_scenario_info_clear (SimScenarioInfo *info)
{
  g_clear_pointer (&info->title, g_free);
  g_clear_pointer (&info->actions, g_ptr_array_unref);
  g_clear_pointer (&info->scenario, sim_scenario_unref);
  info->run = 0;
  info->seed = 0;
}

static SimWorld *
load (SimScenario      *sc,
      guint32           seed_override,
      SimScenarioInfo  *info_out,
      GError          **error)
{
  g_autoptr(SimWorld) world = NULL;

  if (sc == NULL)
    return NULL;
  world = sim_scenario_build (sc, seed_override, error);
  if (world == NULL)
    return NULL;
  if (info_out != NULL)
    {
      info_out->title = g_strdup (sc->title);
      info_out->run = sim_scenario_get_run_length (sc);
      info_out->seed = sc->seed;
      info_out->actions = g_ptr_array_ref (sc->actions);
      info_out->scenario = sim_scenario_ref (sc);
    }
  return g_steal_pointer (&world);
}

SimWorld *
sim_scenario_load_file (const char       *path,
                        guint32           seed_override,
                        SimScenarioInfo  *info_out,
                        GError          **error)
{
  g_autoptr(SimScenario) sc = sim_scenario_parse_file (path, error);

  return load (sc, seed_override, info_out, error);
}

SimWorld *
sim_scenario_load_data (const char       *text,
                        gssize            length,
                        const char       *name,
                        guint32           seed_override,
                        SimScenarioInfo  *info_out,
                        GError          **error)
{
  g_autoptr(SimScenario) sc = sim_scenario_parse_data (text, length, name, error);

  return load (sc, seed_override, info_out, error);
}
