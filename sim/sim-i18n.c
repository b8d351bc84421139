/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-i18n.h"

#include <locale.h>
#include <string.h>

#ifndef SIPLAB_LOCALEDIR
#define SIPLAB_LOCALEDIR "/usr/share/locale"
#endif

/*
 * Binds the "siplab" catalogue and makes it the default domain, so GtkBuilder templates
 * (which use textdomain() when the .ui names none) and g_option_context's help find it too.
 * The caller has already called setlocale (LC_ALL, "").  UTF-8 always: GLib and GTK speak it.
 */
/* The locale the environment asks messages in: LC_ALL, else LC_MESSAGES, else LANG. */
static const char *
requested_messages_locale (void)
{
  const char *names[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *value = g_getenv (names[i]);

      if (value != NULL && *value != '\0')
        return value;
    }
  return NULL;
}

/*
 * The catalogues of an uninstalled build: a program run from a meson build tree
 * (BUILD/app/siplab-cli) finds them in BUILD/po, where meson's i18n module writes them, so
 * `LANGUAGE=es ./_build/app/siplab-cli run ...` speaks Spanish before `meson install`.
 * NULL when the program is not in a build tree (an installation uses SIPLAB_LOCALEDIR).
 */
static char *
build_tree_localedir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *bindir = NULL;
  g_autofree char *root = NULL;
  g_autofree char *ninja = NULL;
  g_autofree char *po = NULL;

  if (exe == NULL)
    return NULL;
  bindir = g_path_get_dirname (exe);
  root = g_path_get_dirname (bindir);
  ninja = g_build_filename (root, "build.ninja", NULL);
  po = g_build_filename (root, "po", NULL);
  if (!g_file_test (ninja, G_FILE_TEST_IS_REGULAR) || !g_file_test (po, G_FILE_TEST_IS_DIR))
    return NULL;
  return g_steal_pointer (&po);
}

void
sim_i18n_init (void)
{
  g_autofree char *build_dir = NULL;
  const char *dir = g_getenv (SIM_I18N_LOCALEDIR_ENV);
  const char *messages = setlocale (LC_MESSAGES, NULL);
  const char *requested = requested_messages_locale ();

  /*
   * A locale the C library lacks (LANG=es_ES.UTF-8 with es_ES not generated) leaves "C", where
   * gettext ignores LANGUAGE: C.UTF-8 (built into glibc) lets LANGUAGE=es still speak Spanish.
   * Only then: LC_ALL=C asked for on purpose (a script wanting English) stays "C".
   */
  if (messages != NULL && strcmp (messages, "C") == 0 && g_getenv ("LANGUAGE") != NULL &&
      requested != NULL && strcmp (requested, "C") != 0 && strcmp (requested, "POSIX") != 0 &&
      !g_str_has_prefix (requested, "C.") && setlocale (LC_MESSAGES, "C.UTF-8") != NULL)
    setlocale (LC_CTYPE, "C.UTF-8");
  if (dir == NULL || *dir == '\0')
    dir = build_dir = build_tree_localedir ();
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL ? dir : SIPLAB_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

/* Whether gettext translates at all: it ignores LANGUAGE while LC_MESSAGES is "C" or "POSIX". */
static gboolean
messages_translated (void)
{
  const char *messages = setlocale (LC_MESSAGES, NULL);

  return messages != NULL && strcmp (messages, "C") != 0 && strcmp (messages, "POSIX") != 0;
}

/* The language part of a locale name: "es" of "es_ES.UTF-8"; FALSE for "C" and the like. */
static gboolean
language_of (const char *name,
             char        lang[8])
{
  gsize n = strcspn (name, "_.@");

  if (n < 2 || n > 3 || strcmp (name, "C") == 0 || strncmp (name, "POSIX", 5) == 0)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_islower (name[i]))
      return FALSE;
  memcpy (lang, name, n);
  lang[n] = '\0';
  return TRUE;
}

/*
 * The language the user reads first, as a code ("es"), or "C" when untranslated.  GLib's list
 * follows LANGUAGE, LC_ALL, LC_MESSAGES and LANG in gettext's order.
 */
