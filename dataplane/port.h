/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet port set-up for the dataplane: every probed port (NIC or vdev) is configured with
 * one RX queue per worker when it can spread flows with a symmetric RSS key, otherwise with
 * one queue and the workers dispatch in software; RX timestamps are turned on where the
 * port offers them (the pcap vdev gives capture times). Start-up, main lcore.
 */
#pragma once

#include "dp.h"

int port_setup_all(struct dp *dp);
void port_stop_all(struct dp *dp);
