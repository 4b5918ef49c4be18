/*
 * Test-guest runtime in C: console, the machine from the DTB, vCPU
 * numbering and start-up, verdicts, and exception dispatch.
 */
#include "tests/guests/rt/rt.h"

#include <stdarg.h>

#include "arch/arm64/barrier.h"
#include "arch/arm64/esr.h"
#include "arch/arm64/irq.h"
#include "arch/arm64/mmio.h"
#include "arch/arm64/pte.h"
#include "arch/arm64/sysreg.h"
#include "lib/arch_hooks.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "tests/guests/rt/gic.h"
#include "tests/guests/rt/pl011.h"
#include "tests/guests/rt/psci.h"
#include "virt/guest_map.h"

#define REASON_MAX 256

struct board rt_board;
const void *rt_dtb;

/* Linker and start.S symbols. */
extern char _start[], _end[];
extern u8 rt_stacks[];

/* vCPU i's MPIDR affinity; [0] is the boot vCPU. Written before any
 * other vCPU starts, read-only after. */
static u64 cpu_mpidr[RT_MAX_CPUS];
static unsigned int nr_cpus;
/* What vCPU i runs: stored by rt_cpu_on() before CPU_ON. */
static rt_cpu_fn cpu_fn[RT_MAX_CPUS];
static rt_exception_hook exception_hook;
static u32 verdict_given;

static void uart_putc(char c)
{
	while (mmio_read32(GUEST_UART_BASE + UART_FR) & (1u << UART_FR_TXFF_BIT))
		;
	mmio_write32(GUEST_UART_BASE + UART_DR, (u8)c);
}

/* lib/console.c masks interrupts around its lock with these. */
u64 arch_irq_save(void)
{
	return irq_save();
}

void arch_irq_restore(u64 flags)
{
	irq_restore(flags);
}

paddr_t rt_image_start(void)
{
	return (paddr_t)_start;
}

paddr_t rt_image_end(void)
{
	return (paddr_t)_end;
}

/* ------------------------------------------------------------ verdicts */

/* True for the first caller only: one verdict per run. Relaxed: the
 * flag guards nothing but itself. */
static bool claim_verdict(void)
{
	return !__atomic_exchange_n(&verdict_given, 1, __ATOMIC_RELAXED);
}

static __noreturn void stop_here(void)
{
	irq_disable();
	for (;;)
		wfi();
}

static __noreturn void power_off(void)
{
	irq_disable();
	psci_system_off();
	printf("%s: PSCI SYSTEM_OFF returned\n", guest_name);
	stop_here();
}

void rt_pass(void)
{
	if (!claim_verdict())
		stop_here();
	printf("%s: PASS\n", guest_name);
	power_off();
}

void rt_pass_note(const char *fmt, ...)
{
	char note[REASON_MAX];
	va_list ap;

	if (!claim_verdict())
		stop_here();
	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	printf("%s: PASS %s\n", guest_name, note);
	power_off();
}

void rt_fail(const char *fmt, ...)
{
	char reason[REASON_MAX];
	va_list ap;

	if (!claim_verdict())
		stop_here();
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	printf("%s: FAIL: %s\n", guest_name, reason);
	power_off();
}

/* An SError (say, one a hypervisor injects) is reported, not left pending. */
static void serror_unmask(void)
{
	__asm__ volatile("msr daifclr, #4" ::: "memory");
}

/* ---------------------------------------------------------------- vCPUs */

unsigned int rt_nr_cpus(void)
{
	return nr_cpus;
}

/* Each vCPU runs on its own slot of rt_stacks (exceptions too: EL1h). */
unsigned int rt_cpu_index(void)
{
	u64 sp;

	__asm__("mov %0, sp" : "=r"(sp));
	return (unsigned int)((sp - 1 - (u64)rt_stacks) / RT_STACK_SIZE);
}

u64 rt_cpu_mpidr(unsigned int cpu)
{
	return cpu < nr_cpus ? cpu_mpidr[cpu] : ~0ULL;
}

/* The boot vCPU first, then every other CPU of the DTB in its order. */
static void number_cpus(void)
{
	u64 self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
	bool found = false;

	cpu_mpidr[0] = self;
	nr_cpus = 1;
	for (unsigned int i = 0; i < rt_board.ncpus; i++) {
		u64 m = rt_board.cpus[i].mpidr;

		if (m == self) {
			found = true;
			continue;
		}
		if (nr_cpus == RT_MAX_CPUS)
			rt_fail("DTB lists %u CPUs, the runtime takes %u",
				rt_board.ncpus, RT_MAX_CPUS);
		cpu_mpidr[nr_cpus++] = m;
	}
	if (!found)
		rt_fail("boot vCPU's MPIDR 0x%llx is not in the DTB's /cpus",
			(unsigned long long)self);
}

