/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * postern.conf: `key = value` lines, `#` comments, one table of options (key, type, place,
 * bounds, default) shared by posternd, postern-dataplane and posternctl, so that the three
 * agree on every path and limit. Unknown keys, bad values and out-of-range numbers are errors
 * reported as file:line. A new config is parsed into a fresh struct and only used when the
 * whole file is valid. Start-up and control threads only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_PATH_MAX 256
#define CONFIG_RULES_MAX 2048       /* the rules key: a list of pack paths */
#define CONFIG_RULES_PACKS_MAX 64   /* packs in that list */
#define CONFIG_MAX_PORTS 16
#define CONFIG_TEXT_MAX 1024
#define CONFIG_QUERY_MAX 4096
#define CONFIG_LINE_MAX (CONFIG_QUERY_MAX + 64)

enum config_address_output {
	CONFIG_ADDR_PLAIN = 0,
	CONFIG_ADDR_HASH,    /* SHA-256 hex of the normalized address */
	CONFIG_ADDR_REDACT,  /* local part replaced by "***" */
};

/* What the capture port's frames start with (a pcap file's link type, DLT_*). */
enum config_link_type {
	CONFIG_LINK_ETHERNET = 0, /* DLT_EN10MB: NICs, af_packet, most captures */
	CONFIG_LINK_NULL,         /* DLT_NULL / DLT_LOOP: BSD loopback, 4-byte family */
	CONFIG_LINK_RAW,          /* DLT_RAW: the IP header first */
	CONFIG_LINK_SLL,          /* DLT_LINUX_SLL: Linux "any" device, 16-byte header */
};

/* How the dataplane sits on the wire. */
enum config_mode {
	CONFIG_MODE_PASSIVE = 0, /* a mirror or TAP copy: every packet is only inspected */
	CONFIG_MODE_INLINE,      /* a bump in the wire: ports forward in pairs, can block */
};

/* Inline, when the dataplane cannot inspect a packet (a ring full, a pool exhausted). */
enum config_inline_fail {
	CONFIG_FAIL_OPEN = 0,    /* forward it uninspected: mail never stops for Postern */
	CONFIG_FAIL_CLOSED,      /* drop it: nothing passes uninspected */
};

#define CONFIG_REPLY_MAX 256
#define CONFIG_NAME_MAX 64

/* Where the Redis output puts each line (control/redis_out.h). */
enum config_redis_mode {
	CONFIG_REDIS_LIST = 0,   /* RPUSH: a consumer's BLPOP reads in order */
	CONFIG_REDIS_PUBLISH,    /* PUBLISH to a channel */
};

