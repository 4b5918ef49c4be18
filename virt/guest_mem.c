/*
 * Hypervisor writes into guest RAM (see guest_mem.h). Guest RAM is one
 * physically contiguous block, mapped at EL2 by the boot identity map.
 */
#include "arch/arm64/cache.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "virt/guest_mem.h"

static void *ram_va(const struct vm *vm, u64 ipa)
{
	return (void *)(vm->ram_pa + (ipa - GUEST_RAM_BASE));
}

void *guest_write_begin(struct vm *vm, u64 ipa, u64 len)
{
	u64 off = ipa - GUEST_RAM_BASE;

	if (ipa < GUEST_RAM_BASE || off > vm->ram_size || len > vm->ram_size - off)
		return NULL;
	return ram_va(vm, ipa);
}

void guest_write_done(struct vm *vm, u64 ipa, u64 len)
{
	/* The guest may run with its MMU and caches off: its accesses then
	 * go to memory, past any line we just dirtied. */
	dcache_clean_inval_poc(ram_va(vm, ipa), len);
	/* Logged after the bytes are in place: a consumer that finds the
	 * page in the log and then reads it sees them (DESIGN §7). */
	dirty_log_hyp_write(&vm->dirty, ipa, len);
}

int guest_write(struct vm *vm, u64 ipa, const void *src, u64 len)
{
	void *dst = guest_write_begin(vm, ipa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	guest_write_done(vm, ipa, len);
	return 0;
}
