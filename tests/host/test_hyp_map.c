/*
 * The EL2 identity map builder (mm/hyp_map.c), run on the host: table
 * pages are host memory, so a "physical" table address is a host pointer
 * and the test walks the tables the way the MMU would.
 */
#include "arch/arm64/pte.h"
#include "lib/errno.h"
#include "mm/hyp_map.h"
#include "tests/host/test.h"

#define GiB (1ULL << 30)
#define PA_36 1    /* PARange encodings */
#define PA_40 2
#define MiB (1ULL << 20)

/* The leaf mapping @va: its descriptor and level, or 0 if unmapped. */
static u64 walk(u64 va, unsigned int *level)
{
	u64 mair, tcr, ttbr;
	unsigned int va_bits, l;
	u64 *table;

	hyp_map_regs(&mair, &tcr, &ttbr);
	va_bits = 64 - (tcr & 0x3f);
	l = va_bits > 39 ? 0 : va_bits > 30 ? 1 : 2;
	for (table = (u64 *)ttbr;; l++) {
		u64 pte = table[pt_index(va, l)];

		if (!pte_is_valid(pte))
			return 0;
		if (!pte_is_table(pte, l)) {
			*level = l;
			return pte;
		}
		table = (u64 *)pte_addr(pte);
	}
}

static bool maps(u64 va, unsigned int want_level, u64 want_attrs_mask, u64 want_attrs)
{
	unsigned int level;
	u64 pte = walk(va, &level);

	return pte && level == want_level &&
	       (pte & want_attrs_mask) == want_attrs &&
	       pte_addr(pte) == (va & ~(pt_level_size(level) - 1));
}

#define ATTR_MASK (PTE_ATTRINDX(7) | PTE_AP_RO | PTE_XN | PTE_AF)
#define RW_ATTRS (PTE_ATTRINDX(MT_NORMAL) | PTE_AF | PTE_XN)
#define DEV_ATTRS (PTE_ATTRINDX(MT_DEVICE) | PTE_AF | PTE_XN)
#define TEXT_ATTRS (PTE_ATTRINDX(MT_NORMAL) | PTE_AF | PTE_AP_RO)

TEST(aligned_gigabyte_is_one_block)
{
	hyp_map_init(PA_40);
	CHECK_EQ(hyp_map_range(GiB, GiB, HYP_RW), 0);
	CHECK(maps(GiB, 1, ATTR_MASK, RW_ATTRS));
	CHECK(maps(2 * GiB - 4096, 1, ATTR_MASK, RW_ATTRS));
	CHECK(!walk(2 * GiB, &(unsigned int){ 0 }));
	CHECK(!walk(GiB - 4096, &(unsigned int){ 0 }));
}

TEST(unaligned_range_uses_pages_then_blocks_then_pages)
{
	u64 base = 0x40000000 + 0x1ff000, end = 0x40000000 + 6 * MiB + 0x3000;

	hyp_map_init(PA_40);
	CHECK_EQ(hyp_map_range(base, end - base, HYP_RW), 0);
	CHECK(maps(base, 3, ATTR_MASK, RW_ATTRS));            /* head page */
	CHECK(maps(0x40200000, 2, ATTR_MASK, RW_ATTRS));      /* 2 MiB blocks */
	CHECK(maps(0x40400000 + 0x1fffff, 2, ATTR_MASK, RW_ATTRS));
	CHECK(maps(0x40600000, 3, ATTR_MASK, RW_ATTRS));      /* tail pages */
	CHECK(maps(0x40602000, 3, ATTR_MASK, RW_ATTRS));
	CHECK(!walk(0x40603000, &(unsigned int){ 0 }));
	CHECK(!walk(base - 4096, &(unsigned int){ 0 }));
}

TEST(protections_are_write_xor_execute)
{
	hyp_map_init(PA_40);
	CHECK_EQ(hyp_map_range(0x40000000, 0x3000, HYP_TEXT), 0);
	CHECK_EQ(hyp_map_range(0x40003000, 0x1000, HYP_RO), 0);
	CHECK_EQ(hyp_map_range(0x09000000, 0x1000, HYP_DEVICE), 0);
	CHECK(maps(0x40002000, 3, ATTR_MASK, TEXT_ATTRS));
	CHECK(maps(0x40003000, 3, ATTR_MASK, RW_ATTRS | PTE_AP_RO));
	CHECK(maps(0x09000000, 3, ATTR_MASK, DEV_ATTRS));
}

TEST(remapping_the_same_way_is_allowed_another_way_is_not)
{
	hyp_map_init(PA_40);
	CHECK_EQ(hyp_map_range(0x09000000, 0x1000, HYP_DEVICE), 0);
	CHECK_EQ(hyp_map_range(0x09000000, 0x1000, HYP_DEVICE), 0);
	CHECK_EQ(hyp_map_range(0x09000000, 0x1000, HYP_RW), -EEXIST);
	/* A page inside an existing block cannot be mapped on its own. */
	CHECK_EQ(hyp_map_range(0x40000000, 2 * MiB, HYP_RW), 0);
	CHECK_EQ(hyp_map_range(0x40001000, 0x1000, HYP_DEVICE), -EEXIST);
}

TEST(running_out_of_table_pages_is_enomem)
{
	int r = 0;

	hyp_map_init(PA_40);
	/* Each page in its own 1 GiB region needs two new tables. */
	for (u64 i = 0; i < 64 && r == 0; i++)
		r = hyp_map_range(i * GiB + 0x1000, 0x1000, HYP_RW);
	CHECK_EQ(r, -ENOMEM);
}

TEST(addresses_beyond_the_va_size_are_refused)
{
	hyp_map_init(PA_36);
	CHECK_EQ(hyp_map_range((1ULL << 36) - 0x1000, 0x2000, HYP_RW), -ERANGE);
	CHECK_EQ(hyp_map_range((1ULL << 36) - 0x1000, 0x1000, HYP_RW), 0);
}

TEST(init_forgets_earlier_mappings)
{
	hyp_map_init(PA_40);
	CHECK_EQ(hyp_map_range(0x09000000, 0x1000, HYP_DEVICE), 0);
	hyp_map_init(PA_40);
	CHECK(!walk(0x09000000, &(unsigned int){ 0 }));
	CHECK_EQ(hyp_map_tables_used(), 1);
}

TEST(tcr_encodes_the_va_and_pa_sizes)
{
	u64 mair, tcr, ttbr;

	hyp_map_init(PA_40);
	hyp_map_regs(&mair, &tcr, &ttbr);
	CHECK_EQ(tcr & 0x3f, 64 - 40);           /* T0SZ */
	CHECK_EQ((tcr >> 16) & 7, 2);            /* PS: 40 bits */
	CHECK_EQ((tcr >> 14) & 3, 0);            /* TG0: 4 KiB */
	CHECK_EQ(mair & 0xff, MAIR_DEVICE_nGnRE);
	CHECK_EQ((mair >> 8) & 0xff, MAIR_NORMAL_WB);
}

TEST(a_52_bit_cpu_gets_a_48_bit_map)
{
	u64 mair, tcr, ttbr;

	hyp_map_init(6);                         /* PARange 0b0110: 52 bits */
	hyp_map_regs(&mair, &tcr, &ttbr);
	CHECK_EQ(tcr & 0x3f, 64 - 48);
	CHECK_EQ((tcr >> 16) & 7, PARANGE_48);
}
