/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-stack.h"

G_BEGIN_DECLS

/*
 * SimPhone: one virtual SIP device (a desk phone or a softphone) of one user.  It registers
 * its Contact for the user's AOR, answers digest challenges, refreshes before the *granted*
 * expiry with the same Call-ID, From tag, To and Contact and CSeq + 1 (RFC 3261 §10.2.4), and
 * makes and answers calls: INVITE, 180, 200, ACK, BYE, CANCEL.
 */

typedef enum {
  SIM_REG_IDLE,            /* never registered, or unregistered */
  SIM_REG_REGISTERING,     /* REGISTER sent, waiting */
  SIM_REG_REGISTERED,
  SIM_REG_UNREGISTERING,
  SIM_REG_FAILED,          /* wrong password, no answer, rejected: see reason */
} SimRegState;

typedef enum {
  SIM_CALL_IDLE,
  SIM_CALL_CALLING,        /* INVITE sent */
  SIM_CALL_RINGING,        /* 180 received (caller) or sent (callee) */
  SIM_CALL_ESTABLISHED,
  SIM_CALL_ENDED,
  SIM_CALL_FAILED,
} SimCallState;

/* sim_phone_register and sim_world_register: ask for the phone's default expiry
 * (sim_phone_set_default_expires); any other negative value does the same. */
#define SIM_PHONE_DEFAULT_EXPIRES (-1)
/* sim_phone_set_answer_delay: the phone rings and never answers. */
#define SIM_PHONE_NEVER_ANSWER    ((SimTime) -1)
/*
 * Quirks: what some real phones get wrong, so that a lesson can show what follows.  A phone
 * has none unless a scenario gives it some (phone ... quirk NAME).
 */
typedef enum {
  SIM_PHONE_QUIRK_NONE                    = 0,
  /* Its Via asks for no rport (a phone from before RFC 3581): responses go to the Via's port. */
  SIM_PHONE_QUIRK_NO_RPORT                = 1 << 0,
  /* Every refresh starts over: a new Call-ID and From tag, CSeq 1 (against RFC 3261 §10.2.4). */
  SIM_PHONE_QUIRK_NEW_CALL_ID_PER_REFRESH = 1 << 1,
  /* Every registration writes a new ;rinstance= into its Contact, and the old one is never
   * unbound: to the registrar each refresh is a new Contact (RFC 3261 §19.1.4). */
  SIM_PHONE_QUIRK_NEW_CONTACT_PER_REFRESH = 1 << 2,
  /* 423 Interval Too Brief: Min-Expires is not read; it tries again after the retry delay
   * (30 s) with the same too-short Expires, for ever. */
  SIM_PHONE_QUIRK_IGNORE_423              = 1 << 3,
  /* 423 Interval Too Brief: it gives up at once (registration failed, no retry). */
  SIM_PHONE_QUIRK_GIVE_UP_ON_423          = 1 << 4,
} SimPhoneQuirks;

#define SIM_PHONE_N_QUIRKS 5

/* "no-rport", "new-call-id-per-refresh", ... for one quirk bit; NULL for anything else. */
const char *sim_phone_quirk_name      (SimPhoneQuirks  quirk);
gboolean    sim_phone_quirk_from_name (const char     *name,
                                       SimPhoneQuirks *quirk);

const char *sim_reg_state_name  (SimRegState  state);
const char *sim_call_state_name (SimCallState state);

#define SIM_TYPE_PHONE (sim_phone_get_type ())
G_DECLARE_FINAL_TYPE (SimPhone, sim_phone, SIM, PHONE, GObject)

/* @stack carries the phone's traffic; the phone sets its request function. */
SimPhone     *sim_phone_new               (SimStack      *stack,
                                           const char    *user,
                                           const char    *device,
                                           const char    *domain,
                                           const char    *password,
                                           const char    *display_name) G_GNUC_WARN_UNUSED_RESULT;
