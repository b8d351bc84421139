/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sim-auth.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/*
 * The registrar's half of digest authentication.
 *
 * A nonce is 32 bytes, sent as 43 characters of unpadded base64url (RFC 4648 §5):
 *
 *   time (8 bytes, µs, big-endian) ‖ counter (8 bytes) ‖ tag = AES-128(K1, time ‖ counter)
 *
 * K1 and K2 (below) are two 128-bit keys drawn from the secret once, at start, by
 * HMAC-SHA256(secret, "siplab nonce keys"); the secret itself is not kept.  AES is a
 * pseudorandom permutation, and time ‖ counter never repeats (the counter only grows), so
 * every tag is a fresh pseudorandom value: a nonce cannot be predicted, nor made up or altered,
 * without K1, and two nonces never repeat.  With the one AES block, issuing a nonce costs about
 * 700 instructions in all; HMAC-SHA256 (two SHA-256 compressions) alone cost 5,700.  The tag need
 * not be a MAC that can be checked without the table, since every nonce we accept has an entry
 * anyway (below): a nonce is ours when its time and tag are the ones its entry kept.
 *
 * A nonce is bound to the client IP address it was issued to: answered from anywhere else it is
 * "unknown", so a nonce sniffed on the LAN is worth nothing to a host with another address, and
 * a stranger cannot use up (burn) a phone's nonce with a wrong answer.  The binding lives in the
 * entry, not in the tag: the entry keeps the address text when it is short
 * (NONCE_CLIENT_TEXT_LEN: every IPv4 address), and for a longer text (IPv6) a keyed digest of
 * it, CBC-MAC(K2, length ‖ text) over at most SIM_AUTH_MAX_CLIENT_LEN bytes (at most five AES
 * blocks, three for a usual IPv6 address, made once at issue and once at verification).
 * The length byte first makes the messages prefix-free, for which CBC-MAC is a pseudorandom
 * function (Bellare, Kilian, Rogaway): an attacker who answers from an address of his choice
 * would need its digest to equal the victim's, a 128-bit value he never sees (it stays in the
 * entry, and is compared in constant time), so his chance is about 2^-128 per try.  Keeping the
 * binding in the entry costs IPv4 nothing but a comparison at both ends; putting the address in
 * the tag instead would cost every issue a second AES block or more, and the entry would still
 * have to be found.  The port is left out on purpose: a phone behind NAT may answer its
 * challenge from another source port (a new TCP connection, a NAT binding that timed out, a
 * phone that sends from a second socket), while its public address stays; the port would add
 * nothing against an attacker who shares the address, who can ask for nonces of his own anyway.
 *
 * Every live nonce has an entry in a FIFO ring, in issue order, that remembers whether it was
 * used (one-time mode) or the highest nonce-count seen.  Counters are consecutive, so the ring
 * holds a contiguous run of them and a nonce's entry is found from its counter by arithmetic,
 * without a hash table.  The entry keeps the nonce's time and tag as issued (its place in the
 * ring is its counter), compared in constant time, since the tag is derived from a secret.
 * Issue times only grow, so pruning pops the ring's head: every nonce is pruned once, at a
 * cost of O(1), without ever scanning the ring.
 */

#define NONCE_ID_LEN   16                         /* time ‖ counter */
#define NONCE_TAG_LEN  16                         /* one AES block */
#define NONCE_RAW_LEN  (NONCE_ID_LEN + NONCE_TAG_LEN)
#define NONCE_TEXT_LEN 43                         /* ceil (32 * 8 / 6) */

#define DEFAULT_LIFETIME SIM_SEC (300)

/* The longest client address text an entry keeps (an IPv4 address is at most 15). */
#define NONCE_CLIENT_TEXT_LEN 16
/* client_len of an entry whose client text was longer: client holds its keyed digest. */
#define NONCE_CLIENT_DIGEST 0xff
/* The CBC-MAC of a long client text: a length byte and at most SIM_AUTH_MAX_CLIENT_LEN bytes. */
#define NONCE_ADDRESS_BLOCKS ((1 + SIM_AUTH_MAX_CLIENT_LEN + 15) / 16)

/*
 * Kept small on purpose: every registration leaves one behind for twice the nonce lifetime (a
 * server registering a thousand phones a second holds 600,000).  The counter is not kept: an
 * entry's place in the ring says it.
 */
typedef struct {
  guint8 time_tag[8 + NONCE_TAG_LEN]; /* the nonce's time and tag, as issued */
  /* The address text it was issued to (client_len bytes), or the keyed digest of a longer one
   * (NONCE_CLIENT_DIGEST). */
  guint8 client[NONCE_CLIENT_TEXT_LEN];
  guint32 last_nc;
  guint8 used;                 /* authenticated a request (one-time mode) */
  guint8 burned;               /* a wrong answer used it up: it authenticates nothing more */
  guint8 client_len;           /* or NONCE_CLIENT_DIGEST */
} NonceEntry;

G_STATIC_ASSERT (sizeof (NonceEntry) == 48);

struct _SimAuth {
  GObject parent_instance;

  SimClock *clock;
  SimTrace *trace;
  char *node_name;
  char *realm;

  /* HMAC-SHA256 keyed with the secret (RFC 2104): SHA-256 after the key ⊕ ipad block and
   * after the key ⊕ opad block, copied into mac_work for each MAC.  The secret itself is not
   * kept. */
  EVP_MD_CTX *mac_inner;
  EVP_MD_CTX *mac_outer;
  EVP_MD_CTX *mac_work;
  /* AES-128 in ECB mode without padding, keyed once with K1 (nonce_tag) and K2
   * (address_digest): one block in, one block out, no state kept between blocks. */
  EVP_CIPHER_CTX *nonce_aes;
  EVP_CIPHER_CTX *address_aes;
  char opaque[2 * 16 + 1];
  char dummy_password[2 * 16 + 1];
  /* The challenge header without its nonce, per algorithm and stale flag, made on first use
   * (see sim_digest_challenge_format_split()): only the nonce changes from one to the next. */
  char *challenge_before[SIM_DIGEST_N_ALGORITHMS][2];
  char *challenge_after[SIM_DIGEST_N_ALGORITHMS][2];

  SimDigestAlgorithm algorithms[SIM_DIGEST_N_ALGORITHMS];
  guint n_algorithms;
  SimTime lifetime;
  gboolean one_time;
  gboolean ignore_nc;          /* one-time off and no nonce-count check: replays pass */

  guint64 counter;          /* of the next nonce */
  NonceEntry *ring;         /* the live nonces in issue order: counters counter - ring_len.. */
  guint ring_size;          /* capacity, a power of two */
  guint ring_head;
  guint ring_len;
  guint max_live;           /* a power of two: beyond it the oldest nonce is forgotten */

