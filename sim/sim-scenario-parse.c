/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-scenario-private.h"

#include <gio/gio.h>
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

/* Error codes, short: they are on almost every line of the parser (sim-words.c's domain). */
#define SYNTAX  SIM_COMMAND_ERROR_SYNTAX
#define INVALID SIM_COMMAND_ERROR_INVALID

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
  const SimScenarioSniffer *sniffer = sim_scenario_find_sniffer (p->sc, name);

  if (other != NULL)
    return _sim_words_fail (&p->words, INVALID, "'%s' is already declared on line %u", name, other->line);
  if (sniffer != NULL)
    return _sim_words_fail (&p->words, INVALID, "'%s' is already declared on line %u", name,
                            sniffer->line);
  if (strcmp (name, "default") == 0 || strcmp (name, "user") == 0)
    return _sim_words_fail (&p->words, INVALID, "'%s' is a keyword; choose another name", name);
  other = _sim_scenario_find_node_by_ip (p->sc, ip);
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
  node->expires = SIM_PHONE_DEFAULT_EXPIRES;
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

/* "behind NAT": NAT must be a declared NAT. */
static gboolean
read_behind (Parser  *p,
             char   **behind)
{
  const char *nat = _sim_words_next (&p->words, "NAT name after 'behind'");
  const SimScenarioNode *node;

  if (nat == NULL)
    return FALSE;
  node = sim_scenario_find_node (p->sc, nat);
  if (node == NULL)
    return _sim_words_fail (&p->words, INVALID, "unknown NAT '%s' (declare it with a 'nat' line "
                            "before this one)", nat);
  if (node->kind != SIM_SCENARIO_NODE_NAT)
    return _sim_words_fail (&p->words, INVALID, "'%s' is not a NAT (declare one with "
                            "nat NAME IP)", nat);
  g_free (*behind);
  *behind = g_strdup (nat);
  return TRUE;
}

/* "quirk NAME": one of the phone quirks (sim-phone.h), each at most once. */
static gboolean
read_quirk (Parser         *p,
            SimPhoneQuirks *quirks)
{
  const char *name = _sim_words_next (&p->words, "quirk name after 'quirk'");
  SimPhoneQuirks quirk;

  if (name == NULL)
    return FALSE;
  if (!sim_phone_quirk_from_name (name, &quirk))
    return _sim_words_fail (&p->words, SYNTAX, "unknown quirk '%s' (expected no-rport, "
                            "new-call-id-per-refresh, new-contact-per-refresh, ignore-423 or "
                            "give-up-on-423)", name);
  if (*quirks & quirk)
    return _sim_words_fail (&p->words, INVALID, "quirk '%s' is given twice", name);
  *quirks |= quirk;
  if ((*quirks & SIM_PHONE_QUIRK_IGNORE_423) && (*quirks & SIM_PHONE_QUIRK_GIVE_UP_ON_423))
    return _sim_words_fail (&p->words, INVALID, "a phone cannot both retry after 423 "
                            "(ignore-423) and give up on it (give-up-on-423)");
  return TRUE;
}

/* What "phone" reads besides user and ip. */
typedef struct {
  gint64 expires;
  const char *password;
  SimAnswerMode answer_mode;
  SimTime answer;
  SimPhoneQuirks quirks;
  char *behind;
} PhoneOptions;

/* One option of a phone line after user and ip; FALSE with an error. */
static gboolean
read_phone_option (Parser       *p,
                   PhoneOptions *o)
{
  if (_sim_words_accept (&p->words, "expires"))
    {
      guint seconds;
      if (!_sim_words_next_seconds (&p->words, "expires", &seconds))
        return FALSE;
      o->expires = seconds;
    }
  else if (_sim_words_accept (&p->words, "password"))
    {
      if ((o->password = _sim_words_next (&p->words, "password after 'password'")) == NULL)
        return FALSE;
    }
  else if (_sim_words_accept (&p->words, "answer-after"))
    {
      o->answer_mode = SIM_ANSWER_NEVER;
      if (!_sim_words_accept (&p->words, "never"))
        {
          o->answer_mode = SIM_ANSWER_AFTER;
          if (!_sim_words_next_duration (&p->words, "answer-after", &o->answer))
            return FALSE;
        }
    }
  else if (_sim_words_accept (&p->words, "behind"))
    return read_behind (p, &o->behind);
  else if (_sim_words_accept (&p->words, "quirk"))
    return read_quirk (p, &o->quirks);
  else
    return _sim_words_fail (&p->words, SYNTAX, "unexpected '%s' (a phone has user, ip, expires, "
                            "password, answer-after, behind and quirk)",
                            _sim_words_peek (&p->words));
  return TRUE;
}

/* phone DEVICE user U ip IP [expires N] [password P] [answer-after D|never] [behind NAT]
 *   [quirk NAME]... */
