/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-register: N virtual phones register with digest authentication and keep refreshing
 * for one virtual hour against the real registrar on the simulated network.  Prints simulated
 * SIP messages per wall-clock second and heap growth per binding.
 *
 *   bench-register [--phones 10000] [--expires 600] [--hours 1] [--no-fast-parse]
 *
 * --no-fast-parse measures with libosip2 parsing every message, as before sim_message_parse had
 * its fast path.
 */
#include <malloc.h>

#include <sys/resource.h>

#ifdef HAVE_MIMALLOC
#include <mimalloc.h>
#endif

#include "sim-message-private.h"
#include "sim-world.h"

/*
 * Linked with mimalloc, glibc's mallinfo2 sees nothing: the memory mimalloc has committed
 * stands in for the heap then, at its peak (@peak: an upper bound, as it counts pages not yet
 * handed out and memory freed since; its current figure drops below the start when the pages
 * of the phones' set-up are reused).
 */
static gsize
heap_in_use (gboolean peak)
{
#ifdef HAVE_MIMALLOC
  size_t elapsed, user, system, rss, peak_rss, commit, peak_commit, faults;

  mi_process_info (&elapsed, &user, &system, &rss, &peak_rss, &commit, &peak_commit, &faults);
  return peak ? peak_commit : commit;
#else
  struct mallinfo2 info = mallinfo2 ();

  (void) peak;
  return info.uordblks + info.hblkhd;
#endif
}

/* This process's CPU time in seconds: on a shared machine the wall clock counts others' work. */
static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

typedef struct {
  SimWorld *world;
  char *device;
  gint64 expires;
} Start;

static void
start_cb (gpointer data)
{
  Start *start = data;
  sim_world_register (start->world, start->device, start->expires, NULL);
}

static void
start_free (Start *start)
{
  g_free (start->device);
  g_free (start);
}

/*
 * The floor under any simulated message: libosip2 parses it at the receiver and serialises it
 * at the sender.  Measured on a typical authenticated REGISTER so the figures above can be read
 * against what the parser alone allows.
 */
static double
osip_round_trip_usec (void)
{
  static const char text[] =
    "REGISTER sip:lab.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.11:5060;branch=z9hG4bKmp6b2aw1r6;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Alice\" <sip:alice@lab.example>;tag=in8cikvl9d\r\n"
    "To: \"Alice\" <sip:alice@lab.example>\r\n"
    "Call-ID: mtbyaxrihfac@10.0.0.11\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:alice@10.0.0.11:5060>\r\n"
    "Expires: 3600\r\n"
    "Authorization: Digest username=\"alice\", realm=\"lab.example\", "
    "nonce=\"aKYYV42ZZBTJE_2M1XaHSQAAAAAAAE8YAAAAAAAAAAA\", uri=\"sip:lab.example\", "
    "response=\"27c61099bc2f41ef916ac2a3ae0414c7\", algorithm=MD5, cnonce=\"1u3e5nhlp79xq5jp\", "
    "opaque=\"ca2d31a3ea34ead10f780bf1dd35a7a5\", qop=auth, nc=00000001\r\n"
    "User-Agent: SIP Lab phone (alice-desk)\r\n"
    "Content-Length: 0\r\n\r\n";
  const int rounds = 20000;
  gint64 start = g_get_monotonic_time ();

  for (int i = 0; i < rounds; i++)
    {
      g_autoptr(osip_message_t) msg = sim_message_parse (text, sizeof text - 1, NULL);
      g_autofree char *out = sim_message_to_string (msg, NULL);
    }
  return (double) (g_get_monotonic_time () - start) / rounds;
}

static void
print_results (SimWorld *world,
               int       n_phones,
               int       expires,
               double    hours,
               double    seconds,
               double    cpu,
               gssize    heap_growth)
{
  guint64 messages = sim_net_get_n_sent (sim_world_get_net (world));
  guint bindings = sim_location_get_n_bindings (sim_world_get_location (world));
  guint registered = 0;

  for (guint i = 0; i < sim_world_get_phones (world)->len; i++)
    if (sim_phone_get_reg_state (sim_world_get_phones (world)->pdata[i]) == SIM_REG_REGISTERED)
      registered++;
  g_print ("phones:                 %d (asking Expires %d s)\n", n_phones, expires);
  g_print ("virtual time:           %.0f s\n", hours * 3600);
  g_print ("registered at the end:  %u phones, %u bindings\n", registered, bindings);
  g_print ("SIP messages simulated: %" G_GUINT64_FORMAT "\n", messages);
  g_print ("wall time:              %.3f s\n", seconds);
  g_print ("messages per second:    %.0f\n", messages / seconds);
  g_print ("CPU time:               %.3f s (%.0f messages per CPU second)\n", cpu, messages / cpu);
  {
    double load[1];

    if (getloadavg (load, 1) == 1)
      g_print ("machine load average:   %.1f (the wall-clock rate includes waiting for the CPU)\n",
               load[0]);
  }
  g_print ("allocator:              %s\n",
#ifdef HAVE_MIMALLOC
           "mimalloc"
#else
           "glibc malloc"
#endif
           );
  g_print ("heap growth:            %.1f MiB (bindings, nonces, transactions still open;\n"
           "                        with mimalloc: growth of its peak committed memory, an upper bound)\n",
           (double) (heap_growth) / (1024.0 * 1024.0));
  g_print ("bytes per binding:      %.0f (upper bound: all heap growth / bindings)\n",
           bindings ? (double) (heap_growth) / bindings : 0.0);
  {
    double usec = osip_round_trip_usec ();
    g_print ("libosip2 parse + serialise of one REGISTER: %.1f us (alone caps the simulator at %.0f messages/s)\n",
             usec, 1e6 / usec);
  }
}

