/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "sim-command.h"
#include "sim-history.h"
#include "sim-lesson.h"
#include "sim-scenario.h"
#include "sim-world.h"

G_BEGIN_DECLS

/*
 * SimDocument: what a window has open, without GTK.  It owns the scenario as opened (a file,
 * text, or the built-in demo scene) or a lesson, the edits made while it ran, and the SimWorld
 * that plays it; the GUI's views observe the world, and its window and panes act through the
 * document.
 *
 * A session is the scenario plus the edits, each a SimCommand stamped with the virtual time it
 * was made at.  Both are deterministic, so restarting and stepping back rebuild the world from
 * them and run it forward again, and saving writes them out as a scenario that replays the
 * same way (sim_document_to_text()).
 *
 * A lesson is played by its SimLessonRunner (the lesson pane drives it): the document's world
 * is the runner's, sim_document_restart() starts a new runner, and edits are made but not kept
 * (the runner replays what the student typed, not what the GUI changed).  Live mode
 * (sim_document_listen()) also makes edits without keeping them: it runs in wall time, which
 * no replay can repeat.
 *
 * Notifications: "world" when the world is replaced (open, restart, step back, listen), then
 * "changed" whenever the world moved on or was edited in place; "live", "replaying", "lesson",
 * "runner", "path", "title" and "subtitle" when they change.
 */

#define SIM_TYPE_DOCUMENT (sim_document_get_type ())
G_DECLARE_FINAL_TYPE (SimDocument, sim_document, SIM, DOCUMENT, GObject)

/*
 * Trace events a scene's world keeps as SimEvent objects (the views' window: the ladder, the
 * inspector): about 30 MB at most.  Every event is also in the document's SimHistory,
 * compactly, for seeking and for exporting the whole session.
 */
#define SIM_DOCUMENT_MAX_EVENTS 20000

/* Trace events kept while live (digest verdicts, pcapng export): about 15 MB at most. */
#define SIM_DOCUMENT_LIVE_MAX_EVENTS 10000

SimDocument     *sim_document_new            (void) G_GNUC_WARN_UNUSED_RESULT;

/*
 * Opening replaces what was open (edits, live mode) only when the new scene builds; paused at
 * t = 0.  A path ending in ".lesson" opens a lesson; @path NULL opens the demo scene.  @name is
 * what errors and the subtitle call text given as data.
 */
gboolean         sim_document_open           (SimDocument     *self,
                                              const char      *path,
                                              GError         **error);
gboolean         sim_document_open_data      (SimDocument     *self,
                                              const char      *text,
                                              gssize           length,
                                              const char      *name,
                                              GError         **error);
/* Opens @path's translated sibling in the user's language when there is one (sim-i18n.h). */
gboolean         sim_document_open_lesson    (SimDocument     *self,
                                              const char      *path,
                                              GError         **error);
/* The lesson as @student's own exercise (sim-lesson-student.h); @student NULL: as written. */
gboolean         sim_document_open_lesson_for_student (SimDocument *self,
                                                       const char  *path,
                                                       const char  *student,
                                                       GError     **error);

/*
 * Opens a pcap/pcapng capture (sim-capture-world.h): its SIP messages, verdicts and bindings as
 * the world's trace, the clock at the last message.  Nothing is replayed or edited: the scene
 * and a lesson are closed, restart and step back do nothing.  @users_path NULL or a users file
 * for the digest verdicts; @problems_out (may be NULL) gets the capture's problems, a line each.
 */
gboolean         sim_document_open_capture   (SimDocument     *self,
                                              const char      *path,
                                              const char      *users_path,
                                              GString         *problems_out,
                                              GError         **error);

/*
 * Live HEP (sim-watch.h): receives HEPv3 on @spec ("udp:IP:PORT") from a PBX's siptrace and
 * shows its traffic as the world's trace, bounded like live mode (SIM_DOCUMENT_LIVE_MAX_EVENTS)
 * and live in every other way: sim_document_stop_listening() closes the socket and reopens
 * what was open (the demo scene after a capture).  @auth_key NULL or empty: any packet;
 * @users_path NULL or empty: no verdicts beyond "undecidable".
 */
gboolean         sim_document_watch          (SimDocument     *self,
                                              const char      *spec,
                                              const char      *auth_key,
                                              const char      *users_path,
                                              GError         **error);

/* NULL for the demo scene and for data. */
const char      *sim_document_get_path       (SimDocument     *self);
/* The scene as opened (a lesson's scene for a lesson), without the edits (borrowed). */
SimScenario     *sim_document_get_scenario   (SimDocument     *self);
/* NULL unless a lesson is open. */
SimLesson       *sim_document_get_lesson     (SimDocument     *self);
SimLessonRunner *sim_document_get_runner     (SimDocument     *self);
SimWorld        *sim_document_get_world      (SimDocument     *self);
/* The scenario's or lesson's title, or NULL. */
const char      *sim_document_get_title      (SimDocument     *self);
/* One line saying what is open: "Demo: ...", "TITLE — FILE", "Lesson: ...", "Live: ...". */
const char      *sim_document_get_subtitle   (SimDocument     *self);
/* Where playing stops once: the scenario's "run" (or its last action + 60 s). */
SimTime          sim_document_get_run_length (SimDocument     *self);

/* Runs the world (not a live one) to virtual time @t. */
void             sim_document_run_until      (SimDocument     *self,
                                              SimTime          t);
