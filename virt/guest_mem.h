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

/*
 * The same write made in place, for a producer that fills guest memory
 * itself (a harvest writing entries straight into a buffer): the EL2
 * address of [ipa, ipa + len) of @vm's RAM, or NULL if any byte is
 * outside it. Write only through it, only inside that range, then call
 * guest_write_done() once with the range actually written (it may be
 * shorter, from the same @ipa). The guest may change the memory at any
 * time: never read back through the pointer.
 */
void *guest_write_begin(struct vm *vm, u64 ipa, u64 len);

/* Ends a guest_write_begin() write of [@ipa, @ipa + @len): the bytes to
 * the point of coherency, then the pages logged. */
void guest_write_done(struct vm *vm, u64 ipa, u64 len);

#endif
