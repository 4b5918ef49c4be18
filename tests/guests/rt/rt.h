/*
 * Runtime of the bare-metal test guests: what is set up before a guest's
 * guest_main() runs (console, identity map with caches on, vectors, the
 * machine read from the DTB, the GIC) and the services a guest calls.
 * Guests run at EL1 on the platform of virt/guest_map.h.
 */
#ifndef TESTS_GUESTS_RT_RT_H
#define TESTS_GUESTS_RT_RT_H

#define RT_MAX_CPUS 8             /* as VM_MAX_VCPUS */
#define RT_STACK_SIZE 0x4000      /* per vCPU */
/* The identity map (start.S): addresses below 2^RT_VA_BITS; the first
 * RT_DEVICE_END bytes are Device memory and never executable, the rest
 * Normal memory. */
#define RT_VA_BITS 39
#define RT_DEVICE_END 0x40000000

#ifndef __ASSEMBLY__
#include "arch/arm64/trap_frame.h"
#include "boot/board.h"
#include "lib/compiler.h"
#include "lib/console.h"          /* printf() for guests */
#include "lib/types.h"

/* Each guest defines these two. guest_main() runs on the boot vCPU with
 * interrupts masked; returning from it is a PASS. */
extern const char guest_name[];
void guest_main(void);

/* The machine as the DTB describes it, read before guest_main(). */
extern struct board rt_board;
extern const void *rt_dtb;

/* The loaded image, page-table and stacks included: [start, end). */
paddr_t rt_image_start(void);
paddr_t rt_image_end(void);

/* The one verdict line, then PSCI SYSTEM_OFF. A second verdict from
 * another vCPU is not printed: that vCPU just stops. rt_pass_note()
 * adds a word or two: "<guest>: PASS <note>". */
__noreturn void rt_pass(void);
__noreturn __printf(1, 2) void rt_pass_note(const char *fmt, ...);
__noreturn __printf(1, 2) void rt_fail(const char *fmt, ...);

/*
 * Makes [@base, @base + @size) of the identity map read-only and never
 * executable, on every vCPU: whole 1 GiB blocks of Normal memory, so
 * @base is GiB aligned, above RT_DEVICE_END, and the range ends below
 * 2^RT_VA_BITS. For a window onto memory that stage 2 gives read-only
 * (another VM's RAM): a stray write faults here, in the guest, with a
 * report. Returns 0 or -EINVAL.
 */
int rt_map_readonly(paddr_t base, u64 size);

/* vCPUs: index 0 is the boot vCPU, then the other /cpus in DTB order. */
unsigned int rt_nr_cpus(void);
unsigned int rt_cpu_index(void);
u64 rt_cpu_mpidr(unsigned int cpu);

/* Start vCPU @cpu with PSCI CPU_ON. It initialises its GIC CPU
 * interface, runs @fn(@cpu) with interrupts masked and calls CPU_OFF when
 * @fn returns. Returns the PSCI status. */
typedef void (*rt_cpu_fn)(unsigned int cpu);
s64 rt_cpu_on(unsigned int cpu, rt_cpu_fn fn);

/*
 * Bootargs (/chosen/bootargs) are space-separated key=value words.
 * rt_arg() finds @key: 0 with *@val and *@len set, or -ENOENT. rt_arg_u64()
 * also parses the value (decimal or 0x hex): -EINVAL if it is not one.
 */
int rt_arg(const char *key, const char **val, size_t *len);
int rt_arg_u64(const char *key, u64 *val);
/* @key's number, or @dflt if it is absent; a value that is not a number
 * fails the guest with a message naming @key. */
u64 rt_arg_u64_or(const char *key, u64 dflt);

/* Any exception but an IRQ, taken from this guest's own code (@kind:
 * VEC_CUR_SPX << 2 | VEC_SYNC or VEC_SERROR), goes to the hook first:
 * true means handled (resume at @f->elr), false reports it as
 * unexpected, which fails the guest. */
typedef bool (*rt_exception_hook)(struct trap_frame *f, unsigned int kind);
void rt_set_exception_hook(rt_exception_hook hook);

/* Handler for a private interrupt (INTID < 32), on every vCPU. @source is
 * the sending vCPU of an SGI where the GIC says (v2), else -1. An
 * interrupt without a handler fails the guest. */
#define RT_NR_PRIVATE_IRQS 32
typedef void (*rt_irq_fn)(u32 intid, int source);
void rt_irq_set_handler(u32 intid, rt_irq_fn fn);

/* Called from vectors.S with the saved frame and the VEC_* kind. */
void rt_exception(struct trap_frame *f, unsigned int kind);
/* Called from start.S: boot vCPU with the DTB, others with their index. */
__noreturn void rt_main_primary(const void *dtb);
__noreturn void rt_main_secondary(unsigned int cpu);
/* start.S: where CPU_ON starts a vCPU (x0 = its index). */
void rt_secondary_entry(void);
#endif

#endif
