/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Placeholder: being written. */
typedef int sim_placeholder_sim_digest;
