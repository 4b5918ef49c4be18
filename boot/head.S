/*
 * Image header and the first instructions of every CPU: leave EL3 if
 * entered there, put EL2 in a known state, relocate the image to where it
 * was loaded, clear BSS, find a stack and call C. The boot loader enters
 * at _start with the DTB address in x0 (Linux arm64 boot protocol);
 * secondary CPUs enter at secondary_entry with the MMU off.
 */
#include "arch/arm64/asm.h"
#include "arch/arm64/sysreg.h"
#include "boot/boot_args.h"


	.section .text.head, "ax"
FUNC(_start)
	/* arm64 Linux Image header (Documentation/arch/arm64/booting). */
	b	primary_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	_image_size		/* image_size, BSS included */
	.quad	0xa			/* flags: LE, 4 KiB pages, anywhere in RAM */
	.quad	0, 0, 0			/* res2..res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */
ENDFUNC(_start)

	.text
/*
 * x19 = DTB, x20 = exception level we were entered at, x21 = the counter
 * at our first instruction (boot time is measured from there); all three
 * survive into boot_primary()/boot_wrong_el().
 */
FUNC(primary_entry)
	mrs	x21, cntpct_el0
	mov	x19, x0
	mrs	x20, CurrentEL
	lsr	x20, x20, #2
	bl	leave_el3
	mrs	x9, CurrentEL
	cmp	x9, #(2 << 2)
	b.ne	1f
	bl	el2_reset_state		/* MMU off before we write memory */
1:	bl	relocate
	bl	clear_bss
	adr_l	x0, cpu_stacks
	ldr	x1, =CONFIG_STACK_SIZE
	add	sp, x0, x1		/* CPU 0's stack is the first slot */
	mov	x0, x19
	mov	x1, x20
	mrs	x2, CurrentEL
	cmp	x2, #(2 << 2)
	b.ne	boot_wrong_el		/* EL1: report and stop, in C */
	mov	x2, x21
	bl	boot_primary		/* does not return */
	b	.
ENDFUNC(primary_entry)

/*
 * Entry of every secondary CPU (PSCI CPU_ON or spin-table release). The
 * MMU is off, so secondary_boot_args is read from memory; the boot CPU
 * cleaned it to the point of coherency before releasing us.
 */
FUNC(secondary_entry)
	bl	leave_el3
	bl	el2_reset_state
	adr_l	x9, secondary_boot_args
	ldr	x0, [x9, #BOOT_ARGS_STACK_TOP]
	mov	sp, x0
	ldr	x0, [x9, #BOOT_ARGS_MAIR]
	ldr	x1, [x9, #BOOT_ARGS_TCR]
	ldr	x2, [x9, #BOOT_ARGS_TTBR]
	ldr	x3, [x9, #BOOT_ARGS_SCTLR]
	ldr	x19, [x9, #BOOT_ARGS_CPU_INDEX]
	bl	mmu_enable
	mov	x0, x19
	bl	secondary_main		/* does not return */
	b	.
ENDFUNC(secondary_entry)

/* If at EL3 (no firmware below us), make EL2 non-secure AArch64 and go
 * there; SMC is disabled since nothing at EL3 would answer it. */
FUNC(leave_el3)
	mrs	x9, CurrentEL
	cmp	x9, #(3 << 2)
	b.ne	1f
	mov_q	x9, (SCR_RES1 | SCR_NS | SCR_SMD | SCR_HCE | SCR_RW)
	msr	scr_el3, x9
	msr	cptr_el3, xzr
	mov	x9, #SPSR_EL2H_MASKED
	msr	spsr_el3, x9
	msr	elr_el3, x30		/* "return" to the caller, now at EL2 */
	isb
	eret
1:	ret
ENDFUNC(leave_el3)

/* EL2 with interrupts masked, MMU and caches off, little-endian, EL1 in
 * AArch64, physical interrupts routed to EL2, no FP trap, our vectors.
 * Nothing here needs a stack. */
FUNC(el2_reset_state)
	msr	daifset, #0xf
	mov_q	x9, (SCTLR_EL2_RES1 | SCTLR_SA)
	msr	sctlr_el2, x9
	mov_q	x9, HCR_EL2_HOST
	msr	hcr_el2, x9
	mov_q	x9, (CPTR_EL2_RES1 | CPTR_TZ | CPTR_TSM)	/* TFP = 0: no FP trap */
	msr	cptr_el2, x9
	adr_l	x9, vectors
	msr	vbar_el2, x9
	isb
	ret
ENDFUNC(el2_reset_state)

/*
 * mmu_enable(mair, tcr, ttbr0, sctlr): turn on EL2 stage-1 translation
 * with the given settings on this CPU.
 */
FUNC(mmu_enable)
	msr	mair_el2, x0
	msr	tcr_el2, x1
	msr	ttbr0_el2, x2
	isb				/* settings in place before the TLBI */
	tlbi	alle2			/* nothing cached from before us */
	ic	iallu			/* nor stale instructions */
	dsb	nsh			/* invalidations complete (this CPU) */
	isb
	msr	sctlr_el2, x3
	isb				/* fetch with the MMU on from here */
	ret
ENDFUNC(mmu_enable)
