/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-net.h"
#include "sim-world.h"

G_BEGIN_DECLS

/*
 * Scenarios: the line-based text a teacher writes in an editor (docs/scenario-format.md).
 * A file is parsed into a SimScenario, a plain description (nodes, users, policy, links and
 * timed actions) that a view can show, edit and write back with sim_scenario_to_text(); then
 * sim_scenario_build() makes a SimWorld from it with every action scheduled on the clock.
 *
 * Parse errors read "FILE:LINE: what is wrong", the way compilers report them, so an editor
 * can jump to the line.
 */

#define SIM_SCENARIO_ERROR (sim_scenario_error_quark ())
GQuark sim_scenario_error_quark (void);

typedef enum {
  SIM_SCENARIO_ERROR_SYNTAX = 1,   /* the text does not follow the format */
  SIM_SCENARIO_ERROR_INVALID,      /* well-formed but wrong: unknown phone, duplicate name... */
  SIM_SCENARIO_ERROR_BUILD,        /* the world refused it */
  SIM_SCENARIO_ERROR_IO,
} SimScenarioError;

typedef enum {
  SIM_SCENARIO_NODE_SERVER,
  SIM_SCENARIO_NODE_PHONE,
  SIM_SCENARIO_NODE_HOST,
} SimScenarioNodeKind;

typedef struct {
  SimScenarioNodeKind kind;
  char *name;
  char *ip;
  guint line;
  /* SIM_SCENARIO_NODE_SERVER */
  char *domain;
  /* SIM_SCENARIO_NODE_PHONE */
  char *user;
  gint64 expires;            /* default Expires the phone asks for; -1: the phone's own (3600) */
  char *password;            /* NULL: the user's password */
  SimTime answer_delay;      /* -2: the phone's default; -1: never answers */
} SimScenarioNode;

typedef struct {
  char *name;
  char *password;
  char *display_name;        /* may be NULL */
  guint line;
} SimScenarioUser;

/* Which fields of a link line were given; the others keep their current value. */
typedef enum {
  SIM_SCENARIO_LINK_LATENCY = 1 << 0,
  SIM_SCENARIO_LINK_JITTER  = 1 << 1,
  SIM_SCENARIO_LINK_LOSS    = 1 << 2,
} SimScenarioLinkFields;

typedef struct {
  char *a;                   /* NULL for "link default" */
  char *b;
  SimScenarioLinkFields fields;
  SimLinkParams params;
  guint line;
} SimScenarioLink;

typedef enum {
  SIM_SCENARIO_REGISTER,
  SIM_SCENARIO_UNREGISTER,
  SIM_SCENARIO_CALL,
  SIM_SCENARIO_HANGUP,
  SIM_SCENARIO_MOVE,
  SIM_SCENARIO_POWER_OFF,
  SIM_SCENARIO_POWER_ON,
  SIM_SCENARIO_PASSWORD,
  SIM_SCENARIO_REPLAY,
  SIM_SCENARIO_LEARN,
  SIM_SCENARIO_FILL_ADDRESS_BOOKS,
  SIM_SCENARIO_LINK,
  SIM_SCENARIO_NOTE,
} SimScenarioVerb;

typedef struct {
  SimTime at;
  guint line;
  SimScenarioVerb verb;
  char *device;              /* the phone acted on; a replay's victim; NULL for "password user" */
  char *user;                /* password user U P: U;  learn D U IP: U */
  char *target;              /* call: user or URI;  replay: attacker host (NULL: the victim) */
  char *value;               /* move/learn: IP;  password: the new password;  note: the text */
  gint64 expires;            /* register: -1 for the phone's default */
  gboolean all;              /* unregister ... all (Contact: *) */
  gboolean new_call_id;      /* replay */
  gboolean bump_cseq;        /* replay */
  SimScenarioLink link;      /* link */
} SimScenarioAction;

/* Registrar policy keys given in the file (the others keep the registrar's defaults). */
typedef enum {
  SIM_SCENARIO_POLICY_MIN_EXPIRES     = 1 << 0,
  SIM_SCENARIO_POLICY_DEFAULT_EXPIRES = 1 << 1,
  SIM_SCENARIO_POLICY_MAX_EXPIRES     = 1 << 2,
  SIM_SCENARIO_POLICY_TOO_BRIEF       = 1 << 3,
  SIM_SCENARIO_POLICY_MAX_CONTACTS    = 1 << 4,
  SIM_SCENARIO_POLICY_WHEN_FULL       = 1 << 5,
  SIM_SCENARIO_POLICY_AUTH            = 1 << 6,
  SIM_SCENARIO_POLICY_ALGORITHMS      = 1 << 7,
  SIM_SCENARIO_POLICY_NONCE_LIFETIME  = 1 << 8,
  SIM_SCENARIO_POLICY_ONE_TIME        = 1 << 9,
  SIM_SCENARIO_POLICY_PROXY_AUTH      = 1 << 10,
} SimScenarioPolicyKeys;

typedef struct _SimScenario SimScenario;