struct postern_config {
	/* paths */
	char control_socket[CONFIG_PATH_MAX];  /* posternd <-> dataplane, SOCK_SEQPACKET */
	char alert_socket[CONFIG_PATH_MAX];    /* NDJSON alerts to subscribers */
	char cli_socket[CONFIG_PATH_MAX];      /* posternctl <-> posternd */
	char eve_file[CONFIG_PATH_MAX];        /* empty: no file output */
	uint64_t eve_file_max_size;            /* rotate before passing it; 0: never */
	uint32_t eve_file_keep;                /* rotated files kept: eve_file.1 .. .N */
	char rules[CONFIG_RULES_MAX];          /* rule packs: one or more paths, separated by
						* blanks and/or commas, loaded together in this
						* order (config_rules_next); never empty */
	char classification[CONFIG_PATH_MAX];  /* empty: classification.config beside the first
						* pack of rules */
	char rule_vars[CONFIG_PATH_MAX];       /* $VAR definitions; empty: vars.conf beside the
						* first pack of rules when there is one, else the
						* defaults */
	char rule_cache_dir[CONFIG_PATH_MAX];  /* compiled generations; empty: no cache */
	uint64_t rule_cache_size;              /* bytes the cache may hold */
	bool rules_skip_unsupported;           /* a rule with a keyword Postern does not support
						* is left out with a warning, not an error */
	char suppress_db[CONFIG_PATH_MAX];     /* LMDB environment directory */
	/* normalization of a new set's keys (an existing set keeps the flags it was made with) */
	bool suppress_lowercase_local;
	bool suppress_strip_tag;
	bool suppress_fold_dots;               /* Gmail: dots in the local part do not count */
	/* the CAN-SPAM business-day calendar */
	char suppress_calendar_tz[64];         /* IANA zone of the calendar's days; UTC default */
	char suppress_holidays[CONFIG_TEXT_MAX]; /* "us-federal", "none", holiday files, comma
						  * separated, applied in order */
	/* posternctl suppress sync */
	char suppress_sync_dsn[CONFIG_TEXT_MAX];  /* ODBC connection string */
	char suppress_sync_query[CONFIG_QUERY_MAX]; /* columns named as an import's header */
	/* which messages are commercial (subject to suppression) */
	char commercial_senders[CONFIG_TEXT_MAX];    /* sender domains, space/comma separated */
	char transactional_senders[CONFIG_TEXT_MAX]; /* exempt sender domains */
	char commercial_hosts[CONFIG_TEXT_MAX];      /* clients: an address set (rule syntax) */
	char commercial_signals[CONFIG_PATH_MAX];    /* list-unsubscribe, list-id, precedence */
	bool commercial_default;                     /* a message no signal decides */
	/* CAN-SPAM checks of commercial messages (posternd, control/canspam.h) */
	char canspam_checks[CONFIG_PATH_MAX];        /* unsubscribe, postal, sender, subject,
						      * label; "none" */
	char canspam_unsubscribe[CONFIG_PATH_MAX];   /* mechanisms that satisfy: list-unsubscribe,
						      * one-click, body-link */
	bool canspam_require_one_click;              /* RFC 8058 required besides */
	char canspam_from_domains[CONFIG_TEXT_MAX];  /* From domains accepted unaligned */
	char automated_senders[CONFIG_TEXT_MAX];     /* sender domains of cron, backup and
						      * monitoring mail: hygiene checks only */
	/* bypass detection (posternd): mail that goes around the sanctioned relays */
	char sanctioned_relays[CONFIG_TEXT_MAX];     /* address set (rule syntax); empty: off */
	char internal_clients[CONFIG_TEXT_MAX];      /* address set of the company's hosts */
	uint32_t bypass_alert_interval;              /* seconds between alerts of one pair */
	uint32_t new_host_learning;                  /* seconds of learning before new SMTP
						      * clients are alerted; 0: never alerted */
	uint32_t new_host_table;                     /* client hosts remembered */
	/* anomaly models (posternd), over transaction records */
	uint32_t anomaly_warmup;                     /* seconds before a baseline is trusted */
	uint32_t anomaly_multiple_pct;               /* value > baseline * this / 100 ... */
	uint32_t anomaly_alpha_pct;                  /* EWMA weight of the newest window */
	uint32_t anomaly_suppress;                   /* seconds between alerts of one key+metric */
	uint32_t anomaly_keys;                       /* hosts and sender domains tracked */
	uint64_t anomaly_floor_messages;             /* ... and > this floor: per minute */
	uint64_t anomaly_floor_rcpts_per_msg;        /* recipients in one message */
	uint64_t anomaly_floor_distinct_rcpts;       /* per hour */
	uint64_t anomaly_floor_auth_failures;        /* per 10 minutes */
	uint64_t anomaly_floor_rcpts_rejected;       /* per 10 minutes */
	uint64_t anomaly_floor_sessions;             /* per minute */
	uint64_t anomaly_floor_bytes;                /* per minute */
	/* dataplane */
	uint16_t inspect_ports[CONFIG_MAX_PORTS];
	uint32_t n_inspect_ports;
	uint32_t workers;
	uint32_t flows_per_worker;
	uint32_t sessions_per_worker;
	uint32_t event_ring_size;
	uint32_t flow_idle_timeout;            /* seconds, established flows */
	uint32_t flow_timeout_new;             /* seconds, flows without payload (half-open) */
	uint32_t flow_timeout_closing;         /* seconds, after a FIN */
	uint64_t suppress_map_size;            /* bytes LMDB may map */
	uint32_t reasm_chunks;                 /* 2 KiB out-of-order chunks per worker */
	uint32_t reasm_window;                 /* bytes queued past a hole, per stream */
	uint64_t inspect_depth;                /* bytes inspected per stream, 0: all */
	enum config_link_type link_type;
	enum config_mode mode;
	enum config_inline_fail inline_fail;
	char block_reply[CONFIG_REPLY_MAX];    /* inline: "5xx x.y.z text" a blocked client gets */
	char xdp_program[CONFIG_PATH_MAX];     /* --xdp ports' steering program; empty: built one */
	bool block_suppressed;                 /* inline: a suppression violation blocks */
	bool block_canspam;                    /* inline: a failed CAN-SPAM check blocks */
	bool rcpt_reject_suppressed;           /* inline: refuse a violation at RCPT time */
	uint64_t event_spool;                  /* bytes of records kept while posternd is away */
	/* privileges, after start-up (common/privdrop.h) */
	char user[CONFIG_NAME_MAX];            /* empty: stay as started */
	char group[CONFIG_NAME_MAX];           /* empty: the user's primary group */
	char alert_socket_group[CONFIG_NAME_MAX]; /* group of the 0660 alert socket; empty:
						   * posternd's */
	/* output */
	char syslog[CONFIG_PATH_MAX];          /* udp:HOST:PORT, tcp:HOST:PORT, unix:PATH; empty:
						* off (control/syslog_out.h) */
	int syslog_facility;                   /* 0..23; local0 (16) by default */
	char redis[CONFIG_PATH_MAX];           /* tcp:HOST:PORT or unix:PATH; empty: off */
	enum config_redis_mode redis_mode;
	char redis_key[128];                   /* list or channel; %t: the event type */
	uint64_t output_queue_size;            /* bytes each network output may queue */
	char metrics_listen[128];              /* HOST:PORT of GET /metrics; empty: off */
	enum config_address_output address_output;
	bool eve_smtp_events;                  /* also one "smtp" event per transaction */
	bool smtp_inspection;                  /* no: flows are tracked and reassembled only */
};

/* Defaults for every option. */
void config_defaults(struct postern_config *c);

/*
 * Parse a file into *c (start from config_defaults). Returns 0, or -1 with a message
 * "FILE:LINE: reason" in err.
 */
int config_load(struct postern_config *c, const char *path, char *err, size_t errlen);

/* Parse one `key = value` assignment (command-line overrides use this). */
int config_set(struct postern_config *c, const char *key, const char *value, char *err,
	       size_t errlen);

/*
 * The paths of a rules list, one per call: start with *pos = 0; each call copies the next
 * path into out (outlen bytes) and advances *pos. Paths are separated by any run of spaces,
 * tabs and commas. Returns 1 with a path, 0 at the end of the list, -ENAMETOOLONG for a path
 * of CONFIG_PATH_MAX bytes or more (or that does not fit out; *pos is then past it).
 */
int config_rules_next(const char *list, size_t *pos, char *out, size_t outlen);

/* True when tcp port p is one the dataplane inspects. */
bool config_is_inspected_port(const struct postern_config *c, uint16_t p);