const char *
sim_i18n_language (void)
{
  static char lang[8];
  const char * const *names = g_get_language_names ();

  if (!messages_translated ())
    return "C";
  for (guint i = 0; names[i] != NULL; i++)
    if (language_of (names[i], lang))
      return lang;
  return "C";
}

/*
 * The length of @path's language suffix: 3 for "x.es.lesson" (".es"), 0 for "x.lesson".  A
 * translated sibling is named NAME.LANG.EXT with LANG two or three lower-case letters.
 */
gsize
sim_i18n_language_suffix_length (const char *path)
{
  const char *base = strrchr (path, '/');
  const char *ext, *dot;
  char lang[8];

  base = base != NULL ? base + 1 : path;
  ext = strrchr (base, '.');
  if (ext == NULL || ext == base)
    return 0;
  for (dot = ext - 1; dot > base && *dot != '.'; dot--)
    ;
  if (*dot != '.' || dot == base || (gsize) (ext - dot - 1) > 3)
    return 0;
  {
    char word[8] = { 0 };

    memcpy (word, dot + 1, ext - dot - 1);
    if (!language_of (word, lang) || strcmp (word, lang) != 0)
      return 0;
  }
  return ext - dot;
}

/*
 * The translated sibling of @path the user reads ("lessons/01-x.es.lesson" for
 * "lessons/01-x.lesson" under LANGUAGE=es), trying the user's languages in order; a copy of
 * @path when there is none or @path is itself a translation.
 */
char *
sim_i18n_localized_path (const char *path)
{
  const char * const *names = g_get_language_names ();
  const char *ext = strrchr (path, '.');
  const char *slash = strrchr (path, '/');
  char lang[8];

  g_return_val_if_fail (path != NULL, NULL);
  if (!messages_translated () || ext == NULL || (slash != NULL && ext < slash) ||
      sim_i18n_language_suffix_length (path) > 0)
    return g_strdup (path);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *candidate = NULL;

      if (!language_of (names[i], lang))
        continue;
      candidate = g_strdup_printf ("%.*s.%s%s", (int) (ext - path), path, lang, ext);
      if (g_file_test (candidate, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&candidate);
    }
  return g_strdup (path);
}

/* --- The simulator's sentences --------------------------------------------------------------- */

/*
 * Every sentence the simulator writes into a trace event's reason or text, as the format that
 * matches it (usually the producer's own printf format; a composed sentence is split into the
 * pieces it is made of, each a "%s" of the other).  First match wins, so a specific format
 * comes before a general one.  Numbers are matched as numbers, "%s" as any text (shortest
 * first).  A format changed at its producer without changing here only makes that sentence
 * English again; tests/test-i18n.c runs every shipped scenario and checks nothing displayed is.
 */
