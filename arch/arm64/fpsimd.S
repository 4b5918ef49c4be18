/*
 * FP/SIMD register reset for a vCPU about to start (el1_state.h). The
 * hypervisor itself never uses these registers (-mgeneral-regs-only), so
 * a running vCPU's FP/SIMD state is never saved or switched.
 */
#include "arch/arm64/asm.h"

	.arch_extension fp
	.arch_extension simd
	.text

FUNC(fpsimd_reset)
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	movi	v\n\().2d, #0
	.endr
	msr	fpcr, xzr
	msr	fpsr, xzr
	ret
ENDFUNC(fpsimd_reset)
