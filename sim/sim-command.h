/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "sim-net.h"
#include "sim-registrar.h"
#include "sim-world.h"

G_BEGIN_DECLS

/*
 * The command language: the one set of verbs ("register alice-desk expires 120", "link
 * alice-desk registrar loss 30%", "policy min-expires 600"...) that a scenario's "at T VERB ..."
 * lines, a lesson's do:/solution: lines and a student's typed commands, and the GUI's edits all
 * speak.  One table (sim-command.c) gives each verb its word, usage, where it may be used, and
 * its parse, run and write functions; one set of limits and error messages follows from it.
 *
 * Adding a verb: a SimVerb value, one row in the table and its functions in sim-command.c, a
 * line in docs/scenario-format.md's table of verbs (and in lessons/README.md if lessons may use
 * it).  tests/test-command.c wants a sample of every verb.
 *
 * Errors from parsing carry no position ("unknown phone 'bob' (declare it ...)"): the caller
 * puts "FILE:LINE: " in front (sim-scenario.c, the lesson parser) or shows it as it is (a
 * student's typed command).  They use SIM_COMMAND_ERROR.
 *
 * Limits, the same wherever a command is written: a node name has at most
 * SIM_COMMAND_MAX_NAME_LEN characters; a duration is at most SIM_COMMAND_MAX_DURATION; a number
 * of seconds (expires, min-expires...) at most G_MAXUINT32 (RFC 3261 §20.19); a loss is 0% to
 * 100%; policy max-contacts is 1 to SIM_COMMAND_MAX_CONTACTS and nonce-lifetime at least 1 s.
 */

#define SIM_COMMAND_MAX_NAME_LEN 32
#define SIM_COMMAND_MAX_CONTACTS 1000
#define SIM_COMMAND_MAX_DURATION SIM_SEC ((gint64) 100 * 24 * 3600)   /* 100 days */

#define SIM_COMMAND_ERROR (sim_command_error_quark ())
GQuark sim_command_error_quark (void);

typedef enum {
  SIM_COMMAND_ERROR_SYNTAX = 1,    /* the words do not follow the verb's usage */
  SIM_COMMAND_ERROR_INVALID,       /* well-formed but wrong: unknown phone, limit exceeded */
  SIM_COMMAND_ERROR_NOT_HERE,      /* a verb not allowed in this place (wait in a scenario) */
  SIM_COMMAND_ERROR_RUN,           /* the world refused it when it ran (no call to hang up) */
} SimCommandError;

typedef enum {
  SIM_VERB_REGISTER,
  SIM_VERB_UNREGISTER,
  SIM_VERB_CALL,
  SIM_VERB_HANGUP,
  SIM_VERB_MOVE,
  SIM_VERB_POWER_OFF,
  SIM_VERB_POWER_ON,
  SIM_VERB_PASSWORD,
  SIM_VERB_REPLAY,
  SIM_VERB_LEARN,
  SIM_VERB_FILL_ADDRESS_BOOKS,
  SIM_VERB_LINK,
  SIM_VERB_NOTE,
  SIM_VERB_POLICY,
  SIM_VERB_WAIT,
  SIM_VERB_ADD_PHONE,
  SIM_VERB_REMOVE_PHONE,
  SIM_VERB_MODE,
  SIM_VERB_REBOOT,
  SIM_VERB_CRACK,
  SIM_N_VERBS
} SimVerb;

/* Where a verb may be used (the table's "places" column). */
typedef enum {
  SIM_COMMAND_IN_SCENARIO = 1 << 0,   /* "at T VERB ..." in a scenario file */
  SIM_COMMAND_IN_LESSON   = 1 << 1,   /* do:, solution: and what a student types */
  SIM_COMMAND_IN_EDIT     = 1 << 2,   /* the GUI's edits while a scene runs (SimDocument) */
} SimCommandPlace;

/* Which fields of a link were given; the others keep their current value. */
typedef enum {
  SIM_LINK_FIELD_LATENCY = 1 << 0,
  SIM_LINK_FIELD_JITTER  = 1 << 1,
  SIM_LINK_FIELD_LOSS    = 1 << 2,
  SIM_LINK_FIELD_TLS     = 1 << 3,
} SimLinkFields;

typedef struct {
  char *a;                   /* NULL for "link default" */
  char *b;
  SimLinkFields fields;
  SimLinkParams params;
  guint line;
} SimLinkChange;

/* Registrar policy keys given (the others keep their current value). */
typedef enum {
  SIM_POLICY_MIN_EXPIRES     = 1 << 0,
  SIM_POLICY_DEFAULT_EXPIRES = 1 << 1,
  SIM_POLICY_MAX_EXPIRES     = 1 << 2,
  SIM_POLICY_TOO_BRIEF       = 1 << 3,
  SIM_POLICY_MAX_CONTACTS    = 1 << 4,
  SIM_POLICY_WHEN_FULL       = 1 << 5,
  SIM_POLICY_AUTH            = 1 << 6,
  SIM_POLICY_ALGORITHMS      = 1 << 7,
  SIM_POLICY_NONCE_LIFETIME  = 1 << 8,
  SIM_POLICY_ONE_TIME        = 1 << 9,
  SIM_POLICY_PROXY_AUTH      = 1 << 10,
  SIM_POLICY_ROUTE_TO        = 1 << 11,
  SIM_POLICY_NONCE_COUNT     = 1 << 12,
} SimPolicyKeys;

