/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-document.h"
#include "sim-i18n.h"

#include "sim-capture-world.h"
#include "sim-watch.h"

#include "sim-lesson-student.h"

#include <gio/gio.h>
#include <string.h>

#include "sim-demo.h"
#include "sim-live.h"
#include "sim-pcap.h"
#include "sim-transport.h"

/*
 * The document used to be the GUI window's own state (app-window.c): moved here so that it can
 * be tested without a display and driven by any front end.
 */

struct _SimDocument {
  GObject parent_instance;

  SimScenario *scenario;    /* as opened; never changed (worlds borrow its actions) */
  GPtrArray *edits;         /* SimCommand*, in the order made, ->at stamped */
  char *path;               /* NULL: the demo scene or data */
  char *name;               /* what data was opened as, or NULL */
  SimLesson *lesson;
  SimLessonRunner *runner;
  SimWorld *world;
  SimHistory *history;      /* a scene's: every event of the session so far */
  SimWorld *furthest;       /* after going back: the world that went furthest, paused there */
  SimTime run_length;
  char *scene_subtitle;     /* the subtitle when not live */
  char *subtitle;
  gboolean live;            /* the world runs on the wall clock with real sockets */
};

enum {
  PROP_0,
  PROP_WORLD,
  PROP_LESSON,
  PROP_RUNNER,
  PROP_PATH,
  PROP_TITLE,
  PROP_SUBTITLE,
  PROP_LIVE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SimDocument, sim_document, G_TYPE_OBJECT)

/* ------------------------------------------------------------------------------------------ */
/* Building the session                                                                       */

typedef struct {
  SimWorld *world;          /* unowned: the world's clock owns this closure */
  SimCommand *edit;
} ScheduledEdit;

static void
scheduled_edit_free (gpointer data)
{
  ScheduledEdit *scheduled = data;

  sim_command_free (scheduled->edit);
  g_free (scheduled);
}

static void
scheduled_edit_cb (gpointer data)
{
  ScheduledEdit *scheduled = data;
  g_autoptr(GError) error = NULL;

  if (!sim_command_run (scheduled->edit, scheduled->world, &error))
    sim_trace_note (sim_world_get_trace (scheduled->world), sim_world_now (scheduled->world),
                    scheduled->edit->device, "edit failed on replay: %s", error->message);
}

/* @scenario as opened, with every edit scheduled at its time. */
static SimWorld *
build_world (SimScenario  *scenario,
             GPtrArray    *edits,
             GError      **error)
{
  g_autoptr(SimWorld) world = sim_scenario_build (scenario, 0, error);

  if (world == NULL)
    return NULL;
  for (guint i = 0; i < edits->len; i++)
    {
      ScheduledEdit *scheduled = g_new0 (ScheduledEdit, 1);

      scheduled->world = world;
      scheduled->edit = sim_command_copy (edits->pdata[i]);
      sim_world_schedule (world, scheduled->edit->at, scheduled_edit_cb, scheduled,
                          scheduled_edit_free);
    }
  return g_steal_pointer (&world);
}

static GPtrArray *
edits_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) sim_command_free);
}

/* ------------------------------------------------------------------------------------------ */
/* State                                                                                      */

static void
set_subtitle (SimDocument *self,
              const char  *subtitle)
{
  if (g_strcmp0 (self->subtitle, subtitle) == 0)
    return;
  g_free (self->subtitle);
  self->subtitle = g_strdup (subtitle);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBTITLE]);
}

/* Closes the live world's sockets; the caller shows another world. */
static void
leave_live (SimDocument *self)
{
  SimSocketTransport *transport = self->world ? sim_world_get_transport (self->world) : NULL;

  if (transport != NULL)
    sim_socket_transport_close (transport);
  self->live = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIVE]);
  set_subtitle (self, self->scene_subtitle);
}

/*
 * Shows @world.  A scene's world (@history non-NULL: the session's so far, or a new one) keeps
 * a window of its trace, the history everything; a lesson's or a live world has no history:
 * only a scene's session replays.
 */
static void
set_world_full (SimDocument *self,
                SimWorld    *world,
                SimHistory  *history)
{
  g_autoptr(SimHistory) kept = history ? g_object_ref (history) : NULL;

  if (world == self->world)
    return;
  if (self->live)
    leave_live (self);
  /* Another session (or none): the world kept from this one's future goes. */
  if (kept == NULL || kept != self->history)
    g_clear_object (&self->furthest);
  if (self->history != NULL)
    sim_history_follow (self->history, NULL);
  g_clear_object (&self->history);
  if (world != NULL && kept != NULL)
    {
      sim_trace_set_max_kept (sim_world_get_trace (world), SIM_DOCUMENT_MAX_EVENTS);
      self->history = g_steal_pointer (&kept);
      sim_history_follow (self->history, sim_world_get_trace (world));
    }
  g_set_object (&self->world, world);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORLD]);
}

