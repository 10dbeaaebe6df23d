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

/* Bypass detection (posternd, control/bypass.h) */
#define SID_BYPASS_RELAY 2100010u        /* an internal client mailed around the relays */
#define SID_BYPASS_NEW_HOST 2100011u     /* a host spoke SMTP for the first time */

/* Anomaly models (posternd, control/anomaly_model.h): SID_ANOMALY_BASE + enum anomaly_metric */
#define SID_ANOMALY_BASE 2100020u

/* CAN-SPAM checks of commercial messages, and header hygiene of automated mail
 * (posternd, control/canspam.h) */
#define SID_CANSPAM 2100030u             /* a commercial message fails a CAN-SPAM check */
#define SID_HYGIENE 2100031u             /* automated mail with broken headers */