  SimAuthVerdictFunc verdict_func;
  gpointer verdict_data;

  /* HA2 = H(method:uri) as last computed, per algorithm: every REGISTER to a registrar names
   * the same URI, so one entry serves nearly all (see ha2_lookup()).  Not secret. */
  char *ha2_method;
  char *ha2_uri;
  guint8 ha2_have;             /* bit per algorithm: ha2[algorithm] is made */
  char ha2[SIM_DIGEST_N_ALGORITHMS][SIM_DIGEST_MAX_HEX_LEN + 1];

  /* username -> Ha1Entry: HA1 as last computed for each user (see ha1_lookup()). */
  GHashTable *ha1_cache;
  guint max_ha1_cache;
};

/*
 * HA1 = H(username:realm:password) is the same for every request of a user, so it is kept
 * rather than hashed again on each REGISTER (one MD5 or SHA-256 of the three).  An entry keeps
 * the password it was made from and is made again when the lookup returns another password;
 * the realm is fixed for the life of a SimAuth.  Users the lookup does not know get an entry
 * too, made with the dummy password (@password NULL), so a known and an unknown user cost the
 * same work, first request and later ones alike (RFC 7616 §5.1).  The "-sess" variants would
 * hash HA1 again with the nonces; they are refused before any hashing (ALGORITHM_NOT_OFFERED).
 */
typedef struct {
  char *password;              /* as the lookup returned it, NULL for an unknown user */
  guint8 have;                 /* bit per algorithm: ha1[algorithm] is made */
  char ha1[SIM_DIGEST_N_ALGORITHMS][SIM_DIGEST_MAX_HEX_LEN + 1];
} Ha1Entry;

static void
ha1_entry_free (gpointer data)
{
  Ha1Entry *entry = data;

  if (entry->password != NULL)
    OPENSSL_cleanse (entry->password, strlen (entry->password));
  g_free (entry->password);
  OPENSSL_cleanse (entry, sizeof *entry);
  g_free (entry);
}

enum {
  PROP_0,
  PROP_REALM,
  PROP_NONCE_LIFETIME,
  PROP_ONE_TIME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SimAuth, sim_auth, G_TYPE_OBJECT)

/* One table for every outcome: its name in traces and exports, and what it tells a student. */
static const struct {
  const char *name;
  const char *reason;
} results[] = {
  [SIM_AUTH_OK] = {
    "ok",
    "the digest matches the password on file and the nonce is fresh and unused: the request is "
    "authenticated (RFC 3261 §22.4, RFC 7616 §3.4)" },
  [SIM_AUTH_NO_CREDENTIALS] = {
    "no-credentials",
    "the request carries no Digest credentials for this realm, so it is challenged with a "
    "fresh nonce: 401 and WWW-Authenticate from the registrar (RFC 3261 §22.1), 407 and "
    "Proxy-Authenticate from the proxy (§22.3)" },
  [SIM_AUTH_MALFORMED] = {
    "malformed",
    "the Authorization header cannot be parsed or lacks a required parameter "
    "(username, realm, nonce, uri, response; cnonce and nc with qop): 400 Bad Request "
    "(RFC 7616 §3.4)" },
  [SIM_AUTH_WRONG_REALM] = {
    "wrong-realm",
    "the credentials were computed for another realm, so they say nothing about this one; "
    "the phone is challenged for the right realm (RFC 3261 §22.1)" },
  [SIM_AUTH_UNKNOWN_NONCE] = {
    "unknown-nonce",
    "the nonce was not issued by this registrar to this address, was altered, or is from before "
    "a restart or long expired: its signature or its table entry does not match, so the phone "
    "is challenged again (RFC 7616 §3.3)" },
  [SIM_AUTH_STALE] = {
    "stale",
    "the digest is right but the nonce expired; the phone may retry with the new nonce "
    "without asking for the password (stale=true, RFC 7616 §3.3)" },
  [SIM_AUTH_REPLAYED] = {
    "replayed",
    "this nonce was already used once: a captured Authorization cannot be replayed "
    "(RFC 7616 §3.4, one-time nonces; without them the nonce-count must grow), and a nonce "
    "answered once with a wrong password is used up too" },
  [SIM_AUTH_BAD_RESPONSE] = {
    "bad-response",
    "the response does not match: wrong password or unknown user, and the registrar does not "
    "say which, so an attacker cannot find out who has an account (RFC 7616 §5.1)" },
  [SIM_AUTH_ALGORITHM_NOT_OFFERED] = {
    "algorithm-not-offered",
    "the phone used a hash algorithm this realm did not offer in its challenge, so it is "
    "challenged again with the allowed ones (RFC 7616 §3.7, RFC 8760 §2.4)" },
  [SIM_AUTH_URI_MISMATCH] = {
    "uri-mismatch",
    "the digest-uri differs from the Request-URI, so the digest may belong to another request: "
    "400 Bad Request (RFC 7616 §3.4)" },
  [SIM_AUTH_QOP_MISSING] = {
    "qop-missing",
    "the challenge asked for qop=\"auth\", but the answer has no qop, cnonce and nc: that is "
    "the older, weaker RFC 2069 digest, so the phone is challenged again (RFC 7616 §3.4, "
    "RFC 3261 §22.4)" },
};

const char *
sim_auth_result_name (SimAuthResult result)
{
  if ((guint) result < G_N_ELEMENTS (results))
    return results[result].name;
  return "unknown";
}

const char *
sim_auth_result_reason (SimAuthResult result)
{
  if ((guint) result < G_N_ELEMENTS (results))
    return results[result].reason;
  return "unknown result";
}

/* Nonce table */

static SimTime
nonce_entry_issued_at (const NonceEntry *entry)
{
  guint64 be;

  memcpy (&be, entry->time_tag, sizeof be);
  return (SimTime) GUINT64_FROM_BE (be);
}

static void
ring_resize (SimAuth *self,
             guint    size)
{
  NonceEntry *ring = g_new (NonceEntry, size);

  g_assert (size >= self->ring_len);
  for (guint i = 0; i < self->ring_len; i++)
    ring[i] = self->ring[(self->ring_head + i) & (self->ring_size - 1)];
  g_free (self->ring);
  self->ring = ring;
  self->ring_size = size;
  self->ring_head = 0;
}

/* Appends an entry for the nonce with counter self->counter and returns it. */
static NonceEntry *
ring_push (SimAuth *self)
{
  NonceEntry *entry;

  /* A flood of REGISTERs without credentials gets a 401 each: without a cap the table would
   * grow with the flood's rate times twice the lifetime.  Forgetting the oldest nonce costs
   * its phone one more challenge ("unknown nonce", RFC 3261 §22.4), nothing else. */
  if (self->ring_len >= self->max_live)
    {
      self->ring_head = (self->ring_head + 1) & (self->ring_size - 1);
      self->ring_len--;
    }
  if (self->ring_len == self->ring_size)
    ring_resize (self, self->ring_size * 2);
  entry = &self->ring[(self->ring_head + self->ring_len) & (self->ring_size - 1)];
  self->ring_len++;
  return entry;
}