const char   *sim_phone_get_user          (SimPhone      *self);
const char   *sim_phone_get_device        (SimPhone      *self);
const char   *sim_phone_get_aor           (SimPhone      *self);    /* "sip:alice@lab.example" */
const char   *sim_phone_get_contact       (SimPhone      *self);    /* "sip:alice@10.0.0.11:5060" */
SimStack     *sim_phone_get_stack         (SimPhone      *self);
void          sim_phone_set_password      (SimPhone      *self,
                                           const char    *password);
/* Where REGISTER and calls go in registrar mode (NULL: point-to-point). */
void          sim_phone_set_outbound      (SimPhone      *self,
                                           const SimAddr *proxy);
void          sim_phone_set_default_expires (SimPhone    *self,
                                           guint          expires);   /* default 3600 */
void          sim_phone_set_answer_delay  (SimPhone      *self,
                                           SimTime        delay);     /* default 2 s; SIM_PHONE_NEVER_ANSWER */
void          sim_phone_set_quirks        (SimPhone      *self,
                                           SimPhoneQuirks quirks);    /* default none */
SimPhoneQuirks sim_phone_get_quirks       (SimPhone      *self);

gboolean      sim_phone_register          (SimPhone      *self,
                                           gint64         expires,
                                           GError       **error);
gboolean      sim_phone_unregister        (SimPhone      *self,
                                           gboolean       all,
                                           GError       **error);
gboolean      sim_phone_call              (SimPhone      *self,
                                           const char    *target,
                                           GError       **error);
gboolean      sim_phone_hangup            (SimPhone      *self,
                                           GError       **error);
/* The host moved: new Contact; a registered phone re-registers (new Contact, old one expires=0). */
void          sim_phone_moved             (SimPhone      *self);
/* Power: off stops every timer and transaction (the registrar is not told). */
void          sim_phone_set_powered       (SimPhone      *self,
                                           gboolean       on);
gboolean      sim_phone_is_powered        (SimPhone      *self);

/*
 * For replay worlds only (SimDocument's seek): sets what the views read of a phone as a
 * recorded session had it: registration state and reason, granted seconds, power, and the
 * refresh timer's deadline (@refresh_at, SIM_TIME_NONE: none) armed on a clock that is never
 * run.  Traces and signals nothing.
 */
void          sim_phone_restore_shown     (SimPhone      *self,
                                           SimRegState    reg_state,
                                           const char    *reg_reason,
                                           guint32        granted,
                                           SimTime        refresh_at,
                                           gboolean       powered);
SimRegState   sim_phone_get_reg_state     (SimPhone      *self);
const char   *sim_phone_get_reg_reason    (SimPhone      *self);
guint32       sim_phone_get_granted       (SimPhone      *self);    /* seconds, last 200 OK */
SimTime       sim_phone_get_refresh_at    (SimPhone      *self);    /* SIM_TIME_NONE: none */
guint32       sim_phone_get_cseq          (SimPhone      *self);    /* last REGISTER CSeq */
const char   *sim_phone_get_call_id       (SimPhone      *self);    /* registration Call-ID */
SimCallState  sim_phone_get_call_state    (SimPhone      *self);
const char   *sim_phone_get_call_peer     (SimPhone      *self);

/* Point-to-point address book: user -> "ip:port". */
void          sim_phone_learn_address     (SimPhone      *self,
                                           const char    *user,
                                           const char    *address);
void          sim_phone_forget_address    (SimPhone      *self,
                                           const char    *user);
GHashTable   *sim_phone_get_address_book  (SimPhone      *self);    /* borrowed */

/* Signals: "changed" whenever registration or call state changes. */

/* For tests: FALSE parses every REGISTER the phones write before sending it, as before they
 * sent plain ones as text (sim_stack_send_request_text). */
void            _sim_phone_set_text_fast_path (gboolean enabled);

G_END_DECLS
