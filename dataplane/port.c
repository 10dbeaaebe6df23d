/* SPDX-License-Identifier: BSD-3-Clause */
/* Port configuration; see port.h. Start-up and shutdown on the main lcore. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "log.h"
#include "port.h"
#include "rss_key.h"

#define RX_DESC 1024
#define TX_DESC 512
#define MBUF_CACHE 256

static uint8_t symmetric_rss_key[RSS_KEY_MAX];

static bool
port_can_rss(uint16_t port, const struct rte_eth_dev_info *info, unsigned n_workers)
{
	(void)port;
	return n_workers > 1 && info->max_rx_queues >= n_workers &&
	       (info->flow_type_rss_offloads & RTE_ETH_RSS_IP) != 0;
}

static int
port_setup(struct dp *dp, uint16_t port, bool rss)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	uint16_t n_rxq = rss ? (uint16_t)dp->n_workers : 1;
	/* inline, every worker sends on every port through a queue of its own */
	uint16_t n_txq = dp->inline_mode ? (uint16_t)dp->n_workers : 1;
	int rc = rte_eth_dev_info_get(port, &info);

	if (rc != 0)
		return rc;
	if (n_txq > info.max_tx_queues) {
		log_err("port %u (%s): inline mode needs %u TX queues (one a worker), it has %u "
			"(af_packet: qpairs=%u)", port, info.driver_name, n_txq, info.max_tx_queues,
			n_txq);
		return -EINVAL;
	}
	if (rss) {
		rss_symmetric_key(symmetric_rss_key, sizeof(symmetric_rss_key));
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = symmetric_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
		/* Hosts only, no ports: fragments, which carry ports in their first piece
		 * alone, must reach their flow's queue (software dispatch does the same). */
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	rc = rte_eth_dev_configure(port, n_rxq, n_txq, &conf);
	if (rc != 0)
		return rc;
	for (uint16_t q = 0; q < n_rxq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, RX_DESC, rte_eth_dev_socket_id(port), NULL,
					    dp->pkt_pool);
		if (rc != 0)
			return rc;
	}
	for (uint16_t q = 0; q < n_txq; q++) {
		rc = rte_eth_tx_queue_setup(port, q, TX_DESC, rte_eth_dev_socket_id(port), NULL);
		if (rc != 0)
			return rc;
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		return rc;
	rte_eth_promiscuous_enable(port);
	log_info("port %u (%s): %u RX queue(s), %u TX%s%s", port, info.driver_name, n_rxq, n_txq,
		 rss ? ", symmetric RSS" : "",
		 (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP) ? ", RX timestamps" : "");
	return 0;
}

/* Inline: ports in the order DPDK numbered them (the order of --iface), in pairs. */
static int
pair_ports(struct dp *dp)
{
	if (dp->n_ports % 2 != 0) {
		log_err("inline mode forwards between pairs of ports: %u port(s) given",
			dp->n_ports);
		return -1;
	}
	for (unsigned i = 0; i < dp->n_ports; i++) {
		if (dp->ports[i] >= DP_MAX_PORTS) {
			log_err("port id %u: inline mode supports port ids below %d", dp->ports[i],
				DP_MAX_PORTS);
			return -1;
		}
	}
	for (unsigned i = 0; i < dp->n_ports; i += 2) {
		dp->peer[dp->ports[i]] = dp->ports[i + 1];
		dp->peer[dp->ports[i + 1]] = dp->ports[i];
		log_info("inline: port %u <-> port %u", dp->ports[i], dp->ports[i + 1]);
	}
	return 0;
}

int
port_setup_all(struct dp *dp)
{
	uint16_t port;
	unsigned n_ports = rte_eth_dev_count_avail();

	if (n_ports == 0) {
		log_err("no Ethernet port: give --pcap, --iface or an EAL --vdev");
		return -1;
	}
	if (n_ports > DP_MAX_PORTS) {
		log_err("%u ports, at most %d are supported", n_ports, DP_MAX_PORTS);
		return -1;
	}
	/* Enough mbufs for every RX ring, the dispatch rings and the bursts in flight, and
	 * inline for every TX ring too. */
	unsigned n_mbufs = n_ports * dp->n_workers * RX_DESC + dp->n_workers * 4096 + 8192 +
			   (dp->inline_mode ? n_ports * dp->n_workers * TX_DESC : 0);
	dp->pkt_pool = rte_pktmbuf_pool_create("pkts", n_mbufs, MBUF_CACHE, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (dp->pkt_pool == NULL) {
		log_err("packet pool of %u mbufs: %s", n_mbufs, rte_strerror(rte_errno));
		return -1;
	}

	dp->rss = true;
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(port, &info) != 0 || !port_can_rss(port, &info, dp->n_workers))
			dp->rss = false;
	}
	/* Inline, a packet goes out of the worker that inspected it: several workers need
	 * RSS, so that each owns the queues its flows come in on and one TX queue a port. */
	if (dp->inline_mode && !dp->rss && dp->n_workers > 1) {
		log_err("inline mode with %u workers needs ports with RSS; these have none "
			"(af_packet, af_xdp and pcap ports run inline with workers = 1)",
			dp->n_workers);
		return -1;
	}
	RTE_ETH_FOREACH_DEV(port) {
		int rc = port_setup(dp, port, dp->rss);

		if (rc != 0) {
			log_err("port %u: set-up failed: %s", port, rte_strerror(-rc));
			return -1;
		}
		dp->ports[dp->n_ports++] = port;
	}
	if (dp->inline_mode)
		return pair_ports(dp);
	dp->ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	int flag = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	dp->ts_flag = flag >= 0 ? UINT64_C(1) << flag : 0;
	if (flag < 0)
		dp->ts_offset = -1;
	return 0;
}

void
port_stop_all(struct dp *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		rte_eth_dev_stop(dp->ports[i]);
		rte_eth_dev_close(dp->ports[i]);
	}
}