/* Forgets the nonces issued more than twice the lifetime ago.  Until then a good digest on an
 * expired nonce is answered "stale" rather than "unknown". */
static void
prune (SimAuth *self)
{
  SimTime now = sim_clock_now (self->clock);

  while (self->ring_len > 0)
    {
      NonceEntry *entry = &self->ring[self->ring_head];

      if (now - nonce_entry_issued_at (entry) <= 2 * self->lifetime)
        break;
      self->ring_head = (self->ring_head + 1) & (self->ring_size - 1);
      self->ring_len--;
    }

  /* Give memory back after a burst, with hysteresis so a steady load never resizes. */
  if (self->ring_size > 64 && self->ring_len < self->ring_size / 4)
    ring_resize (self, self->ring_size / 2);
}

/*
 * Nonce encoding: base64url without padding (RFC 4648 §5).  On the wire the tag comes first, so
 * a nonce looks as arbitrary as it is instead of opening with the clock's leading zeros.
 */

static const char base64url[64] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Each base64url character's 6-bit value plus one: 0 marks a character outside the alphabet. */
static const guint8 base64url_values[256] = {
  ['A'] = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
  25, 26,
  ['a'] = 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
  49, 50, 51, 52,
  ['0'] = 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
  ['-'] = 63,
  ['_'] = 64,
};

/* 32 bytes are ten groups of three, four characters each, and two bytes left over that make
 * three characters, the last with two spare bits. */
G_STATIC_ASSERT (NONCE_RAW_LEN == 3 * 10 + 2 && NONCE_TEXT_LEN == 4 * 10 + 3);

/* Writes the NUL-terminated text of @raw into @text. */
static void
nonce_encode (const guint8 raw[NONCE_RAW_LEN],
              char         text[NONCE_TEXT_LEN + 1])
{
  guint8 wire[NONCE_RAW_LEN];
  const guint8 *in = wire;
  char *out = text;
  guint32 group;

  memcpy (wire, raw + NONCE_ID_LEN, NONCE_TAG_LEN);
  memcpy (wire + NONCE_TAG_LEN, raw, NONCE_ID_LEN);

  for (guint i = 0; i < 10; i++, in += 3)
    {
      group = (in[0] << 16) | (in[1] << 8) | in[2];
      *out++ = base64url[group >> 18];
      *out++ = base64url[(group >> 12) & 0x3f];
      *out++ = base64url[(group >> 6) & 0x3f];
      *out++ = base64url[group & 0x3f];
    }
  group = (in[0] << 16) | (in[1] << 8);
  *out++ = base64url[group >> 18];
  *out++ = base64url[(group >> 12) & 0x3f];
  *out++ = base64url[(group >> 6) & 0x3f];
  *out = '\0';
}

static gboolean
nonce_decode (const char *text,
              guint8      raw[NONCE_RAW_LEN])
{
  guint8 values[NONCE_TEXT_LEN];
  guint8 wire[NONCE_RAW_LEN];
  const guint8 *in = values;
  guint8 *out = wire;
  guint32 group;

  if (text == NULL || strnlen (text, NONCE_TEXT_LEN + 1) != NONCE_TEXT_LEN)
    return FALSE;

  for (guint i = 0; i < NONCE_TEXT_LEN; i++)
    {
      values[i] = base64url_values[(guchar) text[i]];
      if (values[i] == 0)
        return FALSE;
      values[i]--;
    }
  /* The spare bits must be zero, as an encoder writes them, or one nonce would have four
   * names. */
  if (values[NONCE_TEXT_LEN - 1] & 0x3)
    return FALSE;

  for (guint i = 0; i < 10; i++, in += 4)
    {
      group = (in[0] << 18) | (in[1] << 12) | (in[2] << 6) | in[3];
      *out++ = group >> 16;
      *out++ = group >> 8;
      *out++ = group;
    }
  group = (in[0] << 18) | (in[1] << 12) | (in[2] << 6);
  *out++ = group >> 16;
  *out++ = group >> 8;

  memcpy (raw + NONCE_ID_LEN, wire, NONCE_TAG_LEN);
  memcpy (raw, wire + NONCE_TAG_LEN, NONCE_ID_LEN);
  return TRUE;
}

/*
 * HMAC-SHA256 (RFC 2104) of @data into @mac.  OpenSSL's EVP_MAC costs more than twice the two
 * SHA-256 blocks an HMAC of a short message needs (a context dup, the MAC layer, a free), so
 * the keyed inner and outer states are set up once and copied: what remains is the hashing.
 */
static void
hmac_sha256 (SimAuth      *self,
             const guint8 *data,
             gsize         len,
             guint8        mac[32])
{
  unsigned int n = 0;

  if (!EVP_MD_CTX_copy_ex (self->mac_work, self->mac_inner) ||
      !EVP_DigestUpdate (self->mac_work, data, len) ||
      !EVP_DigestFinal_ex (self->mac_work, mac, &n) ||
      !EVP_MD_CTX_copy_ex (self->mac_work, self->mac_outer) ||
      !EVP_DigestUpdate (self->mac_work, mac, n) ||
      !EVP_DigestFinal_ex (self->mac_work, mac, &n))
    g_error ("OpenSSL cannot compute HMAC-SHA256");
  g_assert (n == 32);
}

/* RFC 2104 §2: the key, hashed first if longer than a block, is padded with zeros to one
 * block; the inner hash starts with key ⊕ 0x36..., the outer one with key ⊕ 0x5c... */