static void
set_world (SimDocument *self,
           SimWorld    *world)
{
  set_world_full (self, world, NULL);
}

/* A scene's world: @history is the session's so far when @world replays it, NULL for new. */
static void
set_scene_world (SimDocument *self,
                 SimWorld    *world,
                 SimHistory  *history)
{
  g_autoptr(SimHistory) fresh = history ? NULL : sim_history_new ();

  set_world_full (self, world, history ? history : fresh);
}

static void
emit_changed (SimDocument *self)
{
  g_signal_emit (self, signals[CHANGED], 0);
}

/* What is open now: a scene (@lesson NULL) or a lesson, with a fresh edit log. */
static void
set_opened (SimDocument *self,
            SimScenario *scenario,
            SimLesson   *lesson,
            const char  *path,
            const char  *name,
            const char  *subtitle)
{
  SimScenario *old = g_steal_pointer (&self->scenario);

  self->scenario = sim_scenario_ref (scenario);
  g_clear_pointer (&old, sim_scenario_unref);
  g_ptr_array_set_size (self->edits, 0);
  self->run_length = sim_scenario_get_run_length (scenario);
  if (g_strcmp0 (self->path, path) != 0)
    {
      g_free (self->path);
      self->path = g_strdup (path);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATH]);
    }
  if (name != self->name)
    {
      g_free (self->name);
      self->name = g_strdup (name);
    }
  /* Notified even when it is the same lesson: it starts again at its introduction. */
  if (lesson != NULL || self->lesson != NULL)
    {
      g_set_object (&self->lesson, lesson);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LESSON]);
    }
  g_free (self->scene_subtitle);
  self->scene_subtitle = g_strdup (subtitle);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

static void
set_runner (SimDocument     *self,
            SimLessonRunner *runner)
{
  if (g_set_object (&self->runner, runner))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNER]);
}

/* ------------------------------------------------------------------------------------------ */
/* Opening                                                                                    */

static char *
scene_subtitle (SimScenario *scenario,
                const char  *file)
{
  g_autofree char *basename = file ? g_path_get_basename (file) : NULL;

  if (basename == NULL)
    return g_strdup (scenario->title ? scenario->title : "");
  if (scenario->title != NULL)
    return g_strdup_printf ("%s — %s", scenario->title, basename);
  return g_steal_pointer (&basename);
}

/* Opens @scenario when it builds; what was open stays otherwise. */
static gboolean
open_scene (SimDocument  *self,
            SimScenario  *scenario,
            const char   *path,
            const char   *name,
            GError      **error)
{
  g_autoptr(GPtrArray) no_edits = edits_new ();
  g_autoptr(SimWorld) world = build_world (scenario, no_edits, error);
  g_autofree char *subtitle = NULL;

  if (world == NULL)
    return FALSE;
  subtitle = scene_subtitle (scenario, path ? path : name);
  g_object_freeze_notify (G_OBJECT (self));
  set_opened (self, scenario, NULL, path, name, subtitle);
  set_runner (self, NULL);
  set_scene_world (self, world, NULL);
  set_subtitle (self, subtitle);
  g_object_thaw_notify (G_OBJECT (self));
  return TRUE;
}

static gboolean
open_lesson (SimDocument  *self,
             SimLesson    *lesson,
             const char   *path,
             GError      **error)
{
  g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (lesson, error);
  g_autofree char *basename = NULL;
  g_autofree char *subtitle = NULL;

  if (runner == NULL)
    return FALSE;
  basename = g_path_get_basename (path);
  subtitle = g_strdup_printf (_("Lesson: %s — %s"), sim_lesson_get_title (lesson), basename);
  g_object_freeze_notify (G_OBJECT (self));
  set_opened (self, sim_lesson_get_scene (lesson), lesson, path, NULL, subtitle);
  set_runner (self, runner);
  set_world (self, sim_lesson_runner_get_world (runner));
  set_subtitle (self, subtitle);
  g_object_thaw_notify (G_OBJECT (self));
  return TRUE;
}

gboolean
sim_document_open_lesson (SimDocument  *self,
                          const char   *path,
                          GError      **error)
{
  g_autoptr(SimLesson) lesson = NULL;
  g_autofree char *localized = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  /* The lesson in the user's language when it has a translated sibling (NAME.es.lesson,
   * docs/translating.md): from --lesson, a FILE argument and the Open dialog alike. */
  localized = sim_i18n_localized_path (path);
  lesson = sim_lesson_parse_file (localized, error);
  return lesson != NULL && open_lesson (self, lesson, localized, error);
}

gboolean
sim_document_open_lesson_for_student (SimDocument  *self,
                                      const char   *path,
                                      const char   *student,
                                      GError      **error)
{
  g_autoptr(SimLesson) lesson = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  lesson = sim_lesson_parse_file_for_student (path, student, error);
  return lesson != NULL && open_lesson (self, lesson, path, error);
}

