/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-scenario.h"

#include "sim-command-private.h"

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

#define MAX_DURATION SIM_COMMAND_MAX_DURATION
#define DEFAULT_SEED 1
#define RUN_AFTER_LAST_ACTION SIM_SEC (60)

/* Error codes, short: they are on almost every line of the parser (sim-words.c's domain). */
#define SYNTAX  SIM_COMMAND_ERROR_SYNTAX
#define INVALID SIM_COMMAND_ERROR_INVALID

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
link_free (SimLinkChange *link)
{
  _sim_link_change_clear (link);
  g_free (link);
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
  self->actions = g_ptr_array_new_with_free_func ((GDestroyNotify) sim_command_free);
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
  _sim_link_change_clear (&self->default_link);
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
  const SimCommand *last;

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
/* Lines                                                                                      */

/* The words of the current line; errors go to words.error without position (sim-words.c). */
typedef struct {
  SimScenario *sc;
  guint line;
  SimWords words;
} Parser;

/* Moves the reader's error to @error as "FILE:LINE: message". */
static void
report (Parser  *p,
        GError **error)
{
  GError *local = g_steal_pointer (&p->words.error);
  int code = local != NULL && local->code == SIM_COMMAND_ERROR_SYNTAX
             ? SIM_SCENARIO_ERROR_SYNTAX : SIM_SCENARIO_ERROR_INVALID;

  g_assert (local != NULL);
  g_set_error (error, SIM_SCENARIO_ERROR, code, "%s:%u: %s", p->sc->file, p->line, local->message);
  g_error_free (local);
}

static const char *
next_user (Parser *p)
{
  const char *name = _sim_words_next (&p->words, "user name");

  if (name != NULL && sim_scenario_find_user (p->sc, name) == NULL)
    {
      _sim_words_fail (&p->words, INVALID, "unknown user '%s' (declare it with a 'user' line "
                       "before this one)", name);
      return NULL;
    }
  return name;
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
    return _sim_words_fail (&p->words, INVALID, "'%s' is already declared on line %u", name, other->line);
  if (strcmp (name, "default") == 0 || strcmp (name, "user") == 0)
    return _sim_words_fail (&p->words, INVALID, "'%s' is a keyword; choose another name", name);
  other = find_node_by_ip (p->sc, ip);
  if (other != NULL)
    return _sim_words_fail (&p->words, INVALID, "address %s is already used by '%s' (line %u)", ip,
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
  g_ptr_array_add (p->sc->nodes, node);
  return node;
}

static gboolean
parse_title (Parser *p)
{
  if (_sim_words_at_end (&p->words))
    return _sim_words_fail (&p->words, SYNTAX, "missing title text");
  g_free (p->sc->title);
  p->sc->title = _sim_words_rest (&p->words);
  return TRUE;
}

static gboolean
parse_seed (Parser *p)
{
  guint64 seed;

  if (!_sim_words_next_uint (&p->words, "seed", G_MAXUINT32, &seed))
    return FALSE;
  p->sc->seed = (guint32) seed;
  p->sc->has_seed = TRUE;
  return _sim_words_expect_end (&p->words);
}

static gboolean
parse_mode (Parser *p)
{
  const char *mode = _sim_words_next (&p->words, "mode (registrar or p2p)");

  if (mode == NULL)
    return FALSE;
  if (strcmp (mode, "registrar") == 0)
    p->sc->mode = SIM_MODE_REGISTRAR;
  else if (strcmp (mode, "p2p") == 0)
    p->sc->mode = SIM_MODE_P2P;
  else
    return _sim_words_fail (&p->words, SYNTAX, "mode is 'registrar' or 'p2p', not '%s'", mode);
  p->sc->has_mode = TRUE;
  p->sc->mode_line = p->line;
  return _sim_words_expect_end (&p->words);
}

/* server NAME [ip] IP [domain DOMAIN] */
static gboolean
parse_server (Parser *p)
{
  const char *name, *ip, *existing = sim_scenario_get_server (p->sc);
  SimScenarioNode *node;

  if (existing != NULL)
    return _sim_words_fail (&p->words, INVALID, "there is already a server ('%s', line %u)", existing,
                 sim_scenario_find_node (p->sc, existing)->line);
  if ((name = _sim_words_next_name (&p->words, "server name")) == NULL)
    return FALSE;
  _sim_words_accept (&p->words, "ip");
  if ((ip = _sim_words_next_ip (&p->words)) == NULL || !check_new_node (p, name, ip))
    return FALSE;
  node = add_node (p, SIM_SCENARIO_NODE_SERVER, name, ip);
  if (_sim_words_accept (&p->words, "domain"))
    {
      const char *domain = _sim_words_next (&p->words, "domain name after 'domain'");
      if (domain == NULL)
        return FALSE;
      if (!_sim_words_valid_domain (domain))
        return _sim_words_fail (&p->words, SYNTAX, "'%s' is not a domain name", domain);
      node->domain = g_strdup (domain);
    }
  return _sim_words_expect_end (&p->words);
}

static gboolean
parse_policy (Parser *p)
{
  /* Several policy lines add up; the keys given so far are checked against each other. */
  if (p->sc->policy_line == 0)
    p->sc->policy_line = p->line;
  return _sim_policy_change_read (&p->words, &p->sc->policy);
}

static gboolean
parse_link (Parser *p)
{
  SimCommandScope scope = { p->sc, NULL };
  SimLinkChange link = { 0 };

  link.line = p->line;
  if (!_sim_link_change_read (&p->words, &scope, &link))
    {
      _sim_link_change_clear (&link);
      return FALSE;
    }
  if (link.a == NULL)
    {
      /* Several "link default" lines add up. */
      SimLinkChange *d = &p->sc->default_link;

      _sim_link_change_apply (&link, &d->params);
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
  const char *name = _sim_words_next (&p->words, "user name");
  const SimScenarioUser *other;
  SimScenarioUser *user;

  if (name == NULL)
    return FALSE;
  if (!_sim_words_valid_user (name))
    return _sim_words_fail (&p->words, SYNTAX, "'%s' is not a valid SIP user name", name);
  if ((other = sim_scenario_find_user (p->sc, name)) != NULL)
    return _sim_words_fail (&p->words, INVALID, "user '%s' is already declared on line %u", name,
                 other->line);
  user = g_new0 (SimScenarioUser, 1);
  user->name = g_strdup (name);
  user->line = p->line;
  g_ptr_array_add (p->sc->users, user);
  while (!_sim_words_at_end (&p->words))
    {
      if (_sim_words_accept (&p->words, "password"))
        {
          const char *v = _sim_words_next (&p->words, "password after 'password'");
          if (v == NULL)
            return FALSE;
          g_free (user->password);
          user->password = g_strdup (v);
        }
      else if (_sim_words_accept (&p->words, "name"))
        {
          const char *v = _sim_words_next (&p->words, "display name after 'name' (in quotes if it has spaces)");
          if (v == NULL)
            return FALSE;
          g_free (user->display_name);
          user->display_name = g_strdup (v);
        }
      else
        return _sim_words_fail (&p->words, SYNTAX, "unexpected '%s' (a user has 'password' and 'name')",
                     _sim_words_peek (&p->words));
    }
  if (user->password == NULL)
    return _sim_words_fail (&p->words, SYNTAX, "user '%s' needs a password (user %s password SECRET)",
                 name, name);
  return TRUE;
}

/* phone DEVICE user U ip IP [expires N] [password P] [answer-after D|never] */
static gboolean
parse_phone (Parser *p)
{
  const char *name = _sim_words_next_name (&p->words, "phone name");
  const char *user = NULL, *ip = NULL, *password = NULL;
  gint64 expires = -1;
  SimAnswerMode answer_mode = SIM_ANSWER_DEFAULT;
  SimTime answer = 0;
  SimScenarioNode *node;

  if (name == NULL)
    return FALSE;
  while (!_sim_words_at_end (&p->words))
    {
      if (_sim_words_accept (&p->words, "user"))
        {
          if ((user = next_user (p)) == NULL)
            return FALSE;
        }
      else if (_sim_words_accept (&p->words, "ip"))
        {
          if ((ip = _sim_words_next_ip (&p->words)) == NULL)
            return FALSE;
        }
      else if (_sim_words_accept (&p->words, "expires"))
        {
          guint seconds;
          if (!_sim_words_next_seconds (&p->words, "expires", &seconds))
            return FALSE;
          expires = seconds;
        }
      else if (_sim_words_accept (&p->words, "password"))
        {
          if ((password = _sim_words_next (&p->words, "password after 'password'")) == NULL)
            return FALSE;
        }
      else if (_sim_words_accept (&p->words, "answer-after"))
        {
          answer_mode = SIM_ANSWER_NEVER;
          if (!_sim_words_accept (&p->words, "never"))
            {
              answer_mode = SIM_ANSWER_AFTER;
              if (!_sim_words_next_duration (&p->words, "answer-after", &answer))
                return FALSE;
            }
        }
      else
        return _sim_words_fail (&p->words, SYNTAX, "unexpected '%s' (a phone has user, ip, expires, "
                     "password and answer-after)", _sim_words_peek (&p->words));
    }
  if (user == NULL)
    return _sim_words_fail (&p->words, SYNTAX, "phone '%s' needs a user (phone %s user NAME ip ADDRESS)",
                 name, name);
  if (ip == NULL)
    return _sim_words_fail (&p->words, SYNTAX, "phone '%s' needs an address (phone %s user %s ip "
                 "10.0.0.11)", name, name, user);
  if (!check_new_node (p, name, ip))
    return FALSE;
  node = add_node (p, SIM_SCENARIO_NODE_PHONE, name, ip);
  node->user = g_strdup (user);
  node->expires = expires;
  node->password = g_strdup (password);
  node->answer_mode = answer_mode;
  node->answer_delay = answer;
  return TRUE;
}

/* host NAME [ip] IP */
static gboolean
parse_host (Parser *p)
{
  const char *name = _sim_words_next_name (&p->words, "host name");
  const char *ip;

  if (name == NULL)
    return FALSE;
  _sim_words_accept (&p->words, "ip");
  if ((ip = _sim_words_next_ip (&p->words)) == NULL || !check_new_node (p, name, ip))
    return FALSE;
  add_node (p, SIM_SCENARIO_NODE_HOST, name, ip);
  return _sim_words_expect_end (&p->words);
}

static gboolean
parse_run (Parser *p)
{
  if (!_sim_words_next_duration (&p->words, "run length (like 60s)", &p->sc->run))
    return FALSE;
  p->sc->has_run = TRUE;
  return _sim_words_expect_end (&p->words);
}

/* at TIME VERB ARGS...: the command language (sim-command.c) reads what follows the time. */
static gboolean
parse_at (Parser *p)
{
  SimCommandScope scope = { p->sc, NULL };
  SimCommand *c;
  SimTime at;

  if (!_sim_words_next_duration (&p->words, "time after 'at' (like 1.5s)", &at))
    return FALSE;
  if (_sim_words_at_end (&p->words))
    return _sim_words_fail (&p->words, SYNTAX,
                            "missing action after the time (like register, call, hangup)");
  c = _sim_command_read (&p->words, SIM_COMMAND_IN_SCENARIO, &scope);
  if (c == NULL)
    return FALSE;
  c->at = at;
  c->line = p->line;
  if (c->verb == SIM_VERB_LINK)
    c->link.line = p->line;
  g_ptr_array_add (p->sc->actions, c);
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
  const SimCommand *x = *(SimCommand **) a;
  const SimCommand *y = *(SimCommand **) b;

  if (x->at != y->at)
    return x->at < y->at ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

/* In point-to-point mode there is no registrar to talk to (nor, without a server, a policy). */
static gboolean
needs_registrar (const SimCommand *a,
                 gboolean          has_server)
{
  switch (a->verb)
    {
    case SIM_VERB_REGISTER:
    case SIM_VERB_UNREGISTER:
    case SIM_VERB_REPLAY:
      return TRUE;
    case SIM_VERB_PASSWORD:
      return a->user != NULL;
    case SIM_VERB_POLICY:
      return !has_server;
    default:
      return FALSE;
    }
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
      return _sim_words_fail (&p->words, INVALID, "registrar mode needs a 'server' line "
                   "(server registrar 10.0.0.1 domain lab.example)");
    }
  if (sc->policy.keys != 0 && server == NULL)
    {
      p->line = sc->policy_line;
      return _sim_words_fail (&p->words, INVALID, "a policy needs a 'server' line");
    }
  for (guint i = 0; i < sc->actions->len; i++)
    {
      SimCommand *a = sc->actions->pdata[i];

      if (sc->mode == SIM_MODE_P2P && needs_registrar (a, server != NULL))
        {
          p->line = a->line;
          return _sim_words_fail (&p->words, INVALID,
                                  "'%s' needs a registrar, but this scenario is point-to-point%s",
                                  sim_verb_get_info (a->verb)->word,
                                  server ? " (mode p2p)" : " (there is no 'server' line)");
        }
    }
  if (sc->has_run && sc->actions->len > 0)
    {
      SimCommand *last = NULL;

      for (guint i = 0; i < sc->actions->len; i++)
        {
          SimCommand *a = sc->actions->pdata[i];
          if (last == NULL || a->at > last->at)
            last = a;
        }
      if (last->at > sc->run)
        {
          p->line = last->line;
          return _sim_words_fail (&p->words, INVALID, "this action is after the end of the run");
        }
    }
  /* Times need not increase down the file; actions at one time keep their file order. */
  g_ptr_array_sort (sc->actions, compare_actions);
  return TRUE;
}

/* One line: FALSE with p->words.error set. */
static gboolean
parse_line (Parser     *p,
            const char *line)
{
  const char *word;

  if (!_sim_words_split (&p->words, line))
    return FALSE;
  if (_sim_words_at_end (&p->words))
    return TRUE;
  word = _sim_words_next (&p->words, "keyword");
  for (guint k = 0; k < G_N_ELEMENTS (statements); k++)
    if (strcmp (word, statements[k].word) == 0)
      return statements[k].parse (p);
  return _sim_words_fail (&p->words, SYNTAX, "unknown keyword '%s' (expected title, seed, mode, "
                          "server, policy, link, user, phone, host, at or run)", word);
}

static gboolean
parse_lines (Parser     *p,
             const char *text)
{
  g_auto(GStrv) lines = NULL;

  if (!g_utf8_validate (text, -1, NULL))
    {
      const char *end;
      g_utf8_validate (text, -1, &end);
      p->line = 1;
      for (const char *c = text; c < end; c++)
        if (*c == '\n')
          p->line++;
      return _sim_words_fail (&p->words, SYNTAX, "the text is not valid UTF-8");
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      p->line = i + 1;
      if (!parse_line (p, lines[i]))
        return FALSE;
    }
  return check_whole (p);
}

SimScenario *
sim_scenario_parse_data (const char  *text,
                         gssize       length,
                         const char  *name,
                         GError     **error)
{
  g_autoptr(SimScenario) sc = NULL;
  g_autofree char *copy = NULL;
  Parser p = { 0 };
  gboolean ok;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  sc = sim_scenario_new (name);
  p.sc = sc;
  _sim_words_init (&p.words);
  copy = length < 0 ? g_strdup (text) : g_strndup (text, length);
  ok = parse_lines (&p, copy);
  if (!ok)
    report (&p, error);
  _sim_words_clear (&p.words);
  return ok ? g_steal_pointer (&sc) : NULL;
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

char *
sim_scenario_to_text (SimScenario *self)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (self != NULL, NULL);

  if (self->title != NULL)
    {
      g_string_append (s, "title");
      _sim_words_append (s, self->title);
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
  if (self->policy.keys != 0)
    {
      g_string_append (s, "policy");
      _sim_policy_change_write (&self->policy, s);
      g_string_append_c (s, '\n');
    }
  if (self->default_link.fields != 0)
    {
      g_string_append (s, "link");
      _sim_link_change_write (&self->default_link, s);
      g_string_append_c (s, '\n');
    }

  for (guint i = 0; i < self->users->len; i++)
    {
      SimScenarioUser *user = self->users->pdata[i];
      g_string_append (s, "user");
      _sim_words_append (s, user->name);
      g_string_append (s, " password");
      _sim_words_append (s, user->password);
      if (user->display_name != NULL)
        {
          g_string_append (s, " name");
          _sim_words_append (s, user->display_name);
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
          _sim_words_append (s, node->password);
        }
      if (node->answer_mode == SIM_ANSWER_NEVER)
        g_string_append (s, " answer-after never");
      else if (node->answer_mode == SIM_ANSWER_AFTER)
        {
          g_string_append (s, " answer-after");
          _sim_words_append_duration (s, node->answer_delay);
        }
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < self->links->len; i++)
    {
      g_string_append (s, "link");
      _sim_link_change_write (self->links->pdata[i], s);
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < self->actions->len; i++)
    {
      SimCommand *a = self->actions->pdata[i];
      g_autofree char *time = sim_scenario_format_duration (a->at);
      g_autofree char *text = sim_command_to_string (a);
      g_string_append_printf (s, "at %s %s\n", time, text);
    }
  if (self->has_run)
    {
      g_string_append (s, "run");
      _sim_words_append_duration (s, self->run);
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Building a world                                                                           */

typedef struct {
  SimWorld *world;           /* borrowed: the world owns the clock that owns this closure */
  SimScenario *scenario;
  SimCommand *action;
} Scheduled;

static void
scheduled_free (Scheduled *s)
{
  sim_scenario_unref (s->scenario);
  g_free (s);
}

static void
scheduled_cb (gpointer data)
{
  Scheduled *s = data;
  g_autoptr(GError) error = NULL;

  if (!sim_command_run (s->action, s->world, &error))
    {
      SimTrace *trace = sim_world_get_trace (s->world);
      g_autofree char *text = sim_command_to_string (s->action);

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

  if (sim_world_get_registrar (world) != NULL &&
      !sim_policy_change_apply (&self->policy, world, &local))
    {
      /* Given keys were checked against each other while parsing; here against the defaults. */
      g_set_error (error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID, "%s:%u: %s", self->file,
                   self->policy_line, local->message);
      g_error_free (local);
      return FALSE;
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
          /* The phone's own API counts "never" as a delay of -1. */
          if (node->answer_mode == SIM_ANSWER_AFTER)
            sim_phone_set_answer_delay (phone, node->answer_delay);
          else if (node->answer_mode == SIM_ANSWER_NEVER)
            sim_phone_set_answer_delay (phone, -1);
        }
    }

  {
    SimNet *net = sim_world_get_net (world);
    SimLinkParams params;

    sim_net_get_default_link (net, &params);
    _sim_link_change_apply (&self->default_link, &params);
    sim_net_set_default_link (net, &params);
    for (guint i = 0; i < self->links->len; i++)
      {
        SimLinkChange *link = self->links->pdata[i];

        sim_net_get_link (net, link->a, link->b, &params);
        _sim_link_change_apply (link, &params);
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