static void
hmac_sha256_init (SimAuth      *self,
                  const guint8 *key,
                  gsize         key_len)
{
  EVP_MD *sha256 = EVP_MD_fetch (NULL, "SHA2-256", NULL);
  guint8 block[64] = { 0, };
  guint8 pad[64];
  unsigned int n = 0;

  self->mac_inner = EVP_MD_CTX_new ();
  self->mac_outer = EVP_MD_CTX_new ();
  self->mac_work = EVP_MD_CTX_new ();
  if (sha256 == NULL || self->mac_inner == NULL || self->mac_outer == NULL ||
      self->mac_work == NULL)
    g_error ("OpenSSL cannot set up HMAC-SHA256");

  if (key_len > sizeof block)
    {
      if (!EVP_Digest (key, key_len, block, &n, sha256, NULL))
        g_error ("OpenSSL cannot set up HMAC-SHA256");
    }
  else
    memcpy (block, key, key_len);

  for (guint i = 0; i < sizeof pad; i++)
    pad[i] = block[i] ^ 0x36;
  if (!EVP_DigestInit_ex2 (self->mac_inner, sha256, NULL) ||
      !EVP_DigestUpdate (self->mac_inner, pad, sizeof pad))
    g_error ("OpenSSL cannot set up HMAC-SHA256");
  for (guint i = 0; i < sizeof pad; i++)
    pad[i] = block[i] ^ 0x5c;
  if (!EVP_DigestInit_ex2 (self->mac_outer, sha256, NULL) ||
      !EVP_DigestUpdate (self->mac_outer, pad, sizeof pad))
    g_error ("OpenSSL cannot set up HMAC-SHA256");

  OPENSSL_cleanse (block, sizeof block);
  OPENSSL_cleanse (pad, sizeof pad);
  EVP_MD_free (sha256);
}

/* One AES-128 block of @in into @out with @ctx (ECB, no padding). */
static void
aes_block (EVP_CIPHER_CTX *ctx,
           const guint8    in[16],
           guint8          out[16])
{
  int n = 0;

  if (!EVP_EncryptUpdate (ctx, out, &n, in, 16) || n != 16)
    g_error ("OpenSSL cannot encrypt with AES-128");
}

static EVP_CIPHER_CTX *
aes_new (const EVP_CIPHER *aes,
         const guint8      key[16])
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();

  if (ctx == NULL || !EVP_EncryptInit_ex2 (ctx, aes, key, NULL, NULL) ||
      !EVP_CIPHER_CTX_set_padding (ctx, 0))
    g_error ("OpenSSL cannot set up AES-128");
  return ctx;
}

/* Draws K1 and K2 from the secret (see the top); hmac_sha256_init() came first. */
static void
nonce_keys_init (SimAuth *self)
{
  static const char label[] = "siplab nonce keys";
  EVP_CIPHER *aes = EVP_CIPHER_fetch (NULL, "AES-128-ECB", NULL);
  guint8 keys[32];

  if (aes == NULL)
    g_error ("OpenSSL cannot set up AES-128");
  hmac_sha256 (self, (const guint8 *) label, strlen (label), keys);
  self->nonce_aes = aes_new (aes, keys);
  self->address_aes = aes_new (aes, keys + 16);
  OPENSSL_cleanse (keys, sizeof keys);
  EVP_CIPHER_free (aes);
}

/* CBC-MAC(K2, length ‖ @client) of an address text longer than an entry keeps (see the top),
 * cut at SIM_AUTH_MAX_CLIENT_LEN bytes like every client text. */
static void
address_digest (SimAuth    *self,
                const char *client,
                guint8      digest[NONCE_CLIENT_TEXT_LEN])
{
  guint8 message[NONCE_ADDRESS_BLOCKS * 16] = { 0, };
  gsize client_len = strnlen (client, SIM_AUTH_MAX_CLIENT_LEN);
  guint n_blocks = (1 + client_len + 15) / 16;
  guint8 block[16];

  G_STATIC_ASSERT (NONCE_CLIENT_TEXT_LEN == 16 && SIM_AUTH_MAX_CLIENT_LEN < 256);
  message[0] = client_len;
  memcpy (message + 1, client, client_len);
  memset (digest, 0, 16);
  for (guint i = 0; i < n_blocks; i++)
    {
      for (guint j = 0; j < 16; j++)
        block[j] = digest[j] ^ message[16 * i + j];
      aes_block (self->address_aes, block, digest);
    }
  OPENSSL_cleanse (block, sizeof block);
}

/* A value derived from the secret for @label, as 32 hex digits. */
static void
derive_hex (SimAuth    *self,
            const char *label,
            char        out[2 * 16 + 1])
{
  static const char digits[] = "0123456789abcdef";
  guint8 full[32];

  hmac_sha256 (self, (const guint8 *) label, strlen (label), full);
  for (guint i = 0; i < 16; i++)
    {
      out[2 * i] = digits[full[i] >> 4];
      out[2 * i + 1] = digits[full[i] & 0xf];
    }
  out[2 * 16] = '\0';
  OPENSSL_cleanse (full, sizeof full);
}

/* Returns the live entry for @text, or NULL when it is forged, altered or forgotten; @raw gets
 * the nonce's bytes. */
static NonceEntry *
nonce_lookup (SimAuth    *self,
              const char *text,
              guint8      raw[NONCE_RAW_LEN])
{
  guint8 time_tag[8 + NONCE_TAG_LEN];
  NonceEntry *entry;
  guint64 be;
  guint64 offset;

  if (!nonce_decode (text, raw))
    return NULL;

  /* The ring holds counters self->counter - ring_len up to self->counter - 1, oldest first;
   * anything outside wraps around to a large offset. */
  memcpy (&be, raw + 8, sizeof be);
  offset = GUINT64_FROM_BE (be) - (self->counter - self->ring_len);
  if (offset >= self->ring_len)
    return NULL;
  entry = &self->ring[(self->ring_head + offset) & (self->ring_size - 1)];

  /* Same counter (the entry's place), same time and the tag we issued: exactly the nonce we
   * sent.  The tag is AES(K1, id), secret-derived, so it compares in constant time. */
  memcpy (time_tag, raw, 8);
  memcpy (time_tag + 8, raw + NONCE_ID_LEN, NONCE_TAG_LEN);
  if (CRYPTO_memcmp (entry->time_tag, time_tag, sizeof time_tag) != 0)
    return NULL;
  return entry;
}

/* Was @entry issued to @client?  Its entry keeps the address, or a keyed digest of it. */
static gboolean
nonce_issued_to (SimAuth          *self,
                 const NonceEntry *entry,
                 const char       *client)
{
  gsize client_len = client != NULL ? strnlen (client, NONCE_CLIENT_TEXT_LEN + 1) : 0;
  guint8 digest[NONCE_CLIENT_TEXT_LEN];
  gboolean same;

  /* An address is not secret: its text compares with memcmp.  A digest is derived from K2, so
   * it compares in constant time, and the digest of a short text is never made: a short text
   * never matches a digest entry, nor a long one a text entry. */
  if (entry->client_len != NONCE_CLIENT_DIGEST)
    return client_len == entry->client_len &&
           (client_len == 0 || memcmp (client, entry->client, client_len) == 0);
  if (client_len <= NONCE_CLIENT_TEXT_LEN)
    return FALSE;
  address_digest (self, client, digest);
  same = CRYPTO_memcmp (digest, entry->client, sizeof digest) == 0;
  OPENSSL_cleanse (digest, sizeof digest);
  return same;
}