gboolean
sim_document_open (SimDocument  *self,
                   const char   *path,
                   GError      **error)
{
  g_autoptr(SimScenario) scenario = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);

  if (path != NULL && g_str_has_suffix (path, ".lesson"))
    return sim_document_open_lesson (self, path, error);
  scenario = path ? sim_scenario_parse_file (path, error) : sim_demo_new_scenario ();
  return scenario != NULL && open_scene (self, scenario, path, NULL, error);
}

gboolean
sim_document_open_data (SimDocument  *self,
                        const char   *text,
                        gssize        length,
                        const char   *name,
                        GError      **error)
{
  g_autoptr(SimScenario) scenario = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  scenario = sim_scenario_parse_data (text, length, name ? name : "scenario", error);
  return scenario != NULL && open_scene (self, scenario, NULL, name, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Playing                                                                                    */

void
sim_document_run_until (SimDocument *self,
                        SimTime      t)
{
  g_return_if_fail (SIM_IS_DOCUMENT (self));

  if (self->live || self->world == NULL)
    return;
  sim_world_run_until (self->world, t);
  /* Played on past the world kept from further ahead: it is of no more use. */
  if (self->furthest != NULL && sim_world_now (self->world) >= sim_world_now (self->furthest))
    g_clear_object (&self->furthest);
  emit_changed (self);
}

gboolean
sim_document_step (SimDocument *self)
{
  gboolean more;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);

  if (self->live || self->world == NULL)
    return FALSE;
  more = sim_world_step_event (self->world);
  emit_changed (self);
  return more;
}

/*
 * Shows @world, a replay of the session further back than the world shown: the world shown is
 * kept, paused, if it went further than any kept before, so that seeking ahead to where it is
 * (or beyond) takes no re-run.
 */
static void
go_back_to (SimDocument *self,
            SimWorld    *world)
{
  g_autoptr(SimHistory) history = g_object_ref (self->history);

  if (self->furthest == NULL || sim_world_now (self->world) >= sim_world_now (self->furthest))
    g_set_object (&self->furthest, self->world);
  set_scene_world (self, world, history);
}

gboolean
sim_document_restart (SimDocument  *self,
                      GError      **error)
{
  g_autoptr(SimWorld) world = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);

  if (self->lesson != NULL)
    {
      g_autoptr(SimLessonRunner) runner = sim_lesson_runner_new (self->lesson, error);

      if (runner == NULL)
        return FALSE;
      set_runner (self, runner);
      set_world (self, sim_lesson_runner_get_world (runner));
      return TRUE;
    }
  if (self->scenario == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "Nothing is open");
      return FALSE;
    }
  /* The session is deterministic: rebuilding replays it exactly, so its history holds. */
  world = build_world (self->scenario, self->edits, error);
  if (world == NULL)
    return FALSE;
  if (self->history != NULL)
    go_back_to (self, world);
  else
    set_scene_world (self, world, NULL);
  return TRUE;
}

static guint64
n_emitted (SimWorld *world)
{
  return sim_trace_get_n_emitted (sim_world_get_trace (world));
}

/*
 * The session rebuilt and run to virtual time @t (every callback due at or before it) with its
 * trace off, which is the same run (nothing in the core decides anything by its trace) without
 * building an event; then the trace is set as a straight run leaves it: the events up to @t
 * counted, the last window of them kept, materialised from the history, which holds them
 * because the session has been further.
 */
static SimWorld *
fast_forward (SimDocument *self,
              SimTime      t)
{
  g_autoptr(SimWorld) world = build_world (self->scenario, self->edits, NULL);
  g_autoptr(GPtrArray) window = NULL;
  SimTrace *trace;
  guint64 n, from;

  if (world == NULL)
    return NULL;
  trace = sim_world_get_trace (world);
  if (t < 0)
    return g_steal_pointer (&world);
  sim_trace_set_enabled (trace, FALSE);
  sim_world_run_until (world, t);
  sim_trace_set_enabled (trace, TRUE);
  n = sim_history_find_time (self->history, t + 1);
  from = n > SIM_DOCUMENT_MAX_EVENTS ? n - SIM_DOCUMENT_MAX_EVENTS : 0;
  window = g_ptr_array_new_full (n - from, (GDestroyNotify) sim_event_unref);
  for (guint64 i = from; i < n; i++)
    g_ptr_array_add (window, sim_history_get_event (self->history, i));
  sim_trace_set_max_kept (trace, SIM_DOCUMENT_MAX_EVENTS);
  sim_trace_restore (trace, window, n);
  return g_steal_pointer (&world);
}

static SimTime
event_time (SimDocument *self,
            guint64      index)
{
  g_autoptr(SimEvent) event = sim_history_get_event (self->history, index);

  return event ? event->t : 0;
}

/*
 * The last stop of a step-by-step run before event @now (0 when there is none) and the time
 * to fast-forward to before stepping there.  One step runs one clock callback, which may trace
 * several events, so not every index is a stop.  Stepping from "every callback before time T
 * has run" meets the same stops as stepping from t = 0, so only the last instants are
 * stepped: from the newest event's time, or further back while no stop is found there.
 */