static const char *const reason_formats[] = {
  /* TRANSLATORS: the simulator's sentences (the ladder's reasons and action texts).  Keep the
   * conversions; reorder them with %1$s, %2$u ... if Spanish wants another order.  A text in
   * parentheses that starts with a space is appended to another sentence. */

  /* Actions of a scenario or a user (sim-world.c). */
  N_("%s registers %s (asks for Expires %lld)"),
  N_("%s registers %s"),
  N_("%s removes every binding of its user (Contact: *)"),
  N_("%s unregisters (Expires: 0)"),
  N_("%s calls %s"),
  N_("%s hangs up"),
  N_("%s moves to %s"),
  N_("%s is switched on"),
  N_("%s loses power"),
  N_("%s is configured with a new password"),
  N_("the registrar's password for %s changes"),
  /* What a replay changes follows the victim's name: one entry per first change, so the name
   * ends where the change begins. */
  N_("%s replays the REGISTER with Authorization captured from %s (new Call-ID)%s"),
  N_("%s replays the REGISTER with Authorization captured from %s (CSeq + 1)%s"),
  N_("%s replays the REGISTER with Authorization captured from %s (Contact: %s)%s"),
  N_("%s replays the REGISTER with Authorization captured from %s (Expires: %lld)%s"),
  N_("%s replays the REGISTER with Authorization captured from %s"),
  N_(" (new Call-ID)%s"),
  N_(" (CSeq + 1)%s"),
  N_(" (Contact: %s)%s"),
  N_(" (Expires: %lld)%s"),
  N_("%s sends raw bytes to the registrar"),
  N_("link %s <-> %s: latency %g ms, jitter %g ms, loss %g%%"),
  N_("%s's address book: %s is at %s"),
  N_("every phone's address book is filled in by hand"),
  N_("mode: point-to-point"),
  N_("%s is removed from the network"),
  N_("the registrar listens on real sockets at %s:%u; simulated phones reach it there too"),

  /* The registrar and the location service (sim-registrar.c, sim-location.c). */
  N_("a new Contact for %s: %u s granted%s (RFC 3261 §10.3 step 7)"),
  N_("a refresh: same Contact and Call-ID, CSeq %u > %u; %u s granted%s (RFC 3261 §10.3 step 7)"),
  N_("the same Contact with a new Call-ID (a restarted phone, or another one): the binding is "
     "replaced, %u s granted%s (RFC 3261 §10.3 step 7)"),
  N_(" (asked for %u s; the policy grants at most %u s)"),
  N_(" (asked for %u s; raised to the policy minimum)"),
  N_("no refresh arrived within the %u s granted by the last 200 OK, so the binding lapsed "
     "(RFC 3261 §10.2.1)"),
  N_("the REGISTER asked for expires 0, which removes this binding (RFC 3261 §10.2.2)"),
  N_("Contact: * with Expires: 0 removes every binding of the AOR (RFC 3261 §10.2.2)"),
  N_("Contact: * removes every binding, so it must be the only Contact and come with Expires: 0 "
     "(RFC 3261 §10.3 step 6)"),
  N_("the Contact's expires=%s is not a number of seconds (RFC 3261 §20.10)"),
  N_("a Contact has no usable URI"),
  N_("q=%s is not a qvalue between 0 and 1 (RFC 3261 §20.10)"),
  N_("%u s is shorter than this registrar's minimum of %u s: the phone must retry with at least "
     "Min-Expires (RFC 3261 §10.3 step 7, §10.2.8)"),
  N_("CSeq %u is not higher than %u for the same Call-ID: a stale or replayed REGISTER "
     "(RFC 3261 §10.3 step 7)"),
  N_("CSeq %u is not higher than %u for the same Call-ID: a stale or replayed REGISTER "
     "(RFC 3261 §10.3 step 6)"),
  N_("evicted: %s already had %u bindings, the policy's maximum, so the oldest one makes room "
     "for the new Contact (policy replace_oldest)"),
  N_("%s would have %u bindings, more than the %u this registrar allows per AOR "
     "(policy max_contacts)"),
  N_("Expires: %s is not a number of seconds (RFC 3261 §20.19)"),
  N_("the new bindings of %s could not be stored (%s), so the old ones stay and the REGISTER "
     "fails as a whole (RFC 3261 §10.3 step 7)"),
  N_("the REGISTER has no usable Request-URI or To"),
  N_("the Request-URI names %s, but this registrar keeps bindings only for %s "
     "(RFC 3261 §10.3 step 1)"),
  N_("the REGISTER requires %s, which this registrar does not support "
     "(RFC 3261 §10.3 step 2, §8.2.2.3)"),
  N_("the To header holds %s, which is not an address-of-record of %s (RFC 3261 §10.3 step 5)"),
  N_("there is no user %s in %s (RFC 3261 §10.3 step 5)"),
  N_("%s authenticated, but may only change the bindings of their own AOR, not %s "
     "(RFC 3261 §10.3 step 4)"),

  /* Digest authentication (sim-auth.c, sim-auth-limiter.c). */
  N_("the digest matches the password on file and the nonce is fresh and unused: the request is "
     "authenticated (RFC 3261 §22.4, RFC 7616 §3.4)"),
  N_("the request carries no Digest credentials for this realm, so it is challenged with a "
     "fresh nonce: 401 and WWW-Authenticate from the registrar (RFC 3261 §22.1), 407 and "
     "Proxy-Authenticate from the proxy (§22.3)"),
  N_("the Authorization header cannot be parsed or lacks a required parameter (username, "
     "realm, nonce, uri, response; cnonce and nc with qop): 400 Bad Request (RFC 7616 §3.4)"),
  N_("the credentials were computed for another realm, so they say nothing about this one; the "
     "phone is challenged for the right realm (RFC 3261 §22.1)"),
  N_("the nonce was not issued by this registrar to this address, was altered, or is from "
     "before a restart or long expired: its signature or its table entry does not match, so "
     "the phone is challenged again (RFC 7616 §3.3)"),
  N_("the digest is right but the nonce expired; the phone may retry with the new nonce without "
     "asking for the password (stale=true, RFC 7616 §3.3)"),
  N_("the response does not match: wrong password or unknown user, and the registrar does not "
     "say which, so an attacker cannot find out who has an account (RFC 7616 §5.1)"),
  N_("the phone used a hash algorithm this realm did not offer in its challenge, so it is "
     "challenged again with the allowed ones (RFC 7616 §3.7, RFC 8760 §2.4)"),
  N_("the digest-uri differs from the Request-URI, so the digest may belong to another request: "
     "400 Bad Request (RFC 7616 §3.4)"),
  N_("a fresh nonce replaces one that expired while the digest was still right "
     "(stale=true, RFC 7616 §3.3)"),
  N_("a fresh nonce for a 407 challenge: the proxy asks the caller to prove who it is before it "
     "routes the request (RFC 3261 §22.3)"),
  N_("a fresh nonce for a 401 challenge (RFC 3261 §22.1)"),

  /* Phones (sim-phone.c). */
  N_("%s refreshes as if it had just started: a new Call-ID (%s), a new From tag, CSeq 1 (quirk "
     "new-call-id-per-refresh; RFC 3261 §10.2.4 asks for the same Call-ID)"),
  N_("%s writes a new Contact, %s, and does not unbind the old one (quirk "
     "new-contact-per-refresh)"),
  N_("refresh merged: the REGISTER in flight (CSeq %u) renews the binding (RFC 3261 §10.2)"),
  N_("refreshing before the binding expires"),
  N_("retrying the registration"),
  N_("401 without a digest challenge we understand"),
  N_("wrong password: the registrar challenged our answer again (401)"),
  N_("%s queued: the previous REGISTER (CSeq %u) has no final response yet (RFC 3261 §10.2)"),
  N_("REGISTER (CSeq %u) has its final response: sending the queued %s"),
  N_("423 Interval Too Brief: Min-Expires ignored, trying again in 30 s with the same Expires "
     "(quirk ignore-423)"),
  N_("423 Interval Too Brief: gave up without reading Min-Expires (quirk give-up-on-423)"),
  N_("423 Interval Too Brief: asking again with Min-Expires"),
  N_("200 OK but our Contact is not in it"),
  N_("asked for %u s, the registrar granted %u s"),
  N_("Contact: * with Expires: 0"),
  N_("Expires: 0"),
  N_("unregistered"),
  N_("answered"),
  N_("wrong password: the proxy challenged our answer again (407)"),
  N_("challenged (407) without a digest challenge we understand"),
  N_("cancelled (487 Request Terminated)"),
  N_("no answer at all: the INVITE timed out (Timer B, 408)"),
  N_("hung up before the answer (CANCEL)"),
  N_("declined (603)"),
  N_("hung up (BYE)"),
  N_("the caller cancelled, or another device answered"),
  N_("the other side hung up (BYE)"),

  /* The network (sim-net.c). */
  N_("%s moved from %s to %s"),
  N_("NAT mapping %s:%u -> %s closed: nothing went out through it for %s (RFC 4787 REQ-5); "
     "what arrives at that port now is dropped"),
  N_("NAT mapping %s -> %s:%u opened (it closes after %s without outgoing traffic, RFC 4787)"),
  N_("%s has no free port for a new mapping (at most %u at once)"),
  N_("%s has no mapping for port %u: an unsolicited datagram is dropped (RFC 4787 §5)"),
  N_("%s drops it: %s has sent nothing to %s (address-dependent filtering, RFC 4787 §5)"),
  N_("the router %s is gone: the datagram is lost"),
  N_("no host has address %s any more: the datagram is lost"),
  N_("%s is powered off"),
  N_("nothing listens on %s port %u (ICMP port unreachable)"),
  N_("%s is a private address behind %s: nothing outside %s routes to it"),
  N_("lost on the link (simulated packet loss)"),

  /* Transactions (sim-stack.c). */
  N_("no final response: the transaction timed out (408)"),
  N_("the transport could not reach the destination (%s): the transaction ends at once with 503"),
  N_("no ACK arrived: the transaction gives up (Timer H)"),
  N_("final response sent statelessly (RFC 3261 §8.2.7): the transaction is forgotten at once "
     "and a retransmitted request gets a new one"),
  N_("the ACK for that challenge or refusal ends here: it confirms a final response sent without "
     "keeping a transaction (RFC 3261 §8.2.7), so nothing waits for it and it goes no further "
     "(§17.1.1.3)"),
  N_("a %d response matches no transaction: dropped"),

  /* The proxy (sim-proxy.c, sim-proxy-auth.c, sim-proxy-dialogs.c). */
  N_("no binding for %s: %s"),
  N_("%u contacts for %s: %s (forking to all in parallel)"),
  N_("%u contact%s for %s: %s"),
  N_("the From claims a user of %s, so the proxy wants proof before it routes the %s: "
     "407 Proxy Authentication Required (RFC 3261 §22.3)"),
  N_("the From claims a user of %s, so the proxy wants proof before it routes the %s: "
     "407 Proxy Authentication Required (RFC 3261 §22.3); %s"),
  N_("%s authenticated, but the From says %s: a user may only send requests as themselves "
     "(403, RFC 3261 §22.3, §16.3 step 6)"),
  N_("a %d response carried no Via but ours (RFC 3261 §16.7 step 3): the caller gets our own %d"),
  N_("CANCEL from %s for an INVITE that came from %s: it cancels nothing (481)"),
  N_("ACK for %s dropped: it matches no dialog this proxy Record-Routed"),
  N_("%s carries our own Via: a loop (RFC 3261 §16.3 step 4)"),
  N_("the dialog table is full (%u dialogs): this INVITE is not Record-Routed, so its ACK and "
     "BYE go straight between the phones"),
  N_("the dialog table is full (%u dialogs): in-dialog requests of %s reach only registered "
     "Contacts"),

  /* What a capture of a real network shows (sim-observe.c: `view`, `watch`, live mode). */
  N_("copy %u, %s after the last: over %s the transaction layer never retransmits (RFC 3261 "
     "§17.1.1.2, §17.1.2.2: Timers A, E and G run on unreliable transports only), so the "
     "sender repeated it itself"),
  N_("copy %u, %s after the last: an ACK has no timer of its own; it is sent again for every "
     "copy of the final response (RFC 3261 §17.1.1.3, §13.2.2.4)"),
  N_("copy %u, %s after the last: a server transaction sends its last response again only when "
     "the request comes again (RFC 3261 §17.2.1, §17.2.2), not on a timer"),
  N_("copy %u, %s after the last: not the schedule of %s, which gives %s here; the sender "
     "repeated it on its own clock"),
  N_("copy %u, %s after the last: %s, which gives %s here"),
  N_("Timer A (RFC 3261 §17.1.1.2: T1 = 500ms, doubling)"),
  N_("Timer E (RFC 3261 §17.1.2.2: T1 = 500ms, doubling up to T2 = 4s)"),
  N_("the 2xx retransmission timer of the UAS core (RFC 3261 §13.3.1.4: T1 = 500ms, doubling "
     "up to T2 = 4s, until the ACK comes)"),
  N_("Timer G (RFC 3261 §17.2.1: T1 = 500ms, doubling up to T2 = 4s, until the ACK)"),
  N_("a fresh nonce with stale=true: the last answer had the right digest for a nonce the "
     "server no longer takes (RFC 7616 §3.3)"),
  N_("a nonce in a 407 challenge: the proxy asks the caller to prove who it is (RFC 3261 "
     "§22.3)"),
  N_("a nonce in a 401 challenge (RFC 3261 §22.1)"),
  N_("stale: the digest was right, but the server answered stale=true: it no longer takes that "
     "nonce (RFC 7616 §3.3)"),
  N_("wrong password: the response is not the %s digest of %s's password in the users file "
     "(RFC 3261 §22.4, RFC 7616 §3.4.1)"),
  N_("replayed nonce: this nonce with nonce-count %s was already answered in this capture; a "
     "server must refuse it (RFC 7616 §3.4, §5.11)"),
  N_("undecidable: the algorithm %s is not one SIP Lab computes"),
  N_("undecidable: no users file to recompute the digest with (--users)"),
  N_("undecidable: %s is not in the users file"),
  N_("stale: the digest is right but the nonce was issued %s ago, longer than its lifetime "
     "(RFC 7616 §3.3: answer stale=true)"),
  N_("correct: the %s digest of %s's password matches; the nonce was issued before the capture "
     "began (RFC 3261 §22.4, RFC 7616 §3.4.1)"),
  N_("correct: the %s digest of %s's password matches (RFC 3261 §22.4, RFC 7616 §3.4.1)"),
  N_("undecidable: the credentials cannot be read: %s"),
  N_("the location table of %s is full (%u bindings): the bindings of %s are not shown"),
  N_("the registrar's 200 OK lists the AOR's current Contacts with their expires (RFC 3261 "
     "§10.3 step 8)"),

  /* The sniffer's offline attack (sim-sniffer.c). */
  N_("nothing to try for %s: no challenge and answer were captured in clear%s"),
  N_("nothing to try: no challenge and answer were captured in clear%s"),
  N_(" (on a TLS link the sniffer sees only the size of each record)"),
  N_("password of %s found offline: \"%s\" after %llu tries of %s, %f s at %f million tries/s "
     "(RFC 7616 §5.7)"),
  N_("password of %s not found: %llu tries of %s (%f s at %f million tries/s), none in the word "
     "list"),
  NULL
};

