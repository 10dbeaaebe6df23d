/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature ids reserved for Postern's built-in checks (not rule-pack rules). Rule packs may
 * not use sids in [BUILTIN_SID_MIN, BUILTIN_SID_MAX]; posternd rejects a pack that does.
 */
#pragma once

#define BUILTIN_GID 1
#define BUILTIN_SID_MIN 2100000u
#define BUILTIN_SID_MAX 2100999u

/* Suppression set (CAN-SPAM opt-out) */
#define SID_SUPPRESS_GRACE 2100001u      /* opted out, inside the 10 business day window */
#define SID_SUPPRESS_VIOLATION 2100002u  /* opted out, window passed: must not be mailed */
