/*
 * Small services several test guests share beyond the runtime: memory
 * carved from the RAM above the image, and a timed wait in WFI.
 */
#ifndef TESTS_GUESTS_GUTIL_H
#define TESTS_GUESTS_GUTIL_H

#include "lib/types.h"

/*
 * @size bytes (rounded up to whole pages), page aligned and zeroed,
 * from the RAM between the image and the DTB (which the hypervisor puts
 * in the last 2 MiB). Never freed. No room fails the guest, naming the
 * size. Boot vCPU only.
 */
void *gu_carve(u64 size);

/* Waits @us microseconds of guest time in WFI, woken by the virtual
 * timer (interrupts masked but for the moment each is taken), so that
 * under emulation the host CPU goes to the other vCPUs meanwhile. Uses
 * the virtual timer of the calling vCPU. */
void gu_sleep_us(u64 us);

#endif
