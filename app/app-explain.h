/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What one SIP header does in the lessons, and where the RFC says so. */
typedef struct {
  const char *name;       /* canonical header name */
  const char *compact;    /* RFC 3261 §7.3.3 compact form, or NULL */
  const char *text;       /* one or two sentences for a student */
  const char *rfc;        /* "RFC 3261 §8.1.1.2" */
} AppHeaderExplanation;

/* @name is matched case-insensitively, compact forms too.  NULL when we have nothing to say. */
const AppHeaderExplanation *app_explain_header     (const char *name);
/*
 * A sentence about a start line ("REGISTER sip:...", "SIP/2.0 401 Unauthorized"), or NULL.
 * @method is the request's method, or for a response the CSeq method it answers (NULL if
 * unknown): a 200 to a BYE is explained as the end of a call, not as a registration.
 */
const char                 *app_explain_first_line (const char *first_line,
                                                    const char *method);

G_END_DECLS