/* Issues a fresh nonce for @client and writes its text into @text. */
static void
nonce_issue (SimAuth    *self,
             const char *client,
             char        text[NONCE_TEXT_LEN + 1])
{
  guint8 raw[NONCE_RAW_LEN];
  NonceEntry *entry;
  gsize client_len;
  guint64 be;

  be = GUINT64_TO_BE ((guint64) sim_clock_now (self->clock));
  memcpy (raw, &be, 8);
  be = GUINT64_TO_BE (self->counter);
  memcpy (raw + 8, &be, 8);
  aes_block (self->nonce_aes, raw, raw + NONCE_ID_LEN);

  entry = ring_push (self);
  self->counter++;
  memcpy (entry->time_tag, raw, 8);
  memcpy (entry->time_tag + 8, raw + NONCE_ID_LEN, NONCE_TAG_LEN);
  client_len = client != NULL ? strnlen (client, NONCE_CLIENT_TEXT_LEN + 1) : 0;
  if (client_len <= NONCE_CLIENT_TEXT_LEN)
    {
      if (client_len > 0)
        memcpy (entry->client, client, client_len);
      entry->client_len = client_len;
    }
  else
    {
      address_digest (self, client, entry->client);
      entry->client_len = NONCE_CLIENT_DIGEST;
    }
  entry->last_nc = 0;
  entry->used = FALSE;
  entry->burned = FALSE;

  nonce_encode (raw, text);
}

/* Tracing */

static void
trace_nonce (SimAuth    *self,
             const char *action,
             const char *nonce,
             const char *user,
             const char *algorithm,
             const char *reason)
{
  SimEvent *event;

  if (self->trace == NULL || !sim_trace_is_enabled (self->trace))
    return;

  event = sim_event_new (SIM_EVENT_NONCE, action);
  event->t = sim_clock_now (self->clock);
  event->node = g_strdup (self->node_name);
  event->nonce = g_strdup (nonce);
  event->user = g_strdup (user);
  event->algorithm = g_strdup (algorithm);
  event->reason = g_strdup (reason);
  sim_trace_emit (self->trace, event);
}

/* GObject */

static void
sim_auth_finalize (GObject *object)
{
  SimAuth *self = SIM_AUTH (object);

  g_clear_pointer (&self->ring, g_free);
  g_clear_pointer (&self->ha1_cache, g_hash_table_unref);
  g_clear_pointer (&self->ha2_method, g_free);
  g_clear_pointer (&self->ha2_uri, g_free);
  /* Freeing a digest context cleanses it. */
  g_clear_pointer (&self->mac_inner, EVP_MD_CTX_free);
  g_clear_pointer (&self->mac_outer, EVP_MD_CTX_free);
  g_clear_pointer (&self->mac_work, EVP_MD_CTX_free);
  g_clear_pointer (&self->nonce_aes, EVP_CIPHER_CTX_free);
  g_clear_pointer (&self->address_aes, EVP_CIPHER_CTX_free);
  OPENSSL_cleanse (self->dummy_password, sizeof self->dummy_password);
  for (guint i = 0; i < SIM_DIGEST_N_ALGORITHMS; i++)
    for (guint stale = 0; stale < 2; stale++)
      {
        g_clear_pointer (&self->challenge_before[i][stale], g_free);
        g_clear_pointer (&self->challenge_after[i][stale], g_free);
      }
  g_clear_pointer (&self->node_name, g_free);
  g_clear_pointer (&self->realm, g_free);
  g_clear_object (&self->clock);
  g_clear_object (&self->trace);

  G_OBJECT_CLASS (sim_auth_parent_class)->finalize (object);
}

static void
sim_auth_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  SimAuth *self = SIM_AUTH (object);

  switch (prop_id)
    {
    case PROP_REALM:
      g_value_set_string (value, self->realm);
      break;

    case PROP_NONCE_LIFETIME:
      g_value_set_int64 (value, self->lifetime);
      break;

    case PROP_ONE_TIME:
      g_value_set_boolean (value, self->one_time);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sim_auth_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  SimAuth *self = SIM_AUTH (object);

  switch (prop_id)
    {
    case PROP_REALM:
      g_free (self->realm);
      self->realm = g_value_dup_string (value);
      break;

    case PROP_NONCE_LIFETIME:
      sim_auth_set_nonce_lifetime (self, g_value_get_int64 (value));
      break;

    case PROP_ONE_TIME:
      sim_auth_set_one_time (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sim_auth_class_init (SimAuthClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sim_auth_finalize;
  object_class->get_property = sim_auth_get_property;
  object_class->set_property = sim_auth_set_property;

  properties[PROP_REALM] =
    g_param_spec_string ("realm", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_NONCE_LIFETIME] =
    g_param_spec_int64 ("nonce-lifetime", NULL, NULL,
                        1, G_MAXINT64 / 4, DEFAULT_LIFETIME,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_ONE_TIME] =
    g_param_spec_boolean ("one-time", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sim_auth_init (SimAuth *self)
{
  self->algorithms[0] = SIM_DIGEST_MD5;
  self->n_algorithms = 1;
  self->lifetime = DEFAULT_LIFETIME;
  self->one_time = TRUE;
  self->ring_size = 64;
  self->max_live = SIM_AUTH_DEFAULT_MAX_LIVE_NONCES;
  self->ring = g_new (NonceEntry, self->ring_size);
  self->max_ha1_cache = SIM_AUTH_DEFAULT_MAX_HA1_CACHE;
  self->ha1_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, ha1_entry_free);
}

SimAuth *
sim_auth_new (SimClock     *clock,
              SimTrace     *trace,
              const char   *node_name,
              const char   *realm,
              const guint8 *secret,
              gsize         secret_len)
{
  SimAuth *self;

  g_return_val_if_fail (SIM_IS_CLOCK (clock), NULL);
  g_return_val_if_fail (trace == NULL || SIM_IS_TRACE (trace), NULL);
  g_return_val_if_fail (realm != NULL && realm[0] != '\0', NULL);
  g_return_val_if_fail (secret != NULL, NULL);
  g_return_val_if_fail (secret_len > 0 && secret_len <= G_MAXINT, NULL);

  self = g_object_new (SIM_TYPE_AUTH,
                       "realm", realm,
                       NULL);
  self->clock = g_object_ref (clock);
  self->trace = trace != NULL ? g_object_ref (trace) : NULL;
  self->node_name = g_strdup (node_name);
  hmac_sha256_init (self, secret, secret_len);
  nonce_keys_init (self);
  derive_hex (self, "siplab opaque", self->opaque);
  /* Unknown users are checked against this: unguessable, and refused even if it matched. */
  derive_hex (self, "siplab dummy password", self->dummy_password);

  return self;
}

const char *
sim_auth_get_realm (SimAuth *self)
{
  g_return_val_if_fail (SIM_IS_AUTH (self), NULL);

  return self->realm;
}

void
sim_auth_set_algorithms (SimAuth                  *self,
                         const SimDigestAlgorithm *algorithms,
                         guint                     n_algorithms)
{
  guint n = 0;

  g_return_if_fail (SIM_IS_AUTH (self));
  g_return_if_fail (algorithms != NULL);
  g_return_if_fail (n_algorithms > 0);

  for (guint i = 0; i < n_algorithms; i++)
    {
      gboolean seen = FALSE;

      g_return_if_fail ((guint) algorithms[i] < SIM_DIGEST_N_ALGORITHMS);
      for (guint j = 0; j < i; j++)
        seen |= algorithms[j] == algorithms[i];
      if (seen)
        continue;
      g_assert (n < SIM_DIGEST_N_ALGORITHMS);
      self->algorithms[n++] = algorithms[i];
    }
  self->n_algorithms = n;
}

void
sim_auth_set_nonce_lifetime (SimAuth *self,
                             SimTime  lifetime)
{
  g_return_if_fail (SIM_IS_AUTH (self));
  /* The table keeps nonces for twice the lifetime; keep that sum far from overflow. */
  g_return_if_fail (lifetime > 0 && lifetime <= G_MAXINT64 / 4);

  if (self->lifetime == lifetime)
    return;
  self->lifetime = lifetime;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NONCE_LIFETIME]);
}

void
sim_auth_set_one_time (SimAuth  *self,
                       gboolean  one_time)
{
  g_return_if_fail (SIM_IS_AUTH (self));

  one_time = !!one_time;
  if (self->one_time == one_time)
    return;
  self->one_time = one_time;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ONE_TIME]);
}

