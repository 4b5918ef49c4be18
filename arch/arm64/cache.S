/* Data cache maintenance loops over the CTR_EL0 minimum line size. */
#include "arch/arm64/asm.h"

/* x0 = start, x1 = size; leaves x2 = line size, x3 = end, x0 = aligned start */
.macro dcache_range_setup
	mrs	x3, ctr_el0
	ubfx	x3, x3, #16, #4		/* DminLine: log2(words per line) */
	mov	x2, #4
	lsl	x2, x2, x3		/* line size in bytes */
	add	x3, x0, x1		/* end */
	sub	x4, x2, #1
	bic	x0, x0, x4		/* align start down to a line */
.endm

	.text
FUNC(dcache_clean_inval_poc)
	dcache_range_setup
1:	cmp	x0, x3
	b.hs	2f
	dc	civac, x0
	add	x0, x0, x2
	b	1b
2:	dsb	sy			/* maintenance complete before return */
	ret
ENDFUNC(dcache_clean_inval_poc)

FUNC(dcache_inval_poc)
	dcache_range_setup
1:	cmp	x0, x3
	b.hs	2f
	dc	ivac, x0
	add	x0, x0, x2
	b	1b
2:	dsb	sy
	ret
ENDFUNC(dcache_inval_poc)

/* Invalidate every instruction cache to the point of unification, on
 * every CPU in the inner-shareable domain: new guest code is fetched
 * from memory, not from lines left by what was there before. */
FUNC(icache_inval_all)
	dsb	ish			/* the code's stores are complete first */
	ic	ialluis
	dsb	ish			/* invalidation complete everywhere */
	isb
	ret
ENDFUNC(icache_inval_all)