static gboolean
find_previous_stop (SimDocument *self,
                    guint64      now,
                    guint64     *target,
                    SimTime     *from)
{
  guint64 last = now - 1;

  for (;;)
    {
      SimTime t = event_time (self, last);
      g_autoptr(SimWorld) probe = fast_forward (self, t > 0 ? t - 1 : -1);
      guint64 base;
      gboolean found = FALSE;

      if (probe == NULL)
        return FALSE;
      base = n_emitted (probe);
      /* At t = 0 the scene as built is a stop too (no step was made). */
      if (t == 0 && base < now)
        {
          *target = base;
          found = TRUE;
        }
      while (n_emitted (probe) < now && sim_world_step_event (probe))
        if (n_emitted (probe) < now)
          {
            *target = n_emitted (probe);
            found = TRUE;
          }
      if (found)
        {
          *from = t > 0 ? t - 1 : -1;
          return TRUE;
        }
      if (t == 0 || base == 0)
        return FALSE;
      last = base - 1;
    }
}

gboolean
sim_document_step_back (SimDocument *self)
{
  g_autoptr(SimWorld) world = NULL;
  guint64 now, target = 0;
  SimTime from = 0;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);

  /* A capture (no scenario) is not a session: there is nothing to replay. */
  if (self->live || self->lesson != NULL || self->world == NULL || self->history == NULL ||
      self->scenario == NULL)
    return FALSE;
  now = n_emitted (self->world);
  if (now == 0 || !find_previous_stop (self, now, &target, &from))
    return FALSE;
  world = fast_forward (self, from);
  if (world == NULL)
    return FALSE;
  while (n_emitted (world) < target && sim_world_step_event (world))
    ;
  go_back_to (self, world);
  return TRUE;
}

gboolean
sim_document_seek (SimDocument *self,
                   SimTime      t)
{
  g_autoptr(SimWorld) world = NULL;
  g_autoptr(SimHistory) history = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);

  if (self->live || self->lesson != NULL || self->world == NULL || self->history == NULL)
    return FALSE;
  t = MAX (t, 0);
  /* Ahead of the world shown and of the furthest one: that one runs on, no re-run needed. */
  if (self->furthest != NULL && t >= sim_world_now (self->furthest) &&
      sim_world_now (self->furthest) > sim_world_now (self->world))
    {
      g_autoptr(SimWorld) furthest = g_steal_pointer (&self->furthest);

      history = g_object_ref (self->history);
      set_scene_world (self, furthest, history);
    }
  /* Ahead: run on (a straight run to @t would have run the same callbacks). */
  if (t >= sim_world_now (self->world))
    {
      sim_document_run_until (self, t);
      return TRUE;
    }
  world = fast_forward (self, t);
  if (world == NULL)
    return FALSE;
  go_back_to (self, world);
  return TRUE;
}

SimHistory *
sim_document_get_history (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);
  return self->history;
}

SimTime
sim_document_get_frontier (SimDocument *self)
{
  guint64 n;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), 0);
  if (self->history == NULL || (n = sim_history_get_n_events (self->history)) == 0)
    return 0;
  return event_time (self, n - 1);
}

void
sim_document_world_changed (SimDocument *self)
{
  g_return_if_fail (SIM_IS_DOCUMENT (self));

  /* The runner may have rebuilt its world (a task's solution is replayed from the start). */
  if (self->runner != NULL && sim_lesson_runner_get_world (self->runner) != self->world)
    set_world (self, sim_lesson_runner_get_world (self->runner));
  else
    emit_changed (self);
}

/* ------------------------------------------------------------------------------------------ */
/* Edits                                                                                      */

gboolean
sim_document_apply (SimDocument       *self,
                    const SimCommand  *command,
                    GError           **error)
{
  g_autoptr(SimCommand) edit = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (command != NULL, FALSE);

  if (!(sim_verb_get_info (command->verb)->places & SIM_COMMAND_IN_EDIT))
    {
      g_set_error (error, SIM_COMMAND_ERROR, SIM_COMMAND_ERROR_NOT_HERE,
                   "'%s' is not an edit", sim_verb_get_info (command->verb)->word);
      return FALSE;
    }
  if (self->world == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "Nothing is open");
      return FALSE;
    }
  edit = sim_command_copy (command);
  edit->at = sim_world_now (self->world);
  edit->line = 0;
  /* Made in the past (after seeking back), it changes what follows: the session re-runs from
   * here, and what the history recorded after this point no longer happens. */
  if (self->history != NULL && !self->live && self->lesson == NULL)
    {
      sim_history_truncate (self->history, n_emitted (self->world));
      g_clear_object (&self->furthest);
    }
  if (!sim_command_run (edit, self->world, error))
    return FALSE;
  /* Live, or in a lesson, the change is made but not kept: neither replays it. */
  if (!self->live && self->lesson == NULL)
    g_ptr_array_add (self->edits, g_steal_pointer (&edit));
  emit_changed (self);
  return TRUE;
}

