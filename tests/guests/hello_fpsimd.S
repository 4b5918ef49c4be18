/* hello's FP/SIMD trap loop: see hello_fpsimd.h. */
#include "arch/arm64/asm.h"
#include "tests/guests/hello_fpsimd.h"
#include "tests/guests/rt/pl011.h"
#include "tests/guests/rt/psci.h"

/* v<n> holds {SEED + n * STEP, ~(SEED + n * STEP)}. */
#define PATTERN_SEED 0x0123456789abcdef
#define PATTERN_STEP 0x1111111111111111
/* AHP, DN, FZ and RMode = towards zero: bits every FPCR has. */
#define FPCR_PATTERN 0x07c00000
/* QC and the cumulative IDC, IXC, UFC, OFC, DZC, IOC flags. */
#define FPSR_PATTERN 0x0800009f

#define ALL_V 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, \
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31

/* Put the byte in w@reg on the console (x21 = UART base). */
.macro uart_putc reg
8:	ldr	w12, [x21, #UART_FR]
	tbnz	w12, #UART_FR_TXFF_BIT, 8b
	str	\reg, [x21, #UART_DR]
.endm

	.text
FUNC(hello_fpsimd_traps)
	/* x19-x24 and d8-d15 are the caller's (AAPCS64). */
	stp	x19, x20, [sp, #-112]!
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	d8, d9, [sp, #48]
	stp	d10, d11, [sp, #64]
	stp	d12, d13, [sp, #80]
	stp	d14, d15, [sp, #96]
	mov	x19, x0			/* iterations left */
	mov	x20, x1			/* expected PSCI version */
	mov	x21, x2			/* UART */
	mov	x24, #0			/* iterations done */

	mov_q	x9, PATTERN_SEED
	mov_q	x10, PATTERN_STEP
	.irp	n, ALL_V
	fmov	d\n, x9
	mvn	x11, x9
	mov	v\n\().d[1], x11
	add	x9, x9, x10
	.endr
	mrs	x22, fpcr		/* the caller's, restored at the end */
	mov_q	x9, FPCR_PATTERN
	msr	fpcr, x9
	mrs	x23, fpsr
	mov_q	x9, FPSR_PATTERN
	msr	fpsr, x9

1:	mov	w0, #PSCI_FN_VERSION	/* x0-x17 are the callee's (SMCCC) */
	hvc	#0
	cmp	w0, w20
	mov	x0, #FPSIMD_BAD_PSCI
	b.ne	9f
	add	x24, x24, #1
	mov	w9, #'.'
	uart_putc w9
	tst	x24, #(FPSIMD_DOTS_PER_LINE - 1)
	b.ne	2f
	mov	w9, #'\r'
	uart_putc w9
	mov	w9, #'\n'
	uart_putc w9
2:	subs	x19, x19, #1
	b.ne	1b
	tst	x24, #(FPSIMD_DOTS_PER_LINE - 1)
	b.eq	3f			/* the line is already ended */
	mov	w9, #'\r'
	uart_putc w9
	mov	w9, #'\n'
	uart_putc w9

3:	mrs	x9, fpcr
	mov_q	x10, FPCR_PATTERN
	cmp	x9, x10
	mov	x0, #FPSIMD_BAD_FPCR
	b.ne	9f
	mrs	x9, fpsr
	mov_q	x10, FPSR_PATTERN
	cmp	x9, x10
	mov	x0, #FPSIMD_BAD_FPSR
	b.ne	9f
	mov_q	x9, PATTERN_SEED
	mov_q	x10, PATTERN_STEP
	.irp	n, ALL_V
	mov	x0, #(FPSIMD_BAD_V | \n)
	fmov	x12, d\n
	cmp	x12, x9
	b.ne	9f
	mov	x12, v\n\().d[1]
	mvn	x11, x9
	cmp	x12, x11
	b.ne	9f
	add	x9, x9, x10
	.endr
	mov	x0, #0

9:	msr	fpcr, x22
	msr	fpsr, x23
	ldp	d14, d15, [sp, #96]
	ldp	d12, d13, [sp, #80]
	ldp	d10, d11, [sp, #64]
	ldp	d8, d9, [sp, #48]
	ldp	x23, x24, [sp, #32]
	ldp	x21, x22, [sp, #16]
	ldp	x19, x20, [sp], #112
	ret
ENDFUNC(hello_fpsimd_traps)
