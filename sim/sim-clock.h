/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-types.h"

G_BEGIN_DECLS

#define SIM_TYPE_CLOCK (sim_clock_get_type ())
G_DECLARE_FINAL_TYPE (SimClock, sim_clock, SIM, CLOCK, GObject)

typedef void (*SimClockFunc) (gpointer user_data);

SimClock  *sim_clock_new_virtual   (void) G_GNUC_WARN_UNUSED_RESULT;
SimClock  *sim_clock_new_wall      (void) G_GNUC_WARN_UNUSED_RESULT;
gboolean   sim_clock_is_virtual    (SimClock       *self);
SimTime    sim_clock_now           (SimClock       *self);
guint      sim_clock_add           (SimClock       *self,
                                    SimTime         delay,
                                    SimClockFunc    func,
                                    gpointer        user_data,
                                    GDestroyNotify  destroy);
void       sim_clock_cancel        (SimClock       *self,
                                    guint           id);
gboolean   sim_clock_is_pending    (SimClock       *self,
                                    guint           id);
/* SIM_TIME_NONE when @id is not pending. */
SimTime    sim_clock_deadline      (SimClock       *self,
                                    guint           id);
gboolean   sim_clock_next_deadline (SimClock       *self,
                                    SimTime        *deadline);
gboolean   sim_clock_step          (SimClock       *self);
void       sim_clock_run_until     (SimClock       *self,
                                    SimTime         until);
guint      sim_clock_pending_count (SimClock       *self);
/*
 * For replay worlds only (SimDocument's seek): moves a virtual clock to @t, forwards or
 * back, firing nothing; pending callbacks stay pending with their deadlines.  A world whose
 * clock jumped shows recorded state and must never be run again: what it would fire is not
 * what a straight run fires.
 */
void       sim_clock_jump          (SimClock       *self,
                                    SimTime         t);

/* Clears a timer id and cancels it, like g_clear_handle_id. */
#define sim_clock_clear(clock, id_ptr) \
  G_STMT_START { if (*(id_ptr) != 0) { sim_clock_cancel ((clock), *(id_ptr)); *(id_ptr) = 0; } } G_STMT_END

G_END_DECLS