struct _SimScenario {
  /*< private >*/
  gint ref_count;
  /*< public >*/
  char *file;                /* the name errors are reported against */
  char *title;               /* may be NULL */
  guint32 seed;              /* default 1 */
  gboolean has_seed;
  SimMode mode;              /* default: registrar when there is a server, else p2p */
  gboolean has_mode;
  guint mode_line;
  SimTime run;               /* default: the last action + 60 s */
  gboolean has_run;

  SimScenarioPolicyKeys policy_keys;
  guint policy_line;
  guint min_expires;
  guint default_expires;
  guint max_expires;
  gboolean raise_to_min;
  guint max_contacts;
  gboolean replace_oldest;
  gboolean require_auth;
  gboolean proxy_auth;       /* 407 for requests from our users (SimRegistrarPolicy.proxy_auth) */
  SimDigestAlgorithm algorithms[SIM_DIGEST_N_ALGORITHMS];
  guint n_algorithms;
  SimTime nonce_lifetime;
  gboolean one_time;

  SimScenarioLink default_link;   /* fields == 0: SimNet's default */
  GPtrArray *users;          /* SimScenarioUser*, file order */
  GPtrArray *nodes;          /* SimScenarioNode*, file order (server, phones, hosts) */
  GPtrArray *links;          /* SimScenarioLink* between two nodes */
  GPtrArray *actions;        /* SimScenarioAction*, sorted by time, file order within a time */
};

#define SIM_TYPE_SCENARIO (sim_scenario_get_type ())
GType        sim_scenario_get_type        (void) G_GNUC_CONST;
SimScenario *sim_scenario_new             (const char   *file) G_GNUC_WARN_UNUSED_RESULT;
SimScenario *sim_scenario_ref             (SimScenario  *self);
void         sim_scenario_unref           (SimScenario  *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimScenario, sim_scenario_unref)

SimScenario *sim_scenario_parse_file      (const char   *path,
                                           GError      **error) G_GNUC_WARN_UNUSED_RESULT;
/* @name is what errors are reported against ("FILE:LINE: ..."). */
SimScenario *sim_scenario_parse_data      (const char   *text,
                                           gssize        length,
                                           const char   *name,
                                           GError      **error) G_GNUC_WARN_UNUSED_RESULT;
/* The scenario in canonical form: parsing it again gives the same scenario. */
char        *sim_scenario_to_text         (SimScenario  *self) G_GNUC_WARN_UNUSED_RESULT;

const SimScenarioNode *sim_scenario_find_node (SimScenario *self,
                                               const char  *name);
const SimScenarioUser *sim_scenario_find_user (SimScenario *self,
                                               const char  *name);
/* The server's name, or NULL. */
const char  *sim_scenario_get_server      (SimScenario  *self);
/* How long to run: "run" or the last action + 60 s. */
SimTime      sim_scenario_get_run_length  (SimScenario  *self);

/*
 * A world with every node, user, policy and link, and every action scheduled at its time.
 * @seed_override: 0 keeps the file's seed.  An action that fails when it runs (hang up
 * without a call...) leaves a note event with action "error" in the trace.
 */
SimWorld    *sim_scenario_build           (SimScenario  *self,
                                           guint32       seed_override,
                                           GError      **error) G_GNUC_WARN_UNUSED_RESULT;

/* Like sim_scenario_build(), on @clock (a wall clock for mixed mode, see sim_world_listen()). */
SimWorld    *sim_scenario_build_on_clock  (SimScenario  *self,
                                           guint32       seed_override,
                                           SimClock     *clock,
                                           GError      **error) G_GNUC_WARN_UNUSED_RESULT;

/* What a view needs to show a loaded scenario. */
typedef struct {
  char *title;               /* NULL when the file has none */
  SimTime run;
  guint32 seed;              /* the file's seed */
  GPtrArray *actions;        /* SimScenarioAction* (borrowed from @scenario), by time */
  SimScenario *scenario;
} SimScenarioInfo;

void         sim_scenario_info_clear      (SimScenarioInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SimScenarioInfo, sim_scenario_info_clear)

/* Parse and build in one step.  @info_out may be NULL. */
SimWorld    *sim_scenario_load_file       (const char      *path,
                                           guint32          seed_override,
                                           SimScenarioInfo *info_out,
                                           GError         **error) G_GNUC_WARN_UNUSED_RESULT;
SimWorld    *sim_scenario_load_data       (const char      *text,
                                           gssize           length,
                                           const char      *name,
                                           guint32          seed_override,
                                           SimScenarioInfo *info_out,
                                           GError         **error) G_GNUC_WARN_UNUSED_RESULT;

/* "register alice-desk expires 120": the action as a line would say it, without "at T". */
char        *sim_scenario_action_to_string (const SimScenarioAction *action)
                                           G_GNUC_WARN_UNUSED_RESULT;
/* "1.5s", "500ms", "2m", "1h"; and back.  Parsing accepts us, ms, s, m, min, h; a bare 0. */
char        *sim_scenario_format_duration (SimTime       t) G_GNUC_WARN_UNUSED_RESULT;
gboolean     sim_scenario_parse_duration  (const char   *text,
                                           SimTime      *out,
                                           GError      **error);

G_END_DECLS
