/*
 * The device tree a VM boots with: a QEMU `virt`-like machine holding only
 * the devices the hypervisor emulates (CPUs with PSCI, memory, GIC, timer,
 * PL011, virtio-mmio) at the addresses of virt/guest_map.h.
 */
#ifndef VIRT_GUEST_DT_H
#define VIRT_GUEST_DT_H

#include "lib/types.h"

struct guest_dt_params {
	u64 ram_base, ram_size;         /* size > 0, no wrap past 2^64 */
	unsigned int nr_vcpus;          /* cpu@0..n-1, reg = index (MPIDR Aff0);
					 * 1..VM_MAX_VCPUS, at most 8 on GICv2 */
	unsigned int gic_version;       /* 2 or 3 */
	const char *cmdline;            /* NULL or "" for none */
	u64 initrd_start, initrd_end;   /* both 0: no initrd; end >= start */
	bool console;                   /* PL011 at GUEST_UART_BASE, stdout-path */
	u32 virtio_slots;               /* bit i: a virtio-mmio node in slot i */
};

/*
 * Writes the DTB into @buf (@size bytes, 8-byte aligned); returns its size
 * or a negative errno: -EINVAL for parameters outside the ranges above,
 * -ENOSPC when @buf is too small.
 */
int guest_dt_build(void *buf, size_t size, const struct guest_dt_params *p);

#endif