const char * const *
sim_i18n_reason_formats (void)
{
  return (const char * const *) reason_formats;
}

/* At most this many values in one format; a format with more is never matched. */
#define REASON_MAX_VALUES 8
/*
 * The text matched comes from strangers too (view and watch say the reasons of a capture,
 * whose values are a peer's header fields), and a format with several "%s" is matched by
 * backtracking: a text that repeats a format's literals without ever completing it took time
 * growing with its length to the power of the number of "%s" (68 kB of such text was still
 * being matched after a minute).  So one sim_i18n_reason() call, its nested reasons included,
 * takes at most REASON_MATCH_STEPS steps of the matcher (about two per character of the text
 * for each format that starts with "%s": a sentence of 500 characters needs under 150,000);
 * past them the remaining formats are not tried and the text is said as it is.  A reason
 * inside a reason is translated REASON_MAX_DEPTH levels deep at most (each level recurses).
 */
#define REASON_MATCH_STEPS 1000000
#define REASON_MAX_DEPTH 4

typedef struct {
  const char *start;
  gsize len;
  gboolean text;          /* a "%s" (translated in turn), not a number */
} Value;

/*
 * Skips the conversion at @fmt (just after its '%'): flags, an "N$" position, width,
 * precision (also '*'), length modifiers.  Returns its letter and sets *@end after it.
 */