void
sim_auth_set_nonce_count (SimAuth  *self,
                          gboolean  check)
{
  g_return_if_fail (SIM_IS_AUTH (self));
  self->ignore_nc = !check;
}

gboolean
sim_auth_get_nonce_count (SimAuth *self)
{
  g_return_val_if_fail (SIM_IS_AUTH (self), TRUE);
  return !self->ignore_nc;
}

void
sim_auth_set_max_live_nonces (SimAuth *self,
                              guint    max_live)
{
  g_return_if_fail (SIM_IS_AUTH (self));
  self->max_live = MAX (max_live, 1);
}

/* The WWW-Authenticate value for @algorithm with @nonce. */
static char *
challenge_header (SimAuth            *self,
                  SimDigestAlgorithm  algorithm,
                  gboolean            stale,
                  const char         *nonce)
{
  char **before = &self->challenge_before[algorithm][stale];
  char **after = &self->challenge_after[algorithm][stale];
  gsize before_len, after_len;
  char *header;

  if (*before == NULL)
    {
      SimDigestChallenge challenge = {
        .realm = self->realm,
        .opaque = self->opaque,
        .qop = (char *) "auth",
        .stale = stale,
        .algorithm = algorithm,
      };

      sim_digest_challenge_format_split (&challenge, before, after);
    }

  /* A base64url nonce needs no quoting, so this is what sim_digest_challenge_format() makes. */
  before_len = strlen (*before);
  after_len = strlen (*after);
  header = g_malloc (before_len + NONCE_TEXT_LEN + after_len + 1);
  memcpy (header, *before, before_len);
  memcpy (header + before_len, nonce, NONCE_TEXT_LEN);
  memcpy (header + before_len + NONCE_TEXT_LEN, *after, after_len + 1);
  return header;
}

GPtrArray *
sim_auth_challenge_full (SimAuth    *self,
                         gboolean    stale,
                         const char *client,
                         gboolean    proxy)
{
  GPtrArray *headers;

  g_return_val_if_fail (SIM_IS_AUTH (self), NULL);

  stale = !!stale;
  prune (self);

  headers = g_ptr_array_new_with_free_func (g_free);
  /* RFC 8760 §2.4: one challenge per algorithm, the most preferred first. */
  for (guint i = 0; i < self->n_algorithms; i++)
    {
      char nonce[NONCE_TEXT_LEN + 1];

      nonce_issue (self, client, nonce);
      g_ptr_array_add (headers, challenge_header (self, self->algorithms[i], stale, nonce));
      trace_nonce (self, "issued", nonce, NULL, sim_digest_algorithm_name (self->algorithms[i]),
                   stale ? "a fresh nonce replaces one that expired while the digest was "
                           "still right (stale=true, RFC 7616 §3.3)"
                   : proxy ? "a fresh nonce for a 407 challenge: the proxy asks the caller to "
                             "prove who it is before it routes the request (RFC 3261 §22.3)"
                           : "a fresh nonce for a 401 challenge (RFC 3261 §22.1)");
    }

  return headers;
}

GPtrArray *
sim_auth_challenge (SimAuth  *self,
                    gboolean  stale)
{
  return sim_auth_challenge_full (self, stale, NULL, FALSE);
}

static gboolean
algorithm_offered (SimAuth            *self,
                   SimDigestAlgorithm  algorithm)
{
  for (guint i = 0; i < self->n_algorithms; i++)
    if (self->algorithms[i] == algorithm)
      return TRUE;
  return FALSE;
}

/* Finds the host part of a SIP URI "scheme:[user[:password]@]host[:port][;params][?headers]". */
static void
uri_split (const char  *uri,
           gsize       *scheme_end,
           gsize       *host_start,
           gsize       *host_end)
{
  const char *colon = strchr (uri, ':');
  const char *rest;
  const char *at;
  const char *end;

  if (colon == NULL)
    {
      *scheme_end = *host_start = 0;
      *host_end = 0;
      return;
    }
  *scheme_end = colon - uri;
  rest = colon + 1;
  end = rest + strcspn (rest, ";?");
  at = memchr (rest, '@', end - rest);
  if (at != NULL)
    rest = at + 1;
  *host_start = rest - uri;
  if (*rest == '[')
    *host_end = *host_start + strcspn (rest, "]");   /* IPv6 reference */
  else
    *host_end = *host_start + strcspn (rest, ":;?");
}

/* RFC 3261 §19.1.4: scheme and host compare case-insensitively; everything else we compare
 * byte for byte, which is stricter than the RFC but never accepts a different URI. */
