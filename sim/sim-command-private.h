/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * What the scenario parser and writer share with the command language, in-tree only: a
 * scenario's "at T ..." line reads its command from the words after the time, and its "link"
 * and "policy" statements are read and written by the same code as the "link" and "policy"
 * verbs.
 */

#include "sim-command.h"
#include "sim-words-private.h"

G_BEGIN_DECLS

/* Reads one command from the words left in @words; NULL with @words->error set. */
SimCommand *_sim_command_read        (SimWords               *words,
                                      SimCommandPlace         place,
                                      const SimCommandScope  *scope);

/* A node of any kind known to @scope (hosts count: an attacker's link or replay). */
gboolean    _sim_command_check_node  (SimWords               *words,
                                      const SimCommandScope  *scope,
                                      const char             *name,
                                      const char             *what);

/* sim-command-change.c */
/* "default" or two different nodes known to @scope, then at least one parameter. */
gboolean    _sim_link_change_read    (SimWords               *words,
                                      const SimCommandScope  *scope,
                                      SimLinkChange          *link);
/* " default latency 20ms" or " A B loss 30%": the words after "link". */
void        _sim_link_change_write   (const SimLinkChange    *link,
                                      GString                *s);
/* The given fields of @link onto @params. */
void        _sim_link_change_apply   (const SimLinkChange    *link,
                                      SimLinkParams          *params);
void        _sim_link_change_clear   (SimLinkChange          *link);

/*
 * Reads "KEY VALUE..." onto @change, which may hold keys of an earlier line (several
 * "policy" lines of a scenario add up); the given keys are checked against each other.
 */
gboolean    _sim_policy_change_read  (SimWords               *words,
                                      SimPolicyChange        *change);
/* " min-expires 60 auth on": the words after "policy". */
void        _sim_policy_change_write (const SimPolicyChange  *change,
                                      GString                *s);

G_END_DECLS
