/* ESR_EL2 decoding as the crash dump prints it (arch/arm64/esr.c). */
#include "arch/arm64/esr.h"
#include "tests/host/test.h"

/* ESR for class @ec with IL set and @iss. */
static u64 esr(u32 ec, u32 iss)
{
	return (u64)ec << 26 | 1u << 25 | iss;
}

TEST(data_abort_names_fault_level_direction_and_address)
{
	char buf[160];

	/* DFSC 0b000111: translation fault, level 3; WnR set. */
	esr_describe(esr(EC_DABT_CUR, 0x47), 0x1234000, buf, sizeof(buf));
	CHECK_STREQ(buf, "EC 0x25 data abort (same EL): translation fault, "
			 "level 3, write at 0x0000000001234000");
}

TEST(lower_el_read_permission_fault)
{
	char buf[160];

	/* DFSC 0b001101: permission fault, level 1; WnR clear. */
	esr_describe(esr(EC_DABT_LOW, 0x0d), 0x80000000, buf, sizeof(buf));
	CHECK_STREQ(buf, "EC 0x24 data abort (lower EL): permission fault, "
			 "level 1, read at 0x0000000080000000");
}

TEST(instruction_abort_has_no_direction)
{
	char buf[160];

	esr_describe(esr(EC_IABT_CUR, 0x0a), 0x40, buf, sizeof(buf));
	CHECK_STREQ(buf, "EC 0x21 instruction abort (same EL): access flag "
			 "fault, level 2 at 0x0000000000000040");
}

TEST(alignment_and_external_aborts_have_no_level)
{
	CHECK_STREQ(esr_fault_name(0x21), "alignment fault");
	CHECK_STREQ(esr_fault_name(0x10), "synchronous external abort");
	CHECK_STREQ(esr_fault_name(0x15), "synchronous external abort on table walk");
	CHECK_STREQ(esr_fault_name(0x3f), "unknown fault status");
}

TEST(non_abort_classes_print_the_iss)
{
	char buf[160];

	esr_describe(esr(EC_HVC64, 0x1234), 0, buf, sizeof(buf));
	CHECK_STREQ(buf, "EC 0x16 HVC (AArch64), ISS 0x0001234");
	esr_describe(esr(0x3b, 0), 0, buf, sizeof(buf));
	CHECK_STREQ(buf, "EC 0x3b reserved/unhandled class, ISS 0x0000000");
}

TEST(every_class_and_status_has_a_name)
{
	for (u32 ec = 0; ec < 64; ec++)
		CHECK(esr_class_name(ec) && esr_class_name(ec)[0]);
	for (u32 fsc = 0; fsc < 64; fsc++)
		CHECK(esr_fault_name(fsc) && esr_fault_name(fsc)[0]);
}

TEST(truncated_buffer_stays_terminated)
{
	char buf[8];
	int n = esr_describe(esr(EC_DABT_CUR, 0x47), 0, buf, sizeof(buf));

	CHECK(n > (int)sizeof(buf));
	CHECK_EQ(strlen(buf), sizeof(buf) - 1);
}