static gboolean
uri_equal (const char *a,
           const char *b)
{
  gsize a_scheme, a_host, a_host_end;
  gsize b_scheme, b_host, b_host_end;

  if (strcmp (a, b) == 0)
    return TRUE;
  if (strlen (a) != strlen (b))
    return FALSE;

  uri_split (a, &a_scheme, &a_host, &a_host_end);
  uri_split (b, &b_scheme, &b_host, &b_host_end);
  if (a_scheme == 0 || a_scheme != b_scheme || a_host != b_host || a_host_end != b_host_end)
    return FALSE;

  return g_ascii_strncasecmp (a, b, a_scheme) == 0 &&
         memcmp (a + a_scheme, b + b_scheme, a_host - a_scheme) == 0 &&
         g_ascii_strncasecmp (a + a_host, b + b_host, a_host_end - a_host) == 0 &&
         strcmp (a + a_host_end, b + b_host_end) == 0;
}

/* Starts with the token "Digest"?  Anything else (Basic, Bearer) is not for us. */
static gboolean
is_digest_scheme (const char *value)
{
  while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
    value++;
  return g_ascii_strncasecmp (value, "Digest", 6) == 0 &&
         (value[6] == '\0' || value[6] == ' ' || value[6] == '\t' ||
          value[6] == '\r' || value[6] == '\n');
}

/* The HA1 of @username with @password (NULL: an unknown user, hashed with the dummy password)
 * for @algorithm, from the cache or made and kept. */
static const char *
ha1_lookup (SimAuth            *self,
            SimDigestAlgorithm  algorithm,
            const char         *username,
            const char         *password)
{
  Ha1Entry *entry = g_hash_table_lookup (self->ha1_cache, username);

  /* A changed password (or a user added or removed) makes the entry new. */
  if (entry != NULL && g_strcmp0 (entry->password, password) != 0)
    {
      g_hash_table_remove (self->ha1_cache, username);
      entry = NULL;
    }
  if (entry == NULL)
    {
      /* Bounded: a stranger can name any number of unknown users.  Starting over costs each
       * user one more hash, nothing else. */
      if (g_hash_table_size (self->ha1_cache) >= self->max_ha1_cache)
        g_hash_table_remove_all (self->ha1_cache);
      entry = g_new0 (Ha1Entry, 1);
      entry->password = g_strdup (password);
      g_hash_table_insert (self->ha1_cache, g_strdup (username), entry);
    }
  if (!(entry->have & (1u << algorithm)))
    {
      sim_digest_ha1_into (algorithm, username, self->realm,
                           password != NULL ? password : self->dummy_password,
                           entry->ha1[algorithm]);
      entry->have |= 1u << algorithm;
    }
  return entry->ha1[algorithm];
}

/* HA2 for @algorithm, @method and @uri, from the last request's or made (and kept instead). */
static const char *
ha2_lookup (SimAuth            *self,
            SimDigestAlgorithm  algorithm,
            const char         *method,
            const char         *uri)
{
  if (g_strcmp0 (self->ha2_method, method) != 0 || g_strcmp0 (self->ha2_uri, uri) != 0)
    {
      g_free (self->ha2_method);
      g_free (self->ha2_uri);
      self->ha2_method = g_strdup (method);
      self->ha2_uri = g_strdup (uri);
      self->ha2_have = 0;
    }
  if (!(self->ha2_have & (1u << algorithm)))
    {
      sim_digest_ha2_into (algorithm, method, uri, self->ha2[algorithm]);
      self->ha2_have |= 1u << algorithm;
    }
  return self->ha2[algorithm];
}

void
sim_auth_set_max_ha1_cache (SimAuth *self,
                            guint    max_users)
{
  g_return_if_fail (SIM_IS_AUTH (self));
  self->max_ha1_cache = MAX (max_users, 1);
  g_hash_table_remove_all (self->ha1_cache);
}

guint
sim_auth_get_n_ha1_cached (SimAuth *self)
{
  g_return_val_if_fail (SIM_IS_AUTH (self), 0);
  return g_hash_table_size (self->ha1_cache);
}

/* The checks on credentials parsed from an Authorization (@algorithm_known as the parser
 * said), in the order RFC 7616 and RFC 3261 make them. */
static SimAuthResult
verify (SimAuth              *self,
        const char           *method,
        const char           *request_uri,
        const char           *client,
        SimAuthLookupFunc     lookup,
        gpointer              lookup_data,
        SimDigestCredentials *creds,
        gboolean              algorithm_known)
{
  const char *password = NULL;
  guint8 raw[NONCE_RAW_LEN];
  gboolean matches;
  NonceEntry *entry;
  guint32 nc = 0;

  /* The parser lets nc through only as 8 hex digits, either case (RFC 7616 §3.4). */
  if (creds->nc != NULL)
    for (guint i = 0; i < 8; i++)
      {
        char c = creds->nc[i];

        nc = (nc << 4) | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      }
  /* RFC 7616 §3.4: nc counts the requests sent with this nonce "including the current
   * request", so it starts at 00000001; zero is no count at all. */
  if (creds->nc != NULL && nc == 0)
    return SIM_AUTH_MALFORMED;

  /* RFC 3261 §22.4: credentials for another realm are not an answer to our challenge. */
  if (strcmp (creds->realm, self->realm) != 0)
    return SIM_AUTH_WRONG_REALM;

  /* RFC 7616 §3.7: only an algorithm we offered; anything else could be a downgrade. */
  if (!algorithm_known || !algorithm_offered (self, creds->algorithm))
    return SIM_AUTH_ALGORITHM_NOT_OFFERED;

  /* A nonce issued to another address is not one we gave this client (see the top). */
  entry = nonce_lookup (self, creds->nonce, raw);
  if (entry == NULL || !nonce_issued_to (self, entry, client))
    return SIM_AUTH_UNKNOWN_NONCE;

  /* RFC 3261 §22.4 / RFC 7616 §3.4: the digest-uri must name the request's own URI. */
  if (!uri_equal (creds->uri, request_uri))
    return SIM_AUTH_URI_MISMATCH;

  /*
   * Every challenge of ours carries qop="auth".  RFC 7616 §3.4: "If the server sent a qop
   * directive ... the client MUST use" qop, cnonce and nc; RFC 3261 §22.4 keeps the RFC 2069
   * form (no qop) only for servers that did not ask for qop.  An answer without qop would be
   * the weaker RFC 2069 digest, without the client's nonce, a downgrade we do not accept: the
   * phone gets a fresh challenge, not a 400, since the request itself is well formed.
   */
  if (creds->qop == NULL)
    return SIM_AUTH_QOP_MISSING;

  /* A wrong answer used this nonce up (below): nothing can be learnt from it any more. */
  if (entry->burned)
    return SIM_AUTH_REPLAYED;

  /* Unknown users go through the same hashing with a dummy password, so the answer and the
   * time it takes do not tell an attacker which accounts exist (RFC 7616 §5.1). */
  if (lookup != NULL)
    password = lookup (creds->username, lookup_data);
  /* Upper-case hex is accepted: RFC 7616 §3.4.1 asks for lower case, some clients differ. */
  matches = sim_digest_check_response_hashes (creds,
                                              ha1_lookup (self, creds->algorithm,
                                                          creds->username, password),
                                              ha2_lookup (self, creds->algorithm, method,
                                                          creds->uri));
  if (!matches || password == NULL)
    {
      /* A wrong answer consumes the nonce: each guess costs a new challenge, and a nonce is
       * only ever tried once with a wrong password (RFC 7616 §5.2 lets a server limit a nonce's
       * use; here to a single answer). */
      entry->burned = TRUE;
      return SIM_AUTH_BAD_RESPONSE;
    }

  /* RFC 7616 §3.3: the right digest with an old nonce is "stale", not a failure. */
  if (sim_clock_now (self->clock) - nonce_entry_issued_at (entry) > self->lifetime)
    return SIM_AUTH_STALE;

  /* RFC 7616 §3.4: a one-time nonce authenticates one request; otherwise the nonce-count
   * must grow, so a captured header cannot be sent again.  Without qop there is no
   * nonce-count, so such a nonce is always one-time. */
  if (self->one_time || creds->nc == NULL)
    {
      if (entry->used)
        return SIM_AUTH_REPLAYED;
    }
  else if (!self->ignore_nc && nc <= entry->last_nc)
    return SIM_AUTH_REPLAYED;

  entry->used = TRUE;
  entry->last_nc = MAX (entry->last_nc, nc);
  return SIM_AUTH_OK;
}

