/*
 * Device register access. Accesses are single instructions on Device
 * memory; ordering against normal memory is the caller's to state with a
 * barrier where it matters (e.g. before an SGI that publishes data).
 */
#ifndef ARCH_ARM64_MMIO_H
#define ARCH_ARM64_MMIO_H

#include "lib/types.h"

static inline u32 mmio_read32(paddr_t addr)
{
	return *(volatile u32 *)addr;
}

static inline void mmio_write32(paddr_t addr, u32 v)
{
	*(volatile u32 *)addr = v;
}

static inline u64 mmio_read64(paddr_t addr)
{
	return *(volatile u64 *)addr;
}

static inline void mmio_write64(paddr_t addr, u64 v)
{
	*(volatile u64 *)addr = v;
}

static inline void mmio_write8(paddr_t addr, u8 v)
{
	*(volatile u8 *)addr = v;
}

static inline u8 mmio_read8(paddr_t addr)
{
	return *(volatile u8 *)addr;
}

#endif