static gboolean
parse_phone (Parser *p)
{
  const char *name = _sim_words_next_name (&p->words, "phone name");
  const char *user = NULL, *ip = NULL;
  PhoneOptions o = { SIM_PHONE_DEFAULT_EXPIRES, NULL, SIM_ANSWER_DEFAULT, 0, SIM_PHONE_QUIRK_NONE, NULL };
  g_autofree char *behind = NULL;
  SimScenarioNode *node;
  gboolean ok = TRUE;

  if (name == NULL)
    return FALSE;
  while (ok && !_sim_words_at_end (&p->words))
    {
      if (_sim_words_accept (&p->words, "user"))
        ok = (user = next_user (p)) != NULL;
      else if (_sim_words_accept (&p->words, "ip"))
        ok = (ip = _sim_words_next_ip (&p->words)) != NULL;
      else
        ok = read_phone_option (p, &o);
    }
  behind = g_steal_pointer (&o.behind);
  if (!ok)
    return FALSE;
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
  node->expires = o.expires;
  node->password = g_strdup (o.password);
  node->answer_mode = o.answer_mode;
  node->answer_delay = o.answer;
  node->quirks = o.quirks;
  node->behind = g_steal_pointer (&behind);
  return TRUE;
}

/* host NAME [ip] IP [behind NAT] */
static gboolean
parse_host (Parser *p)
{
  const char *name = _sim_words_next_name (&p->words, "host name");
  const char *ip;
  g_autofree char *behind = NULL;
  SimScenarioNode *node;

  if (name == NULL)
    return FALSE;
  _sim_words_accept (&p->words, "ip");
  if ((ip = _sim_words_next_ip (&p->words)) == NULL || !check_new_node (p, name, ip))
    return FALSE;
  if (_sim_words_accept (&p->words, "behind") && !read_behind (p, &behind))
    return FALSE;
  if (!_sim_words_expect_end (&p->words))
    return FALSE;
  node = add_node (p, SIM_SCENARIO_NODE_HOST, name, ip);
  node->behind = g_steal_pointer (&behind);
  return TRUE;
}

/* nat NAME [ip] IP [timeout D]: a home router; IP is its public address. */
static gboolean
parse_nat (Parser *p)
{
  const char *name = _sim_words_next_name (&p->words, "NAT name");
  const char *ip;
  SimTime timeout = 0;
  SimScenarioNode *node;

  if (name == NULL)
    return FALSE;
  _sim_words_accept (&p->words, "ip");
  if ((ip = _sim_words_next_ip (&p->words)) == NULL || !check_new_node (p, name, ip))
    return FALSE;
  if (_sim_words_accept (&p->words, "timeout"))
    {
      if (!_sim_words_next_duration (&p->words, "timeout", &timeout))
        return FALSE;
      if (timeout < SIM_SEC (1))
        return _sim_words_fail (&p->words, INVALID, "a NAT's timeout is at least 1s");
    }
  if (!_sim_words_expect_end (&p->words))
    return FALSE;
  node = add_node (p, SIM_SCENARIO_NODE_NAT, name, ip);
  node->nat_timeout = timeout;
  return TRUE;
}

/* A declared node for "sniffer ... on A B". */
static const char *
next_link_end (Parser     *p,
               const char *what)
{
  const char *name = _sim_words_next (&p->words, what);

  if (name != NULL && sim_scenario_find_node (p->sc, name) == NULL)
    {
      _sim_words_fail (&p->words, INVALID, "unknown node '%s' (declare it before this line)",
                       name);
      return NULL;
    }
  return name;
}

/* sniffer NAME on A B | sniffer NAME on lan: a passive listener on one link or on all. */
static gboolean
parse_sniffer (Parser *p)
{
  const char *name = _sim_words_next_name (&p->words, "sniffer name");
  const char *a = NULL, *b = NULL;
  SimScenarioSniffer *sniffer;

  if (name == NULL)
    return FALSE;
  if (sim_scenario_find_node (p->sc, name) != NULL || sim_scenario_find_sniffer (p->sc, name) != NULL)
    return _sim_words_fail (&p->words, INVALID, "'%s' is already declared", name);
  if (p->sc->sniffers->len >= SIM_NET_MAX_SNIFFERS)
    return _sim_words_fail (&p->words, INVALID, "a scene has at most %u sniffers",
                            SIM_NET_MAX_SNIFFERS);
  if (!_sim_words_accept (&p->words, "on"))
    return _sim_words_fail (&p->words, SYNTAX, "expected 'on' (sniffer %s on NODE NODE, or "
                            "sniffer %s on lan)", name, name);
  if (!_sim_words_accept (&p->words, "lan"))
    {
      if ((a = next_link_end (p, "'lan' or two node names after 'on'")) == NULL ||
          (b = next_link_end (p, "the second node of the link")) == NULL)
        return FALSE;
      if (strcmp (a, b) == 0)
        return _sim_words_fail (&p->words, INVALID, "a link joins two different nodes, not "
                                "'%s' to itself", a);
    }
  if (!_sim_words_expect_end (&p->words))
    return FALSE;
  sniffer = g_new0 (SimScenarioSniffer, 1);
  sniffer->name = g_strdup (name);
  sniffer->a = g_strdup (a);
  sniffer->b = g_strdup (b);
  sniffer->line = p->line;
  g_ptr_array_add (p->sc->sniffers, sniffer);
  return TRUE;
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
  { "nat", parse_nat },
  { "sniffer", parse_sniffer },
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
                          "server, policy, link, user, phone, host, nat, sniffer, at or run)",
                          word);
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
