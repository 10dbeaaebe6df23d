/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_inspect: how many bytes a second one core takes through the SMTP follower and the MIME
 * parser (transfer decoding, URL extraction, header decoding), with no rules loaded, so the
 * figure is the protocol layers' own cost. It reads a classic pcap of complete, in-order
 * sessions (tools/mkpcap.py --scenario bench writes one), decodes each frame with the
 * dataplane's decoder and feeds the TCP payloads to one inspect session per connection, over
 * and over for the given time. Used by scripts/bench; prints one line of figures.
 *
 *   bench_inspect FILE.pcap [SECONDS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "file_read.h"
#include "inspect.h"
#include "mime_words.h"

#define FLOW_SLOTS 256 /* bench sessions follow each other; a few overlap at most */
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du

struct slot {
	bool used;
	uint8_t client[16];
	uint16_t client_port;
	struct inspect_session s;
};

static struct slot slots[FLOW_SLOTS];
static uint8_t record[IPC_TX_MAX] __attribute__((aligned(8)));
static uint64_t n_records;

static struct ipc_tx *
bench_alloc(void *io)
{
	(void)io;
	return (struct ipc_tx *)record;
}

static void
bench_emit(void *io, struct ipc_tx *tx)
{
	(void)io;
	(void)tx;
	n_records++;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The session of a packet's connection: client side is the one not on port 25/587. */
static struct inspect_session *
session_for(struct inspect_env *env, const struct pkt_info *pi, bool *to_server)
{
	*to_server = pi->dport == 25 || pi->dport == 587;
	const uint8_t *client = *to_server ? pi->src : pi->dst;
	uint16_t cport = *to_server ? pi->sport : pi->dport;
	struct slot *sl = &slots[(cport ^ client[15] ^ client[14] << 3) % FLOW_SLOTS];

	if (sl->used && (sl->client_port != cport || memcmp(sl->client, client, 16) != 0)) {
		inspect_session_close(&sl->s);
		sl->used = false;
	}
	if (!sl->used) {
		struct inspect_flow_meta meta = { .client_port = cport, .ip_version = 4 };

		memcpy(meta.client_ip, client, 16);
		memcpy(sl->client, client, 16);
		sl->client_port = cport;
		sl->used = true;
		inspect_session_init(&sl->s, env, &meta);
	}
	return &sl->s;
}

int
main(int argc, char **argv)
{
	struct inspect_env env = { .tx_alloc = bench_alloc, .tx_emit = bench_emit };
	double seconds = argc > 2 ? strtod(argv[2], NULL) : 5.0, t0, t;
	uint64_t bytes = 0, passes = 0;
	char *buf;
	const uint8_t *cap;
	size_t cap_len;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_inspect FILE.pcap [SECONDS]\n");
		return 2;
	}
	int rc = file_read_all(argv[1], 1u << 30, &buf, &cap_len);

	if (rc < 0) {
		fprintf(stderr, "bench_inspect: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	cap = (const uint8_t *)buf;
	uint32_t magic;

	memcpy(&magic, cap, sizeof(magic));
	if (cap_len < 24 || (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS)) {
		fprintf(stderr, "bench_inspect: %s: not a little-endian classic pcap\n", argv[1]);
		return 1;
	}
	env.words = mime_words_create();
	if (env.words == NULL) {
		fprintf(stderr, "bench_inspect: no iconv\n");
		return 1;
	}
	t0 = now_s();
	do {
		for (size_t off = 24; off + 16 <= cap_len;) {
			uint32_t incl;
			struct pkt_info pi;
			bool to_server;

			memcpy(&incl, cap + off + 8, sizeof(incl));
			off += 16;
			if (incl > cap_len - off)
				break;
			if (decode_packet(cap + off, incl, &pi) == DECODE_OK && pi.payload_len > 0) {
				struct inspect_session *s = session_for(&env, &pi, &to_server);

				inspect_session_data(s, to_server, pi.payload, pi.payload_len);
				bytes += pi.payload_len;
			}
			off += incl;
		}
		passes++;
		t = now_s() - t0;
	} while (t < seconds);
	for (unsigned i = 0; i < FLOW_SLOTS; i++)
		if (slots[i].used)
			inspect_session_close(&slots[i].s);
	printf("SMTP+MIME, 1 core, no rules: %.1f MB/s (%.2f Gbit/s), %llu bytes in %.2f s CPU, "
	       "%llu transactions, %llu MIME parts, %llu URLs\n",
	       (double)bytes / t / 1e6, (double)bytes * 8 / t / 1e9, (unsigned long long)bytes, t,
	       (unsigned long long)n_records,
	       (unsigned long long)env.counters[IPC_C_MIME_PARTS],
	       (unsigned long long)env.counters[IPC_C_URLS]);
	(void)passes;
	free(buf);
	mime_words_destroy(env.words);
	return 0;
}
