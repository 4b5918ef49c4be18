/* What EL2 does with exceptions it takes: IRQs and the crash dump. */
#include "arch/arm64/esr.h"
#include "arch/arm64/trap_frame.h"
#include "drivers/gic.h"
#include "lib/console.h"
#include "lib/panic.h"

static const char *const vec_sources[] = {
	"EL2 with SP_EL0", "EL2", "lower EL (AArch64)", "lower EL (AArch32)",
};
static const char *const vec_types[] = { "synchronous", "IRQ", "FIQ", "SError" };

extern char _start[], _end[];

/* ELR as an offset into the image, for addr2line on hypervisor.elf. */
static void print_image_offset(u64 addr)
{
	if (addr >= (u64)_start && addr < (u64)_end)
		printf("  ELR is hypervisor.elf+0x%llx (addr2line -e build/hypervisor.elf 0x%llx)\n",
		       (unsigned long long)(addr - (u64)_start),
		       (unsigned long long)(addr - (u64)_start));
}

static void dump_frame(const struct trap_frame *f)
{
	char esr[160];

	esr_describe(f->esr, f->far, esr, sizeof(esr));
	printf("  ESR 0x%016llx  %s\n", (unsigned long long)f->esr, esr);
	print_image_offset(f->elr);
	printf("  ELR 0x%016llx  SPSR 0x%016llx  FAR 0x%016llx\n",
	       (unsigned long long)f->elr, (unsigned long long)f->spsr,
	       (unsigned long long)f->far);
	for (int i = 0; i < 30; i += 2)
		printf("  x%-2d 0x%016llx  x%-2d 0x%016llx\n", i,
		       (unsigned long long)f->x[i], i + 1,
		       (unsigned long long)f->x[i + 1]);
	printf("  x30 0x%016llx  sp  0x%016llx\n",
	       (unsigned long long)f->x[30], (unsigned long long)f->sp);
}

void exception_unexpected(struct trap_frame *f, unsigned int kind)
{
	console_enter_panic();
	printf("\nhv: unexpected %s exception from %s\n", vec_types[kind & 3],
	       vec_sources[(kind >> 2) & 3]);
	dump_frame(f);
	panic("unexpected exception");
}

void exception_irq(struct trap_frame *f)
{
	gic_handle_irq();
}