static char
conversion (const char  *fmt,
            const char **end,
            guint       *position)
{
  const char *p = fmt;

  *position = 0;
  if (g_ascii_isdigit (*p))
    {
      const char *q = p;
      guint n = 0;

      while (g_ascii_isdigit (*q))
        n = n * 10 + (*q++ - '0');
      if (*q == '$')
        {
          *position = n;
          p = q + 1;
        }
    }
  p += strspn (p, "-+ #0");
  p += strspn (p, "0123456789*");
  if (*p == '.')
    {
      p++;
      p += strspn (p, "0123456789*");
    }
  p += strspn (p, "hlLqjzt");
  *end = *p != '\0' ? p + 1 : p;
  return *p;
}

/* The length of the number at @text for conversion @c (0 if there is none). */
static gsize
number_length (const char *text,
               char        c)
{
  const char *p = text;

  if (*p == '-')
    p++;
  if (!g_ascii_isdigit (*p))
    return 0;
  while (g_ascii_isdigit (*p))
    p++;
  if ((c == 'f' || c == 'g' || c == 'e') && *p == '.' && g_ascii_isdigit (p[1]))
    for (p++; g_ascii_isdigit (*p); p++)
      ;
  return p - text;
}

/*
 * Whether @text matches @fmt from here to the end, filling @values from @n on.  Each step
 * (a character compared, a length tried for a "%s") takes one of *@steps; none left: FALSE.
 */
