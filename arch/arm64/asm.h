/* Assembler macros shared by the .S files. */
#ifndef ARCH_ARM64_ASM_H
#define ARCH_ARM64_ASM_H

#ifdef __ASSEMBLY__

/* PC-relative address of a symbol anywhere within +-4 GiB. */
.macro adr_l reg, sym
	adrp	\reg, \sym
	add	\reg, \reg, :lo12:\sym
.endm

/* Load a 64-bit constant (up to four movz/movk). */
.macro mov_q reg, val
	movz	\reg, #((\val) & 0xffff)
	movk	\reg, #(((\val) >> 16) & 0xffff), lsl #16
	movk	\reg, #(((\val) >> 32) & 0xffff), lsl #32
	movk	\reg, #(((\val) >> 48) & 0xffff), lsl #48
.endm

#define FUNC(name) .globl name; .type name, %function; name:
#define ENDFUNC(name) .size name, . - name

#endif
#endif