/* Traces and reports @result for @creds (as far as they were parsed). */
static void
verify_report (SimAuth                    *self,
               SimAuthResult               result,
               const SimDigestCredentials *creds,
               const char                 *client)
{
  trace_nonce (self,
               result == SIM_AUTH_OK ? "accepted"
                 : result == SIM_AUTH_STALE ? "stale"
                 : result == SIM_AUTH_NO_CREDENTIALS ? "no-credentials"
                 : "rejected",
               creds->nonce, creds->username,
               creds->algorithm_name != NULL ? creds->algorithm_name
                 : creds->username != NULL ? sim_digest_algorithm_name (creds->algorithm)
                 : NULL,
               sim_auth_result_reason (result));

  if (self->verdict_func != NULL)
    self->verdict_func (self, result, creds->username, client, self->verdict_data);
}

SimAuthResult
sim_auth_verify_full (SimAuth           *self,
                      const char        *method,
                      const char        *request_uri,
                      const char        *authorization,
                      const char        *client,
                      SimAuthLookupFunc  lookup,
                      gpointer           lookup_data,
                      char             **out_username)
{
  SimDigestCredentials creds = { NULL, };
  gboolean algorithm_known = FALSE;
  SimAuthResult result;

  g_return_val_if_fail (SIM_IS_AUTH (self), SIM_AUTH_MALFORMED);
  g_return_val_if_fail (method != NULL, SIM_AUTH_MALFORMED);
  g_return_val_if_fail (request_uri != NULL, SIM_AUTH_MALFORMED);

  prune (self);

  if (authorization == NULL || !is_digest_scheme (authorization))
    result = SIM_AUTH_NO_CREDENTIALS;
  else if (!sim_digest_credentials_parse_full (authorization, &creds, &algorithm_known, NULL))
    result = SIM_AUTH_MALFORMED;
  else
    result = verify (self, method, request_uri, client, lookup, lookup_data, &creds,
                     algorithm_known);
  verify_report (self, result, &creds, client);

  if (out_username != NULL)
    *out_username = g_steal_pointer (&creds.username);
  sim_digest_credentials_clear (&creds);

  return result;
}

SimAuthResult
sim_auth_verify_params (SimAuth              *self,
                        const char           *method,
                        const char           *request_uri,
                        const char           *scheme,
                        const SimDigestParam *params,
                        guint                 n_params,
                        const char           *client,
                        SimAuthLookupFunc     lookup,
                        gpointer              lookup_data,
                        char                **out_username)
{
  SimDigestCredentials creds = { NULL, };
  gboolean algorithm_known = FALSE;
  /* Room for the unquoted values of any Authorization a phone sends; longer ones take the
   * text path. */
  char storage[1024];
  SimAuthResult result;

  g_return_val_if_fail (SIM_IS_AUTH (self), SIM_AUTH_MALFORMED);
  g_return_val_if_fail (method != NULL, SIM_AUTH_MALFORMED);
  g_return_val_if_fail (request_uri != NULL, SIM_AUTH_MALFORMED);
  g_return_val_if_fail (params != NULL || n_params == 0, SIM_AUTH_MALFORMED);

  if (scheme == NULL)
    return sim_auth_verify_full (self, method, request_uri, NULL, client, lookup, lookup_data,
                                 out_username);

  switch (sim_digest_credentials_parse_params (scheme, params, n_params, storage, sizeof storage,
                                               &creds, &algorithm_known, NULL))
    {
    case SIM_DIGEST_PARAMS_PARSED:
      prune (self);
      result = verify (self, method, request_uri, client, lookup, lookup_data, &creds,
                       algorithm_known);
      break;

    case SIM_DIGEST_PARAMS_INVALID:
      /* The scheme is a token here, so "not Digest" is what the text calls no credentials. */
      prune (self);
      result = g_ascii_strcasecmp (scheme, "Digest") == 0 ? SIM_AUTH_MALFORMED
                                                          : SIM_AUTH_NO_CREDENTIALS;
      break;

    case SIM_DIGEST_PARAMS_NOT_PLAIN:
    default:
      {
        g_autofree char *text = sim_digest_params_to_string (scheme, params, n_params);

        return sim_auth_verify_full (self, method, request_uri, text, client, lookup,
                                     lookup_data, out_username);
      }
    }
  verify_report (self, result, &creds, client);

  /* The values live in @storage: nothing to clear. */
  if (out_username != NULL)
    *out_username = g_strdup (creds.username);
  return result;
}

SimAuthResult
sim_auth_verify (SimAuth           *self,
                 const char        *method,
                 const char        *request_uri,
                 const char        *authorization,
                 SimAuthLookupFunc  lookup,
                 gpointer           lookup_data,
                 char             **out_username)
{
  return sim_auth_verify_full (self, method, request_uri, authorization, NULL, lookup,
                               lookup_data, out_username);
}

void
sim_auth_set_verdict_func (SimAuth            *self,
                           SimAuthVerdictFunc  func,
                           gpointer            user_data)
{
  g_return_if_fail (SIM_IS_AUTH (self));
  self->verdict_func = func;
  self->verdict_data = user_data;
}

guint
sim_auth_get_n_live_nonces (SimAuth *self)
{
  g_return_val_if_fail (SIM_IS_AUTH (self), 0);

  prune (self);
  return self->ring_len;
}