gboolean
sim_document_apply_text (SimDocument  *self,
                         const char   *text,
                         GError      **error)
{
  SimCommandScope scope = { NULL, NULL };
  g_autoptr(SimCommand) command = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  scope.world = self->world;
  command = sim_command_parse (text, SIM_COMMAND_IN_EDIT, &scope, error);
  return command != NULL && sim_document_apply (self, command, error);
}

guint
sim_document_get_n_edits (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), 0);
  return self->edits->len;
}

const SimCommand *
sim_document_get_edit (SimDocument *self,
                       guint        i)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);
  g_return_val_if_fail (i < self->edits->len, NULL);
  return self->edits->pdata[i];
}

/* ------------------------------------------------------------------------------------------ */
/* Saving                                                                                     */

static gboolean
names_device (const SimCommand *command,
              const char       *device)
{
  return g_strcmp0 (command->device, device) == 0 || g_strcmp0 (command->link.a, device) == 0 ||
         g_strcmp0 (command->link.b, device) == 0;
}

/* Actions are kept by time, file order within a time: after the last one not later. */
static void
insert_action (SimScenario *scene,
               SimCommand  *action)
{
  guint i = scene->actions->len;

  while (i > 0 && ((SimCommand *) scene->actions->pdata[i - 1])->at > action->at)
    i--;
  g_ptr_array_insert (scene->actions, i, action);
}

/* The phone and every action about it leave the scene. */
static void
remove_device (SimScenario *scene,
               const char  *device)
{
  for (guint i = scene->nodes->len; i > 0; i--)
    if (g_strcmp0 (((SimScenarioNode *) scene->nodes->pdata[i - 1])->name, device) == 0)
      g_ptr_array_remove_index (scene->nodes, i - 1);
  for (guint i = scene->actions->len; i > 0; i--)
    if (names_device (scene->actions->pdata[i - 1], device))
      g_ptr_array_remove_index (scene->actions, i - 1);
}

/* A phone added while the scene ran is in the scene from the start. */
static void
add_phone (SimScenario      *scene,
           const SimCommand *edit)
{
  SimScenarioNode *node = g_new0 (SimScenarioNode, 1);

  if (sim_scenario_find_user (scene, edit->user) == NULL)
    {
      SimScenarioUser *user = g_new0 (SimScenarioUser, 1);

      user->name = g_strdup (edit->user);
      user->password = g_strdup (edit->password);
      g_ptr_array_add (scene->users, user);
    }
  node->kind = SIM_SCENARIO_NODE_PHONE;
  node->name = g_strdup (edit->device);
  node->ip = g_strdup (edit->value);
  node->user = g_strdup (edit->user);
  node->expires = SIM_PHONE_DEFAULT_EXPIRES;
  node->answer_mode = SIM_ANSWER_DEFAULT;
  g_ptr_array_add (scene->nodes, node);
  /* It registered when it was added, as a real phone does (the add-phone verb). */
  if (scene->mode == SIM_MODE_REGISTRAR && sim_scenario_get_server (scene) != NULL)
    {
      SimCommand *reg = sim_command_new (SIM_VERB_REGISTER);

      reg->at = edit->at;
      reg->device = g_strdup (edit->device);
      reg->expires = SIM_PHONE_DEFAULT_EXPIRES;
      insert_action (scene, reg);
    }
}

/*
 * Puts the edits into @scene: what a scenario says as declarations (phones, users, the mode)
 * goes into them, the rest in among its "at" actions; @notes gets a comment for what a file
 * cannot say as it happened.
 */
static void
fold_edits (SimDocument *self,
            SimScenario *scene,
            GString     *notes)
{
  for (guint i = 0; i < self->edits->len; i++)
    {
      const SimCommand *e = self->edits->pdata[i];
      g_autofree char *when = sim_scenario_format_duration (e->at);

      switch (e->verb)
        {
        case SIM_VERB_ADD_PHONE:
          add_phone (scene, e);
          if (e->at > 0)
            g_string_append_printf (notes, "# %s was added at %s (here it is there from the "
                                           "start and registers at %s).\n",
                                    e->device, when, when);
          break;
        case SIM_VERB_REMOVE_PHONE:
          remove_device (scene, e->device);
          g_string_append_printf (notes, "# %s was removed at %s (here it is left out).\n",
                                  e->device, when);
          break;
        case SIM_VERB_MODE:
          scene->mode = e->mode;
          scene->has_mode = TRUE;
          if (e->at > 0)
            g_string_append_printf (notes, "# The mode was switched at %s.\n", when);
          break;
        default:
          if (sim_verb_get_info (e->verb)->places & SIM_COMMAND_IN_SCENARIO)
            insert_action (scene, sim_command_copy (e));
          else
            {
              g_autofree char *said = sim_command_to_string (e);

              g_string_append_printf (notes, "# At %s: %s (a scenario cannot say it: left "
                                             "out).\n", when, said);
            }
          break;
        }
    }
}