/*
 * A change to the registrar's policy: the scenario's "policy" line (applied when the world is
 * built) and the "policy" verb (applied when it runs) parse into this, with the same keys,
 * limits and messages.
 */
typedef struct {
  SimPolicyKeys keys;
  guint min_expires;
  guint default_expires;
  guint max_expires;
  gboolean raise_to_min;
  guint max_contacts;
  gboolean replace_oldest;
  gboolean require_auth;
  gboolean proxy_auth;
  SimDigestAlgorithm algorithms[SIM_DIGEST_N_ALGORITHMS];
  guint n_algorithms;
  SimTime nonce_lifetime;
  gboolean one_time;
  gboolean route_to_contact; /* route-to contact (TRUE) or flow */
  gboolean nonce_count;      /* nonce-count on|off */
} SimPolicyChange;

/* A phone's answer delay (the scenario's "answers after D" / "never answers"). */
typedef enum {
  SIM_ANSWER_DEFAULT,        /* the phone's own default */
  SIM_ANSWER_AFTER,          /* after SimScenarioNode.answer_delay */
  SIM_ANSWER_NEVER,
} SimAnswerMode;

/*
 * One parsed command.  Which fields a verb uses is said beside them; the others are zero.
 * "at" and "line" are the scenario's (0 elsewhere); the document stamps "at" on an edit.
 */
typedef struct {
  SimVerb verb;
  SimTime at;
  guint line;
  char *device;              /* the phone acted on; a replay's victim; add-phone: the new phone */
  char *user;                /* password user U P: U;  learn D U IP: U;  add-phone: its user;
                              * crack: the user attacked (NULL: the first one captured) */
  char *target;              /* call: user or URI;  replay: attacker host (NULL: the victim);
                              * crack: the sniffer */
  char *value;               /* move/learn/add-phone: IP;  password: the new one;  note: text;
                              * replay: the new Contact (NULL: as captured) */
  char *password;            /* add-phone: the new user's password (NULL: an existing user) */
  gint64 expires;            /* register: SIM_PHONE_DEFAULT_EXPIRES for the phone's own;
                                replay: -1 as captured */
  gboolean all;              /* unregister ... all (Contact: *) */
  gboolean new_call_id;      /* replay */
  gboolean bump_cseq;        /* replay */
  SimTime duration;          /* wait */
  SimMode mode;              /* mode */
  SimLinkChange link;        /* link */
  SimPolicyChange policy;    /* policy */
} SimCommand;

/*
 * What names a command may refer to while it is parsed: the nodes and users a file declared
 * (a SimScenario) or the ones a running world has.  Both NULL: the syntax only is checked and
 * the world judges the names when the command runs.
 */
typedef struct _SimScenario SimScenario;

typedef struct {
  SimScenario *scene;
  SimWorld *world;
} SimCommandScope;

/* The table, read-only: for help texts, completion and documentation. */
typedef struct {
  SimVerb verb;
  const char *word;          /* "register" */
  const char *usage;         /* "register PHONE [expires SECONDS]" */
  const char *summary;       /* one sentence for `help` */
  SimCommandPlace places;
} SimVerbInfo;

const SimVerbInfo *sim_verb_get_info      (SimVerb verb);
/* NULL when @word is no verb. */
const SimVerbInfo *sim_verb_lookup        (const char *word);
/* "register, unregister, call, ... or note": the verbs allowed in @place, for messages. */
char              *sim_verb_list          (SimCommandPlace place) G_GNUC_WARN_UNUSED_RESULT;

SimCommand *sim_command_new               (SimVerb                 verb);
SimCommand *sim_command_copy              (const SimCommand       *command);
void        sim_command_free              (SimCommand             *command);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimCommand, sim_command_free)

/*
 * Parses one command line ("register alice-desk expires 120"): the words are split as a
 * scenario line is (double quotes group words; '#' starts a comment).  A verb not allowed in
 * @place is refused with SIM_COMMAND_ERROR_NOT_HERE.
 */
SimCommand *sim_command_parse             (const char             *text,
                                           SimCommandPlace         place,
                                           const SimCommandScope  *scope,
                                           GError                **error) G_GNUC_WARN_UNUSED_RESULT;

/* Runs @command on @world now.  The world's errors say what is wrong. */
gboolean    sim_command_run               (const SimCommand       *command,
                                           SimWorld               *world,
                                           GError                **error);

/* The command as a line would say it, without "at T": parsing it again gives the same command. */
char       *sim_command_to_string         (const SimCommand       *command) G_GNUC_WARN_UNUSED_RESULT;

/* Applies the given keys of @change onto @policy and @world's nonce settings. */
gboolean    sim_policy_change_apply       (const SimPolicyChange  *change,
                                           SimWorld               *world,
                                           GError                **error);

G_END_DECLS
