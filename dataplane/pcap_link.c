/* SPDX-License-Identifier: BSD-3-Clause */
/* Link type of a capture file; see pcap_link.h. Start-up only. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pcap_link.h"

#define PCAPNG_BLOCKS_MAX 16  /* blocks looked at for the first interface description */

int
pcap_link_from_dlt(unsigned dlt)
{
	switch (dlt) {
	case 1:                 /* LINKTYPE_ETHERNET */
		return DECODE_LINK_ETHERNET;
	case 0:                 /* LINKTYPE_NULL */
	case 108:               /* LINKTYPE_LOOP (OpenBSD, network order) */
		return DECODE_LINK_NULL;
	case 101:               /* LINKTYPE_RAW */
	case 12:                /* DLT_RAW as most BSDs number it */
	case 14:                /* DLT_RAW on OpenBSD */
	case 228:               /* LINKTYPE_IPV4 */
	case 229:               /* LINKTYPE_IPV6 */
		return DECODE_LINK_RAW;
	case 113:               /* LINKTYPE_LINUX_SLL */
		return DECODE_LINK_SLL;
	default:
		return -1;
	}
}

/* pcapng: the section header gives the byte order; the first IDB the link type. */
static int
pcapng_dlt(FILE *f, const uint8_t *shb, unsigned *dlt)
{
	uint32_t bom;
	bool swap;
	uint8_t h[12];

	memcpy(&bom, shb + 8, sizeof(bom));
	if (bom != PCAPNG_BYTE_ORDER && __builtin_bswap32(bom) != PCAPNG_BYTE_ORDER)
		return -EINVAL;
	swap = bom != PCAPNG_BYTE_ORDER;
	if (fseek(f, (long)pcap_rd32(shb + 4, swap), SEEK_SET) != 0)
		return -EINVAL;
	for (int i = 0; i < PCAPNG_BLOCKS_MAX; i++) {
		if (fread(h, 1, sizeof(h), f) != sizeof(h))
			return -EINVAL;
		uint32_t type = pcap_rd32(h, swap), len = pcap_rd32(h + 4, swap);

		if (type == PCAPNG_IDB) {
			*dlt = pcap_rd16(h + 8, swap);
			return 0;
		}
		if (len < 12 || len % 4 != 0 || fseek(f, (long)len - 12, SEEK_CUR) != 0)
			return -EINVAL;
	}
	return -EINVAL;
}

int
pcap_link_type(const char *path, enum decode_link *out, char *err, size_t errlen)
{
	uint8_t h[24];
	unsigned dlt = 0;
	uint32_t magic;
	int rc = 0, link;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fread(h, 1, sizeof(h), f) != sizeof(h)) {
		rc = -EINVAL;
		goto bad_format;
	}
	memcpy(&magic, h, sizeof(magic));
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		dlt = pcap_rd32(h + 20, false) & 0xffff; /* the upper bits are FCS flags */
	} else if (__builtin_bswap32(magic) == PCAP_MAGIC_US ||
		   __builtin_bswap32(magic) == PCAP_MAGIC_NS) {
		dlt = pcap_rd32(h + 20, true) & 0xffff;
	} else if (magic == PCAPNG_SHB) {
		rc = pcapng_dlt(f, h, &dlt);
		if (rc < 0)
			goto bad_format;
	} else {
		rc = -EINVAL;
		goto bad_format;
	}
	fclose(f);
	link = pcap_link_from_dlt(dlt);
	if (link < 0) {
		snprintf(err, errlen, "%s: link type %u is not one Postern decodes "
			 "(Ethernet, BSD loopback, raw IP, Linux cooked)", path, dlt);
		return -ENOTSUP;
	}
	*out = (enum decode_link)link;
	return 0;

bad_format:
	fclose(f);
	snprintf(err, errlen, "%s: not a pcap or pcapng capture", path);
	return rc;
}