char *
sim_document_to_text (SimDocument *self)
{
  g_autofree char *original = NULL;
  g_autoptr(SimScenario) copy = NULL;
  g_autoptr(GString) notes = g_string_new (NULL);
  g_autofree char *body = NULL;
  g_autoptr(GError) error = NULL;
  const char *from;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);
  g_return_val_if_fail (self->scenario != NULL, NULL);

  /* Edit a fresh copy: worlds built from self->scenario borrow its actions. */
  original = sim_scenario_to_text (self->scenario);
  copy = sim_scenario_parse_data (original, -1, self->scenario->file, &error);
  if (copy == NULL)
    {
      g_critical ("The canonical scenario text does not parse: %s", error->message);
      return g_steal_pointer (&original);
    }
  fold_edits (self, copy, notes);

  /* Edits after the planned end would never run. */
  if (copy->has_run && self->edits->len > 0)
    {
      const SimCommand *last = self->edits->pdata[self->edits->len - 1];

      if (last->at >= copy->run)
        copy->run = last->at + SIM_SEC (60);
    }

  body = sim_scenario_to_text (copy);
  from = self->path ? self->path : self->name ? self->name : "the demo scene";
  return g_strdup_printf ("# Saved by SIP Lab from %s, with %u edit%s made while it ran.\n%s\n%s",
                          from, self->edits->len, self->edits->len == 1 ? "" : "s", notes->str,
                          body);
}

gboolean
sim_document_save (SimDocument  *self,
                   const char   *path,
                   GError      **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  text = sim_document_to_text (self);
  return g_file_set_contents (path, text, -1, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Capture                                                                                    */

/* One datagram that cannot be framed is left out; a stream that fails ends the export. */
static gboolean
add_to_capture (SimPcapWriter   *writer,
                const SimEvent  *event,
                GError         **error)
{
  g_autoptr(GError) local_error = NULL;

  if (sim_pcap_writer_add_event (writer, event, &local_error))
    return TRUE;
  if (local_error->domain == SIM_PCAP_ERROR)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

gboolean
sim_document_write_pcapng (SimDocument  *self,
                           const char   *path,
                           GError      **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileOutputStream) out = NULL;
  g_autoptr(GOutputStream) buffered = NULL;
  g_autoptr(SimPcapWriter) writer = NULL;
  SimTrace *trace;
  guint64 n;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (self->world == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "Nothing is open");
      return FALSE;
    }
  trace = sim_world_get_trace (self->world);
  file = g_file_new_for_path (path);
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (out == NULL)
    return FALSE;
  buffered = g_buffered_output_stream_new (G_OUTPUT_STREAM (out));
  writer = sim_pcap_writer_new (buffered, error);
  if (writer == NULL)
    return FALSE;
  /* Up to what is shown: after seeking back the history also holds what comes later. */
  n = sim_trace_get_n_emitted (trace);
  if (self->history != NULL && sim_history_get_n_events (self->history) >= n)
    for (guint64 i = 0; i < n; i++)
      {
        g_autoptr(SimEvent) event = sim_history_get_event (self->history, i);

        if (!add_to_capture (writer, event, error))
          return FALSE;
      }
  else
    for (guint i = 0; i < sim_trace_get_n_events (trace); i++)
      if (!add_to_capture (writer, sim_trace_get_event (trace, i), error))
        return FALSE;
  return g_output_stream_close (buffered, NULL, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Live: real phones on real sockets                                                          */

static gboolean
listen_on (SimWorld                *world,
           const SimListenOptions  *options,
           GError                 **error)
{
  g_autofree char *host = NULL;
  guint port = options->port;

  host = strchr (options->address, ':') ? g_strdup_printf ("[%s]", options->address)
                                        : g_strdup (options->address);
  if (options->udp)
    {
      g_autofree char *spec = g_strdup_printf ("udp:%s:%u", host, port);
      GArray *bound;

      if (!sim_world_listen (world, spec, error))
        return FALSE;
      /* TCP on the port UDP got, so phones need one number. */
      bound = sim_socket_transport_get_listeners (sim_world_get_transport (world));
      port = g_array_index (bound, SimAddr, 0).port;
    }
  if (options->tcp)
    {
      g_autofree char *spec = g_strdup_printf ("tcp:%s:%u", host, port);

      if (!sim_world_listen (world, spec, error))
        {
          if (sim_world_get_transport (world) != NULL)
            sim_socket_transport_close (sim_world_get_transport (world));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
sim_document_listen (SimDocument             *self,
                     const SimListenOptions  *options,
                     GError                 **error)
{
  g_autoptr(SimWorld) world = NULL;
  g_autofree char *subtitle = NULL;
  const SimAddr *first;
  char text[64];

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (options != NULL && options->address != NULL, FALSE);

  if (!options->udp && !options->tcp)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Choose UDP, TCP or both");
      return FALSE;
    }
  if (options->with_scene && self->scenario == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "No scene is open");
      return FALSE;
    }
  world = sim_live_world_new (options->with_scene ? self->scenario : NULL, options->domain,
                              options->users_path, NULL, error);
  if (world == NULL || !listen_on (world, options, error))
    return FALSE;

  set_world (self, world);
  self->live = TRUE;
  /* A registrar runs for hours: the views observe every event, and the trace keeps only the
   * most recent ones, for the digest verdicts and the pcapng export. */
  sim_trace_set_max_kept (sim_world_get_trace (world), SIM_DOCUMENT_LIVE_MAX_EVENTS);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIVE]);

  first = &g_array_index (sim_socket_transport_get_listeners (sim_world_get_transport (world)),
                          SimAddr, 0);
  sim_addr_format (first, text, sizeof text);
  subtitle = g_strdup_printf (_("Live: %s%s%s · domain %s · %u simulated phones"), text,
                              options->udp ? " UDP" : "", options->tcp ? " TCP" : "",
                              sim_world_get_domain (world), sim_world_get_phones (world)->len);
  set_subtitle (self, subtitle);
  return TRUE;
}

void
sim_document_stop_listening (SimDocument *self)
{
  g_autoptr(GError) error = NULL;
  gboolean reopened;

  g_return_if_fail (SIM_IS_DOCUMENT (self));

  if (!self->live)
    return;
  /* Back to what was open, as opened, at t = 0 (set_world() closes the sockets). */
  if (self->lesson != NULL)
    {
      g_autoptr(SimLesson) lesson = g_object_ref (self->lesson);
      g_autofree char *path = g_strdup (self->path);

      reopened = open_lesson (self, lesson, path, &error);
    }
  else
    {
      g_autoptr(SimScenario) scenario = sim_scenario_ref (self->scenario);
      g_autofree char *path = g_strdup (self->path);
      g_autofree char *name = g_strdup (self->name);

      reopened = open_scene (self, scenario, path, name, &error);
    }
  if (!reopened)
    {
      g_autoptr(SimWorld) empty = sim_world_new (0);

      g_warning ("Cannot reopen the scene: %s", error->message);
      set_world (self, empty);
    }
}

gboolean
sim_document_get_live (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  return self->live;
}

/* ------------------------------------------------------------------------------------------ */
/* Getters                                                                                    */

const char *
sim_document_get_path (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);
  return self->path;
}

SimScenario *
sim_document_get_scenario (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);
  return self->scenario;
}