static gboolean
match (const char *fmt,
       const char *text,
       Value      *values,
       guint       n,
       guint      *steps)
{
  for (;;)
    {
      const char *after;
      guint position;
      char c;

      if (*steps == 0)
        return FALSE;
      (*steps)--;
      if (*fmt == '\0')
        return *text == '\0';
      if (*fmt != '%' || fmt[1] == '%')
        {
          if (*text != *fmt)
            return FALSE;
          fmt += *fmt == '%' ? 2 : 1;
          text++;
          continue;
        }
      if (n == REASON_MAX_VALUES)
        return FALSE;
      c = conversion (fmt + 1, &after, &position);
      if (c == 's')
        {
          /* Shortest first: the literal after it decides where it ends. */
          for (gsize len = 0;; len++)
            {
              values[n] = (Value) { text, len, TRUE };
              if (match (after, text + len, values, n + 1, steps))
                return TRUE;
              if (text[len] == '\0' || *steps == 0)
                return FALSE;
            }
        }
      values[n] = (Value) { text, number_length (text, c), FALSE };
      if (values[n].len == 0)
        return FALSE;
      text += values[n].len;
      fmt = after;
      n++;
    }
}

/* The number of conversions in @fmt. */
static guint
count_values (const char *fmt)
{
  guint n = 0;

  for (const char *p = fmt; (p = strchr (p, '%')) != NULL;)
    {
      guint position;

      if (p[1] == '%')
        {
          p += 2;
          continue;
        }
      conversion (p + 1, &p, &position);
      n++;
    }
  return n;
}

