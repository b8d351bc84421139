/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-command.h"
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
  SIM_SCENARIO_NODE_NAT,           /* a home router: hosts behind it have private addresses */
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
  gint64 expires;            /* default Expires the phone asks for, or SIM_PHONE_DEFAULT_EXPIRES */
  char *password;            /* NULL: the user's password */
  SimAnswerMode answer_mode;
  SimTime answer_delay;      /* SIM_ANSWER_AFTER: how long it rings before it answers */
  SimPhoneQuirks quirks;     /* what this phone gets wrong (none by default) */
  /* SIM_SCENARIO_NODE_PHONE and _HOST */
  char *behind;              /* the NAT it sits behind, or NULL */
  /* SIM_SCENARIO_NODE_NAT */
  SimTime nat_timeout;       /* 0: SIM_NET_NAT_DEFAULT_TIMEOUT */
} SimScenarioNode;

typedef struct {
  char *name;
  char *password;
  char *display_name;        /* may be NULL */
  guint line;
} SimScenarioUser;

/* sniffer NAME on A B | sniffer NAME on lan: a passive listener (sim_net_add_sniffer()). */
typedef struct {
  char *name;
  char *a;                   /* NULL: every link (the whole LAN) */
  char *b;
  guint line;
} SimScenarioSniffer;

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

  SimPolicyChange policy;    /* keys == 0: the registrar's defaults */
  guint policy_line;         /* the first "policy" line */

  SimLinkChange default_link;     /* fields == 0: SimNet's default */
  GPtrArray *users;          /* SimScenarioUser*, file order */
  GPtrArray *nodes;          /* SimScenarioNode*, file order (server, phones, hosts) */
  GPtrArray *links;          /* SimLinkChange* between two nodes */
  GPtrArray *sniffers;       /* SimScenarioSniffer*, file order */
  GPtrArray *actions;        /* SimCommand* ("at" lines), sorted by time, file order within a time */
};

#define SIM_TYPE_SCENARIO (sim_scenario_get_type ())
GType        sim_scenario_get_type        (void) G_GNUC_CONST;
SimScenario *sim_scenario_new             (const char   *file) G_GNUC_WARN_UNUSED_RESULT;
SimScenario *sim_scenario_ref             (SimScenario  *self);
void         sim_scenario_unref           (SimScenario  *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SimScenario, sim_scenario_unref)

/* The sniffer named @name, or NULL. */
const SimScenarioSniffer *sim_scenario_find_sniffer (SimScenario *self,
                                                     const char  *name);
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
  GPtrArray *actions;        /* SimCommand* (borrowed from @scenario), by time */
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

/* "1.5s", "500ms", "2m", "1h"; and back.  Parsing accepts us, ms, s, m, min, h; a bare 0. */
char        *sim_scenario_format_duration (SimTime       t) G_GNUC_WARN_UNUSED_RESULT;
gboolean     sim_scenario_parse_duration  (const char   *text,
                                           SimTime      *out,
                                           GError      **error);

G_END_DECLS