int
main (int argc, char *argv[])
{
  int n_phones = 10000;
  int expires = 600;
  double hours = 1.0;
  gboolean no_fast_parse = FALSE;
  GOptionEntry entries[] = {
    { "phones", 0, 0, G_OPTION_ARG_INT, &n_phones, "Number of phones (default 10000)", "N" },
    { "expires", 0, 0, G_OPTION_ARG_INT, &expires, "Expires each phone asks for (default 600)", "S" },
    { "hours", 0, 0, G_OPTION_ARG_DOUBLE, &hours, "Virtual hours to run (default 1)", "H" },
    { "no-fast-parse", 0, 0, G_OPTION_ARG_NONE, &no_fast_parse,
      "Parse every message with libosip2 alone", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- registration benchmark");
  g_autoptr(GError) error = NULL;
  g_autoptr(SimWorld) world = NULL;
  gsize heap_before, heap_after;
  gint64 wall_start, wall_end;
  guint registered = 0;
  double cpu;

  /*
   * The simulator allocates and frees many small libosip2 objects per message; keep freed
   * memory in the process instead of returning it to the kernel after every burst.
   */
#ifdef HAVE_MIMALLOC
  /* Nor does mimalloc decommit: its committed memory then only grows with what is kept. */
  mi_option_disable (mi_option_allow_decommit);
#else
  mallopt (M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  mallopt (M_TOP_PAD, 64 * 1024 * 1024);
#endif

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (no_fast_parse)
    _sim_message_set_fast_parse (FALSE);

  world = sim_world_new (1);
  /* Benchmarks measure the SIP work, not the recording of it. */
  sim_trace_set_enabled (sim_world_get_trace (world), FALSE);
  sim_world_add_server (world, "registrar", "10.0.0.1", "lab.example", &error);
  g_assert_no_error (error);
  {
    SimRegistrarPolicy policy = *sim_registrar_get_policy (sim_world_get_registrar (world));
    policy.min_expires = 60;
    sim_registrar_set_policy (sim_world_get_registrar (world), &policy);
  }

  for (int i = 0; i < n_phones; i++)
    {
      g_autofree char *user = g_strdup_printf ("u%05d", i);
      g_autofree char *device = g_strdup_printf ("phone%05d", i);
      g_autofree char *ip = g_strdup_printf ("10.%d.%d.%d", 1 + i / 65536, (i / 256) % 256, i % 256);
      Start *start;

      sim_world_add_user (world, user, "secret", NULL, &error);
      g_assert_no_error (error);
      if (sim_world_add_phone (world, user, device, ip, &error) == NULL)
        g_error ("%s", error->message);
      /* Spread the first REGISTERs over the first minute, as phones booting in a building. */
      start = g_new0 (Start, 1);
      start->world = world;
      start->device = g_strdup (device);
      start->expires = expires;
      sim_world_schedule (world, (SimTime) i * SIM_SEC (60) / MAX (n_phones, 1), start_cb, start,
                          (GDestroyNotify) start_free);
    }

  heap_before = heap_in_use (FALSE);
  wall_start = g_get_monotonic_time ();
  cpu = cpu_seconds ();
  sim_world_run_until (world, (SimTime) (hours * 3600 * G_USEC_PER_SEC));
  wall_end = g_get_monotonic_time ();
  cpu = cpu_seconds () - cpu;
  heap_after = heap_in_use (TRUE);

  for (guint i = 0; i < sim_world_get_phones (world)->len; i++)
    if (sim_phone_get_reg_state (sim_world_get_phones (world)->pdata[i]) == SIM_REG_REGISTERED)
      registered++;
  print_results (world, n_phones, expires, hours, (wall_end - wall_start) / 1e6, cpu,
                 (gssize) heap_after - (gssize) heap_before);
  return registered == (guint) n_phones ? 0 : 1;
}