/* Runs to the next trace event; FALSE when nothing is left to run, or live. */
gboolean         sim_document_step           (SimDocument     *self);
/*
 * Goes back to the last point a step could reach before the newest event: the previous step,
 * exactly as a straight run from t = 0 (same scene, seed and edits) reaches it.  The session is
 * re-run with its trace off up to the newest event's time, the trace's window filled from the
 * history, then stepped with the trace on.  While replaying it is the previous recorded event
 * instead, re-running nothing.  FALSE at the very start, live, or in a lesson (its
 * runner's history is the lesson pane's to replay).
 */
gboolean         sim_document_step_back      (SimDocument     *self);
/*
 * Shows the session at virtual time @t: the world as a straight run to @t leaves it (every
 * clock callback due at or before @t has run), its trace's window the events before, "world"
 * notified when it had to go back, "changed" when it only ran forward.  Going back shows a
 * replay world from the history (sim_document_get_replaying()), or, before an edit, re-runs
 * the session with the trace off.  FALSE live, in a lesson or with nothing open.
 */
gboolean         sim_document_seek           (SimDocument     *self,
                                              SimTime          t);
/*
 * TRUE while the world shown is a replay world (issue 17): after seeking or stepping back
 * within the recorded session, the scene built but not run, its clock moved to the time
 * shown, its trace's window, its location and what the views read of its phones set from the
 * history, so going back costs no re-run whatever the time.  Playing or stepping on feeds it
 * the recorded events in order; reaching the world that went furthest switches to that world,
 * which runs on.  An edit, or going back to before an edit, needs a world that runs: the
 * session is re-run to that point (sim_document_get_n_rerun_events() counts it).  What a
 * replay world does not show: calls in progress, link and network state changed by scenario
 * actions, transactions in flight (the views of a straight run show them).  Notified as
 * "replaying".
 */
gboolean         sim_document_get_replaying  (SimDocument     *self);
/* The number of events re-runs have regenerated since the document was made (tests, bench). */
guint64          sim_document_get_n_rerun_events (SimDocument *self);
/*
 * Every event of the session so far (a scene; NULL live or in a lesson): the furthest point
 * reached, even after seeking back.  An edit made after going back forgets what followed.
 */
SimHistory      *sim_document_get_history    (SimDocument     *self);
/* The time of the last recorded event (0 when none or no history). */
SimTime          sim_document_get_frontier   (SimDocument     *self);
/*
 * Writes the session up to the world's present as pcapng: a scene's whole session from its
 * history (streamed, one event at a time), a lesson's or a live world's from what its trace
 * keeps.
 */
gboolean         sim_document_write_pcapng   (SimDocument     *self,
                                              const char      *path,
                                              GError         **error);
/* Rebuilds the session at t = 0, edits included (a lesson: a new runner at its introduction). */
gboolean         sim_document_restart        (SimDocument     *self,
                                              GError         **error);
/* Someone else moved the world (the lesson's runner): follows the runner's world, "changed". */
void             sim_document_world_changed  (SimDocument     *self);

/*
 * Makes @command (a SIM_COMMAND_IN_EDIT one) now: it runs on the world at once (so the trace
 * shows it) and is kept, stamped with the world's time, so restart, step back and saving
 * replay it.  A command the world refuses is not kept.
 */
gboolean         sim_document_apply          (SimDocument     *self,
                                              const SimCommand *command,
                                              GError         **error);
/* The same for a typed command ("register alice-desk"), parsed against the world. */
gboolean         sim_document_apply_text     (SimDocument     *self,
                                              const char      *text,
                                              GError         **error);
guint            sim_document_get_n_edits    (SimDocument     *self);
/* The edits in the order made, each with its time in ->at (borrowed). */
const SimCommand *sim_document_get_edit      (SimDocument     *self,
                                              guint            i);

/*
 * The scene with its edits as scenario text: it parses again and replays the session.  A
 * phone added while the scene ran is there from the start (and registers when it was added),
 * a removed one is left out, a mode switch holds from the start; comments at the top say so.
 */
char            *sim_document_to_text        (SimDocument     *self) G_GNUC_WARN_UNUSED_RESULT;
gboolean         sim_document_save           (SimDocument     *self,
                                              const char      *path,
                                              GError         **error);

/*
 * Live mode: the registrar on real sockets, on the wall clock (sim-live.h says what is
 * checked and loaded).  With @with_scene the scene as opened (without its edits) is rebuilt on
 * the wall clock, its simulated phones sharing the registrar with the real ones; without it a
 * registrar alone serves @domain.  Restarting or opening ends it, as stopping does; stopping
 * goes back to the scene as opened at t = 0.
 */
typedef struct {
  const char *address;      /* an address phones can reach, e.g. 192.168.1.10 */
  guint port;               /* 0: any free port (see sim_world_get_transport()) */
  gboolean udp;
  gboolean tcp;             /* on the port UDP got, so that phones need one number */
  const char *domain;       /* NULL or empty: the scene's */
  const char *users_path;   /* NULL or empty: the scene's users only */
  gboolean with_scene;
} SimListenOptions;

gboolean         sim_document_listen         (SimDocument     *self,
                                              const SimListenOptions *options,
                                              GError         **error);
void             sim_document_stop_listening (SimDocument     *self);
gboolean         sim_document_get_live       (SimDocument     *self);

G_END_DECLS
