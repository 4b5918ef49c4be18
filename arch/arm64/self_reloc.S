/*
 * Start-up of a position-independent image linked at 0: applying its
 * relative relocations for the address it was loaded at, and clearing
 * its BSS. Shared by the hypervisor (boot/head.S) and the test guests'
 * runtime (tests/guests/rt/start.S); both linker scripts define
 * _start, __rela_start/__rela_end and __bss_start/__bss_end.
 */
#include "arch/arm64/asm.h"

#define R_AARCH64_RELATIVE 1027

	.text
/*
 * Apply the R_AARCH64_RELATIVE relocations for the load address. The image
 * is linked at 0, so each one is *(base + offset) = base + addend.
 * R_AARCH64_NONE entries (left by --gc-sections) are skipped; the build
 * (scripts/check-image.sh) rejects an image with any other type.
 */
FUNC(relocate)
	adr_l	x9, _start
	adr_l	x10, __rela_start
	adr_l	x11, __rela_end
1:	cmp	x10, x11
	b.hs	2f
	ldp	x12, x13, [x10], #16	/* r_offset, r_info */
	ldr	x14, [x10], #8		/* r_addend */
	cmp	x13, #R_AARCH64_RELATIVE
	b.ne	1b
	add	x14, x14, x9
	str	x14, [x9, x12]
	b	1b
2:	ret
ENDFUNC(relocate)

FUNC(clear_bss)
	adr_l	x9, __bss_start
	adr_l	x10, __bss_end
1:	cmp	x9, x10
	b.hs	2f
	stp	xzr, xzr, [x9], #16	/* both ends are 16-byte aligned */
	b	1b
2:	ret
ENDFUNC(clear_bss)