s64 rt_cpu_on(unsigned int cpu, rt_cpu_fn fn)
{
	if (cpu == 0 || cpu >= nr_cpus)
		rt_fail("CPU_ON of vCPU %u: not a secondary vCPU", cpu);
	/* Release: pairs with the acquire in rt_main_secondary(). */
	__atomic_store_n(&cpu_fn[cpu], fn, __ATOMIC_RELEASE);
	dsb(ish);    /* ... and is visible before the call starts the vCPU */
	return psci_cpu_on(cpu_mpidr[cpu], (u64)rt_secondary_entry, cpu);
}

void rt_main_secondary(unsigned int cpu)
{
	/* Acquire: pairs with the release in rt_cpu_on(). */
	rt_cpu_fn fn = __atomic_load_n(&cpu_fn[cpu], __ATOMIC_ACQUIRE);
	s64 r;

	serror_unmask();
	if (cpu >= nr_cpus || !fn)
		rt_fail("vCPU %u started with nothing to run", cpu);
	gic_init_cpu(cpu);
	fn(cpu);
	irq_disable();
	r = psci_cpu_off();
	rt_fail("vCPU %u: PSCI CPU_OFF returned %lld", cpu, (long long)r);
}

void rt_main_primary(const void *dtb)
{
	char err[128];

	console_set_sink(uart_putc);
	serror_unmask();
	rt_dtb = dtb;
	if (board_from_fdt(dtb, &rt_board, err, sizeof(err)))
		rt_fail("device tree at %p: %s", dtb, err);
	number_cpus();
	gic_init();
	printf("%s: %u vCPU(s), %s, bootargs \"%s\"\n", guest_name, nr_cpus,
	       gic_name(), rt_board.bootargs ? rt_board.bootargs : "");
	guest_main();
	rt_pass();
}

/* --------------------------------------------------------- the map */

/* start.S: the level-1 table of 1 GiB blocks, one entry per GiB. */
extern u64 rt_pgtable[];
#define RT_GIB_SHIFT 30
#define RT_PTE_PXN (1ULL << 53)       /* EL1 stage 1: never executable at EL1 */

int rt_map_readonly(paddr_t base, u64 size)
{
	u64 gib = 1ULL << RT_GIB_SHIFT;

	if ((base & (gib - 1)) || base < RT_DEVICE_END || !size ||
	    size > (1ULL << RT_VA_BITS) - base)
		return -EINVAL;
	for (u64 i = base >> RT_GIB_SHIFT; i <= (base + size - 1) >> RT_GIB_SHIFT; i++)
		WRITE_ONCE(rt_pgtable[i], rt_pgtable[i] | PTE_AP_RO | RT_PTE_PXN);
	/* The walks read the table through the caches (TCR_EL1 IRGN0/ORGN0
	 * write-back): the stores are complete for them after the DSB, then
	 * every vCPU's TLB forgets the writable blocks. */
	dsb(ishst);
	__asm__ volatile("tlbi vmalle1is" ::: "memory");
	dsb(ish);
	isb();
	return 0;
}

/* ----------------------------------------------------------- exceptions */

void rt_set_exception_hook(rt_exception_hook hook)
{
	exception_hook = hook;
}

static const char *const vector_source[] = {
	"current EL with SP0", "current EL", "lower EL (AArch64)",
	"lower EL (AArch32)",
};
static const char *const vector_type[] = { "synchronous", "IRQ", "FIQ", "SError" };

void rt_exception(struct trap_frame *f, unsigned int kind)
{
	char what[128];

	if (kind == (VEC_CUR_SPX << 2 | VEC_IRQ)) {
		gic_handle_irqs();
		return;
	}
	if ((kind >> 2) == VEC_CUR_SPX && exception_hook && exception_hook(f, kind))
		return;
	/* Heard even if this vCPU was inside the console when it faulted. */
	console_enter_panic();
	esr_describe(f->esr, f->far, what, sizeof(what));
	printf("%s: unexpected %s exception from %s on vCPU %u: %s\n"
	       "  ELR 0x%llx (image +0x%llx), SPSR 0x%llx, SP 0x%llx, LR 0x%llx\n",
	       guest_name, vector_type[kind & 3], vector_source[(kind >> 2) & 3],
	       rt_cpu_index(), what,
	       (unsigned long long)f->elr,
	       (unsigned long long)(f->elr - rt_image_start()),
	       (unsigned long long)f->spsr, (unsigned long long)f->sp,
	       (unsigned long long)f->x[30]);
	rt_fail("unexpected exception (ESR 0x%llx at ELR 0x%llx)",
		(unsigned long long)f->esr, (unsigned long long)f->elr);
}
