/* SPDX-License-Identifier: BSD-3-Clause */
/* The steering program's attachment and port map, through libbpf; see xdp_steer.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpf/postern_steer.h"
#include "xdp_steer.h"

/* The id of the XDP program attached to ifname (0: none), or -1 with err set. */
static int
attached_prog(const char *ifname, unsigned *ifindex, uint32_t *prog_id, char *err,
	      size_t errlen)
{
	int rc;

	*ifindex = if_nametoindex(ifname);
	if (*ifindex == 0) {
		snprintf(err, errlen, "%s: no such interface", ifname);
		return -1;
	}
	*prog_id = 0;
	rc = bpf_xdp_query_id((int)*ifindex, 0, prog_id);
	if (rc < 0) {
		snprintf(err, errlen, "%s: querying its XDP program: %s", ifname, strerror(-rc));
		return -1;
	}
	return 0;
}

/* The program's name and map ids (up to *n_maps of them). An fd the caller closes, or -1. */
static int
prog_info(uint32_t prog_id, char name[BPF_OBJ_NAME_LEN], uint32_t *map_ids, uint32_t *n_maps,
	  char *err, size_t errlen)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(prog_id);

	if (fd < 0) {
		snprintf(err, errlen, "XDP program %u: %s", prog_id, strerror(errno));
		return -1;
	}
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = *n_maps;
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		snprintf(err, errlen, "XDP program %u: %s", prog_id, strerror(errno));
		close(fd);
		return -1;
	}
	memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	name[BPF_OBJ_NAME_LEN - 1] = '\0';
	if (info.nr_map_ids < *n_maps)
		*n_maps = info.nr_map_ids;
	return fd;
}

int
xdp_steer_detach_stale(const char *ifname, char *err, size_t errlen)
{
	char name[BPF_OBJ_NAME_LEN];
	uint32_t prog_id, n_maps = 0;
	unsigned ifindex;
	int fd, rc;

	if (attached_prog(ifname, &ifindex, &prog_id, err, errlen) < 0)
		return -1;
	if (prog_id == 0)
		return 0;
	fd = prog_info(prog_id, name, NULL, &n_maps, err, errlen);
	if (fd < 0)
		return -1;
	close(fd);
	if (strcmp(name, XDP_STEER_PROG_NAME) != 0) {
		snprintf(err, errlen, "%s: another XDP program is attached (%s, id %u): not ours "
			 "to remove", ifname, name[0] != '\0' ? name : "unnamed", prog_id);
		return -1;
	}
	rc = bpf_xdp_detach((int)ifindex, 0, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "%s: removing the steering program a previous run left: %s",
			 ifname, strerror(-rc));
		return -1;
	}
	return 1;
}

int
xdp_steer_set_ports(const char *ifname, const uint16_t *ports, unsigned n, char *err,
		    size_t errlen)
{
	char name[BPF_OBJ_NAME_LEN];
	uint32_t prog_id, map_ids[16], n_maps = 16;
	unsigned ifindex;
	int fd, rc = -1;

	if (attached_prog(ifname, &ifindex, &prog_id, err, errlen) < 0)
		return -1;
	if (prog_id == 0) {
		snprintf(err, errlen, "%s: no XDP program attached", ifname);
		return -1;
	}
	fd = prog_info(prog_id, name, map_ids, &n_maps, err, errlen);
	if (fd < 0)
		return -1;
	close(fd);
	for (uint32_t i = 0; i < n_maps; i++) {
		struct bpf_map_info info;
		uint32_t len = sizeof(info);
		int map = bpf_map_get_fd_by_id(map_ids[i]);

		if (map < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(map, &info, &len) == 0 &&
		    strcmp(info.name, POSTERN_STEER_PORTS_MAP) == 0) {
			rc = 0;
			for (uint32_t k = 0; k < POSTERN_STEER_MAX_PORTS && rc == 0; k++) {
				uint16_t port = k < n ? ports[k] : 0;

				if (bpf_map_update_elem(map, &k, &port, BPF_ANY) < 0) {
					snprintf(err, errlen, "%s: port map: %s", ifname,
						 strerror(errno));
					rc = -1;
				}
			}
			close(map);
			return rc;
		}
		close(map);
	}
	snprintf(err, errlen, "%s: the attached program (%s) has no %s map", ifname, name,
		 POSTERN_STEER_PORTS_MAP);
	return -1;
}
