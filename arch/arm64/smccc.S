/* SMCCC conduits. x4-x17 may be clobbered by the callee; the C caller
 * already treats them as caller-saved. */
#include "arch/arm64/asm.h"

	.text
FUNC(smccc_smc)
	smc	#0
	ret
ENDFUNC(smccc_smc)

FUNC(smccc_hvc)
	hvc	#0
	ret
ENDFUNC(smccc_hvc)
