/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two clocks Postern reads: the wall clock, for what is reported (timestamps, records of
 * live traffic), and the monotonic clock, for what is timed (reconnects, backoffs, timeouts),
 * which a clock step must not disturb. Any thread.
 */
#pragma once

#include <stdint.h>
#include <time.h>

/* Microseconds since the epoch (CLOCK_REALTIME). */
static inline uint64_t
clock_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Milliseconds of CLOCK_MONOTONIC (from an arbitrary origin). */
static inline uint64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