static char *reason_said (const char *text,
                          guint       depth,
                          guint      *steps);

/*
 * @format (a catalogue's translation) said with @values; positions ("%2$s") are honoured.
 * Its "%s" values are reasons at @depth + 1, taking their steps from *@steps.
 */
static char *
say (const char  *format,
     const Value *values,
     guint        n_values,
     guint        depth,
     guint       *steps)
{
  GString *out = g_string_new (NULL);
  guint next = 0;

  for (const char *p = format; *p != '\0';)
    {
      const char *after;
      guint position, i;

      if (*p != '%')
        {
          g_string_append_c (out, *p++);
          continue;
        }
      if (p[1] == '%')
        {
          g_string_append_c (out, '%');
          p += 2;
          continue;
        }
      conversion (p + 1, &after, &position);
      i = position > 0 ? position - 1 : next++;
      if (i < n_values)
        {
          g_autofree char *value = g_strndup (values[i].start, values[i].len);

          if (values[i].text && depth + 1 < REASON_MAX_DEPTH)
            {
              g_autofree char *said = reason_said (value, depth + 1, steps);

              g_string_append (out, said);
            }
          else
            g_string_append (out, value);
        }
      p = after;
    }
  return g_string_free (out, FALSE);
}

/* sim_i18n_reason() of @text at @depth (0: the text itself), within *@steps. */
static char *
reason_said (const char *text,
             guint       depth,
             guint      *steps)
{
  Value values[REASON_MAX_VALUES];

  for (guint i = 0; reason_formats[i] != NULL && *steps > 0; i++)
    {
      const char *fmt = reason_formats[i];
      const char *translated;

      /* Most formats fail at their first letter: no call at all for those. */
      if (*fmt != '%' && *fmt != *text)
        continue;
      if (!match (fmt, text, values, 0, steps))
        continue;
      translated = g_dgettext (GETTEXT_PACKAGE, fmt);
      if (translated == fmt)
        return g_strdup (text);
      return say (translated, values, count_values (fmt), depth, steps);
    }
  return g_strdup (text);
}

char *
sim_i18n_reason (const char *text)
{
  guint steps = REASON_MATCH_STEPS;

  if (text == NULL)
    return NULL;
  if (*text == '\0' || !messages_translated ())
    return g_strdup (text);
  return reason_said (text, 0, &steps);
}