SimLesson *
sim_document_get_lesson (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);
  return self->lesson;
}

SimLessonRunner *
sim_document_get_runner (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);
  return self->runner;
}

SimWorld *
sim_document_get_world (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);
  return self->world;
}

const char *
sim_document_get_title (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);

  if (self->lesson != NULL)
    return sim_lesson_get_title (self->lesson);
  return self->scenario ? self->scenario->title : NULL;
}

const char *
sim_document_get_subtitle (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), NULL);
  return self->subtitle;
}

SimTime
sim_document_get_run_length (SimDocument *self)
{
  g_return_val_if_fail (SIM_IS_DOCUMENT (self), 0);
  return self->run_length;
}

/* ------------------------------------------------------------------------------------------ */
/* GObject                                                                                    */

static void
sim_document_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SimDocument *self = SIM_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_WORLD:
      g_value_set_object (value, self->world);
      break;
    case PROP_LESSON:
      g_value_set_object (value, self->lesson);
      break;
    case PROP_RUNNER:
      g_value_set_object (value, self->runner);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_TITLE:
      g_value_set_string (value, sim_document_get_title (self));
      break;
    case PROP_SUBTITLE:
      g_value_set_string (value, self->subtitle);
      break;
    case PROP_LIVE:
      g_value_set_boolean (value, self->live);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sim_document_dispose (GObject *object)
{
  SimDocument *self = SIM_DOCUMENT (object);

  if (self->live && self->world != NULL && sim_world_get_transport (self->world) != NULL)
    sim_socket_transport_close (sim_world_get_transport (self->world));
  self->live = FALSE;
  if (self->history != NULL)
    sim_history_follow (self->history, NULL);
  g_clear_object (&self->history);
  g_clear_object (&self->furthest);
  g_clear_object (&self->world);
  g_clear_object (&self->runner);
  g_clear_object (&self->lesson);
  G_OBJECT_CLASS (sim_document_parent_class)->dispose (object);
}

static void
sim_document_finalize (GObject *object)
{
  SimDocument *self = SIM_DOCUMENT (object);

  g_clear_pointer (&self->scenario, sim_scenario_unref);
  g_clear_pointer (&self->edits, g_ptr_array_unref);
  g_free (self->path);
  g_free (self->name);
  g_free (self->scene_subtitle);
  g_free (self->subtitle);
  G_OBJECT_CLASS (sim_document_parent_class)->finalize (object);
}

