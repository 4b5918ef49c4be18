/*
 * Decoding of ESR_ELx syndromes into words a person can read. Pure
 * functions: also built for the host tests.
 */
#ifndef ARCH_ARM64_ESR_H
#define ARCH_ARM64_ESR_H

#include "lib/types.h"

#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_IL(esr) (((esr) >> 25) & 1)
#define ESR_ISS(esr) ((esr) & 0x1ffffff)

#define EC_UNKNOWN 0x00
#define EC_WFX 0x01
#define EC_FP_ASIMD 0x07
#define EC_ILLEGAL 0x0e
#define EC_SVC64 0x15
#define EC_HVC64 0x16
#define EC_SMC64 0x17
#define EC_SYS64 0x18
#define EC_SVE 0x19
#define EC_IABT_LOW 0x20
#define EC_IABT_CUR 0x21
#define EC_PC_ALIGN 0x22
#define EC_DABT_LOW 0x24
#define EC_DABT_CUR 0x25
#define EC_SP_ALIGN 0x26
#define EC_SERROR 0x2f
#define EC_BRK64 0x3c

/* Data/instruction abort ISS fields */
#define ISS_ABT_FSC(iss) ((iss) & 0x3f)
#define ISS_DABT_WNR(iss) (((iss) >> 6) & 1)
#define ISS_DABT_ISV(iss) (((iss) >> 24) & 1)

/* Name of an exception class, e.g. "data abort (same EL)". */
const char *esr_class_name(u32 ec);
/* Name of a fault status code, e.g. "translation fault, level 3". */
const char *esr_fault_name(u32 fsc);
/*
 * One-line description of @esr (and @far where the class has a fault
 * address) into @buf; returns the length, as snprintf does.
 */
int esr_describe(u64 esr, u64 far, char *buf, size_t len);

#endif
