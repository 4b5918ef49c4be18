/*
 * The one door through which the hypervisor writes into a guest's memory
 * (image loading now; device emulation and virtio later). Every such
 * write is bounds-checked against the VM's RAM here, and logged in the
 * VM's dirty log (mm/dirty_log.h) after the bytes are in place.
 */
#ifndef VIRT_GUEST_MEM_H
#define VIRT_GUEST_MEM_H

#include "virt/vm.h"

/* Copies @len bytes to guest physical @ipa of @vm. Returns 0, or -EFAULT
 * if any byte is outside the VM's RAM (nothing is written then). The
 * bytes reach the point of coherency, so a guest running with its caches
 * off reads them. */
int guest_write(struct vm *vm, u64 ipa, const void *src, u64 len);

#endif