static void
sim_document_class_init (SimDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = sim_document_get_property;
  object_class->dispose = sim_document_dispose;
  object_class->finalize = sim_document_finalize;

  properties[PROP_WORLD] = g_param_spec_object ("world", NULL, NULL, SIM_TYPE_WORLD, flags);
  properties[PROP_LESSON] = g_param_spec_object ("lesson", NULL, NULL, SIM_TYPE_LESSON, flags);
  properties[PROP_RUNNER] = g_param_spec_object ("runner", NULL, NULL, SIM_TYPE_LESSON_RUNNER,
                                                 flags);
  properties[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL, flags);
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, flags);
  properties[PROP_SUBTITLE] = g_param_spec_string ("subtitle", NULL, NULL, NULL, flags);
  properties[PROP_LIVE] = g_param_spec_boolean ("live", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /*
   * The world moved on (run, step, a lesson's item) or was edited in place: views redraw.  Not
   * emitted when the world is replaced; "notify::world" says that.
   */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
sim_document_init (SimDocument *self)
{
  self->edits = edits_new ();
}

SimDocument *
sim_document_new (void)
{
  return g_object_new (SIM_TYPE_DOCUMENT, NULL);
}

gboolean
sim_document_open_capture (SimDocument  *self,
                           const char   *path,
                           const char   *users_path,
                           GString      *problems_out,
                           GError      **error)
{
  g_autoptr(SimObserver) observer = NULL;
  g_autoptr(SimWorld) world = NULL;
  g_autofree char *base = NULL;
  g_autofree char *subtitle = NULL;

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  world = sim_capture_world_new (path, users_path, problems_out, &observer, error);
  if (world == NULL)
    return FALSE;
  /* Nothing to replay or edit: the scene, its edits and a lesson are closed. */
  g_clear_pointer (&self->scenario, sim_scenario_unref);
  g_ptr_array_set_size (self->edits, 0);
  if (self->lesson != NULL)
    {
      g_clear_object (&self->lesson);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LESSON]);
    }
  set_runner (self, NULL);
  g_free (self->path);
  self->path = g_strdup (path);
  g_clear_pointer (&self->name, g_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATH]);
  self->run_length = sim_world_now (world);
  base = g_path_get_basename (path);
  subtitle = g_strdup_printf ("Capture: %s · %" G_GUINT64_FORMAT " SIP messages", base,
                              sim_observer_get_n_messages (observer));
  g_free (self->scene_subtitle);
  self->scene_subtitle = g_strdup (subtitle);
  set_world (self, world);
  set_subtitle (self, subtitle);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
  emit_changed (self);
  return TRUE;
}

/* The observer's clock follows the sender's; the world's (what the views call now) follows it. */
static void
watch_event_cb (SimTrace *trace,
                SimEvent *event,
                gpointer  user_data)
{
  SimWorld *world = user_data;

  if (event->t > sim_world_now (world))
    sim_world_run_until (world, event->t);
}

gboolean
sim_document_watch (SimDocument  *self,
                    const char   *spec,
                    const char   *auth_key,
                    const char   *users_path,
                    GError      **error)
{
  g_autoptr(SimWorld) world = sim_world_new (0);
  g_autoptr(SimObserver) observer = NULL;
  g_autoptr(SimWatch) watch = NULL;
  g_autofree char *address = NULL;
  g_autofree char *subtitle = NULL;
  SimTrace *trace = sim_world_get_trace (world);

  g_return_val_if_fail (SIM_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (spec != NULL, FALSE);

  observer = sim_observer_new (trace);
  if (users_path != NULL && users_path[0] != '\0' &&
      !sim_observer_load_users (observer, users_path, error))
    return FALSE;
  watch = sim_watch_new (observer, spec, auth_key, error);
  if (watch == NULL)
    return FALSE;
  /* Stop Listening goes back to what was open; after a capture, to the demo scene. */
  if (self->scenario == NULL && self->lesson == NULL && !sim_document_open (self, NULL, error))
    return FALSE;
  /* Bounded like live mode: the views observe every event, the trace keeps the newest. */
  sim_trace_set_max_kept (trace, SIM_DOCUMENT_LIVE_MAX_EVENTS);
  g_signal_connect_object (trace, "event", G_CALLBACK (watch_event_cb), world, 0);
  sim_capture_world_set_observer (world, observer);
  address = sim_watch_get_address (watch);
  /* The socket lives as long as the world: replacing the world closes it. */
  g_object_set_data_full (G_OBJECT (world), "siplab-watch", g_steal_pointer (&watch),
                          g_object_unref);
  set_world (self, world);
  self->live = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIVE]);
  subtitle = g_strdup_printf ("Watching HEP on %s%s", address,
                              auth_key != NULL && auth_key[0] != '\0' ? " (with key)" : "");
  set_subtitle (self, subtitle);
  return TRUE;
}
