/*
 * Tests of the emulated PL011 (virt/vpl011.c): the register model as a
 * guest driver sees it, the receive FIFO, the interrupt line as the vGIC
 * hears it, and the accesses that must stop the VM. The vGIC and the
 * console mux are recording stubs.
 */
#include <pthread.h>

#include "lib/errno.h"
#include "tests/host/test.h"
#include "virt/guest_map.h"
#include "virt/vgic.h"
#include "virt/vm.h"
#include "virt/vpl011.h"

/* Register offsets and bits, as the PL011 TRM gives them. */
enum {
	DR = 0x000, RSR = 0x004, FR = 0x018, ILPR = 0x020, IBRD = 0x024,
	FBRD = 0x028, LCR_H = 0x02c, CR = 0x030, IFLS = 0x034, IMSC = 0x038,
	RIS = 0x03c, MIS = 0x040, ICR = 0x044, DMACR = 0x048,
	PERIPHID0 = 0xfe0, CELLID0 = 0xff0,
};
#define FR_CTS 0x01
#define FR_DSR 0x02
#define FR_DCD 0x04
#define FR_BUSY 0x08
#define FR_RXFE 0x10
#define FR_TXFF 0x20
#define FR_RXFF 0x40
#define FR_TXFE 0x80
#define LCRH_FEN 0x10
#define CR_LBE 0x80
#define INT_RX 0x10
#define INT_TX 0x20
#define INT_RT 0x40
#define INT_OE 0x400
#define DR_OE 0x800
#define RSR_OE 0x08

static struct vm vm;
static struct vpl011 *u = &vm.uart;

/* ------------------------------------------------------------- stubs */

static struct {
	unsigned int calls;
	bool level;
	bool bad_args;       /* called for another VM, vCPU or INTID */
} irq;

void vgic_set_level(struct vm *v, struct vcpu *vcpu, u32 intid, bool level)
{
	if (v != &vm || vcpu || intid != GUEST_UART_INTID)
		irq.bad_args = true;
	irq.calls++;
	irq.level = level;
}

static char out[256];
static size_t nout;

void vconsole_putc(struct vm *v, u8 ch)
{
	if (v == &vm && nout + 1 < sizeof(out))
		out[nout++] = (char)ch;
}

/* ----------------------------------------------------------- helpers */

static void fresh(void)
{
	memset(&irq, 0, sizeof(irq));
	memset(out, 0, sizeof(out));
	nout = 0;
	vm.name = "guest";
	vpl011_init(u, &vm);
}

static u64 rd(u64 off)
{
	u64 v = 0xdeadbeef;

	if (vpl011_mmio(u, off, 4, false, &v))
		return 0xbad0bad0;
	return v;
}

static int wr(u64 off, u64 v)
{
	return vpl011_mmio(u, off, 4, true, &v);
}

/* FIFOs on, with the receive trigger at @eighths (IFLS encoding). */
static void fifo_on(unsigned int ifls_rx)
{
	wr(LCR_H, LCRH_FEN);
	wr(IFLS, ifls_rx << 3 | 2);
}

/* ------------------------------------------------------------- tests */

TEST(reset_state_as_the_trm_gives_it)
{
	fresh();
	CHECK_EQ(rd(FR), FR_TXFE | FR_RXFE | FR_CTS | FR_DSR | FR_DCD);
	CHECK_EQ(rd(CR), 0x300);
	CHECK_EQ(rd(IFLS), 0x12);
	CHECK_EQ(rd(LCR_H), 0);
	CHECK_EQ(rd(IMSC), 0);
	CHECK_EQ(rd(RIS), INT_TX);   /* transmit FIFO empty */
	CHECK_EQ(rd(MIS), 0);
	CHECK_EQ(rd(RSR), 0);
	CHECK_EQ(rd(IBRD), 0);
	CHECK_EQ(rd(FBRD), 0);
	CHECK_EQ(rd(DMACR), 0);
	CHECK_EQ(irq.calls, 0);
}

TEST(id_registers_name_an_arm_pl011)
{
	static const u8 id[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

	fresh();
	for (unsigned int i = 0; i < 8; i++)
		CHECK_EQ(rd(PERIPHID0 + 4 * i), id[i]);
	CHECK_EQ(CELLID0, PERIPHID0 + 16);
}

TEST(dr_write_goes_to_the_console_and_tx_is_never_full_or_busy)
{
	u64 v = 'h';

	fresh();
	CHECK_EQ(wr(DR, 'o'), 0);
	CHECK_EQ(vpl011_mmio(u, DR, 1, true, &v), 0);   /* earlycon: writeb */
	v = 0x121;                                        /* upper bits: ignored */
	CHECK_EQ(vpl011_mmio(u, DR, 2, true, &v), 0);
	CHECK_STREQ(out, "oh!");
	CHECK_EQ(rd(FR) & (FR_TXFF | FR_BUSY | FR_TXFE), FR_TXFE);
}

TEST(loopback_sends_transmitted_bytes_to_the_receiver)
{
	fresh();
	wr(CR, 0x301 | CR_LBE);
	wr(DR, 'x');
	CHECK_EQ(nout, 0);
	CHECK_EQ(rd(FR) & FR_RXFE, 0);
	CHECK_EQ(rd(DR), 'x');
}

TEST(fr_follows_the_receive_fifo)
{
	fresh();
	fifo_on(2);
	CHECK(rd(FR) & FR_RXFE);
	CHECK(vpl011_receive(u, 'a'));
	CHECK_EQ(rd(FR) & (FR_RXFE | FR_RXFF), 0);
	for (unsigned int i = 1; i < VPL011_FIFO_DEPTH; i++)
		CHECK(vpl011_receive(u, (u8)('a' + i)));
	CHECK_EQ(rd(FR) & (FR_RXFE | FR_RXFF), FR_RXFF);
	CHECK(!vpl011_receive(u, '!'));
	CHECK_EQ(u->rx_dropped, 1);
	for (unsigned int i = 0; i < VPL011_FIFO_DEPTH; i++) {
		CHECK_EQ(rd(DR) & 0xff, 'a' + i);
		CHECK_EQ(rd(FR) & FR_RXFF, 0);
	}
	CHECK(rd(FR) & FR_RXFE);
}

TEST(without_fen_the_fifo_holds_one_byte)
{
	fresh();
	CHECK(vpl011_receive(u, '1'));
	CHECK_EQ(rd(FR) & (FR_RXFE | FR_RXFF), FR_RXFF);
	CHECK(!vpl011_receive(u, '2'));
	CHECK_EQ(rd(DR) & 0xff, '1');
	CHECK(rd(FR) & FR_RXFE);
}

TEST(reading_dr_pops_and_an_empty_fifo_reads_zero)
{
	fresh();
	fifo_on(2);
	vpl011_receive(u, 'p');
	vpl011_receive(u, 'q');
	CHECK_EQ(rd(DR), 'p');
	CHECK_EQ(rd(DR), 'q');
	CHECK_EQ(rd(DR), 0);
	CHECK(rd(FR) & FR_RXFE);
}

TEST(overrun_flags_the_newest_byte_and_rsr_until_ecr)
{
	fresh();
	vpl011_receive(u, 'k');
	CHECK(!vpl011_receive(u, 'l'));
	CHECK_EQ(rd(RSR), RSR_OE);
	CHECK(rd(RIS) & INT_OE);
	CHECK_EQ(rd(DR), DR_OE | 'k');   /* data was lost after 'k' */
	CHECK_EQ(rd(RSR), RSR_OE);       /* sticky */
	CHECK_EQ(wr(RSR, 0), 0);         /* ECR */
	CHECK_EQ(rd(RSR), 0);
	wr(ICR, INT_OE);
	CHECK_EQ(rd(RIS) & INT_OE, 0);
}

TEST(receive_timeout_interrupt_follows_imsc_and_the_fifo)
{
	fresh();
	fifo_on(2);
	vpl011_receive(u, 'z');
	CHECK_EQ(rd(RIS), INT_RT | INT_TX);   /* below the trigger: no RXIS */
	CHECK_EQ(irq.calls, 0);               /* masked */
	wr(IMSC, INT_RT);
	CHECK_EQ(rd(MIS), INT_RT);
	CHECK(irq.level);
	CHECK_EQ(irq.calls, 1);
	CHECK_EQ(rd(DR), 'z');
	CHECK_EQ(rd(RIS) & INT_RT, 0);        /* empty: timeout cleared */
	CHECK(!irq.level);
	CHECK_EQ(irq.calls, 2);
	CHECK(!irq.bad_args);
}

TEST(rx_interrupt_asserts_at_the_trigger_level_and_clears_below_it)
{
	fresh();
	fifo_on(2);                          /* 1/2: 8 of 16 */
	wr(IMSC, INT_RX);
	for (int i = 0; i < 7; i++)
		vpl011_receive(u, 'r');
	CHECK_EQ(rd(RIS) & INT_RX, 0);
	CHECK(!irq.level);
	vpl011_receive(u, 'r');
	CHECK(rd(RIS) & INT_RX);
	CHECK(irq.level);
	rd(DR);                              /* 7 left: below the level */
	CHECK_EQ(rd(RIS) & INT_RX, 0);
	CHECK(!irq.level);
	CHECK(rd(RIS) & INT_RT);             /* still not empty */
}

TEST(rx_trigger_levels_follow_ifls)
{
	static const unsigned int level[] = { 2, 4, 8, 12, 14 };

	for (unsigned int sel = 0; sel < 5; sel++) {
		fresh();
		fifo_on(sel);
		for (unsigned int i = 1; i < level[sel]; i++)
			vpl011_receive(u, 'r');
		CHECK_EQ(rd(RIS) & INT_RX, 0);
		vpl011_receive(u, 'r');
		CHECK(rd(RIS) & INT_RX);
	}
}

TEST(icr_clears_receive_interrupts_until_the_next_byte)
{
	fresh();
	wr(IMSC, INT_RX | INT_RT);
	vpl011_receive(u, 'a');              /* no FIFO: trigger is one byte */
	CHECK_EQ(rd(MIS), INT_RX | INT_RT);
	CHECK(irq.level);
	wr(ICR, INT_RX | INT_RT);
	CHECK_EQ(rd(MIS), 0);
	CHECK(!irq.level);
	CHECK_EQ(rd(DR), 'a');
	vpl011_receive(u, 'b');
	CHECK(irq.level);
}

TEST(tx_interrupt_asserts_as_soon_as_it_is_unmasked)
{
	fresh();
	wr(IMSC, INT_TX);
	CHECK(irq.level);
	CHECK_EQ(rd(MIS), INT_TX);
	wr(ICR, INT_TX);                     /* the FIFO is still empty */
	CHECK_EQ(rd(MIS), INT_TX);
	wr(DR, 'x');
	CHECK(irq.level);
	wr(IMSC, 0);
	CHECK(!irq.level);
	CHECK_EQ(irq.calls, 2);              /* only changes are reported */
}

TEST(registers_keep_only_their_defined_bits)
{
	fresh();
	wr(ILPR, ~0ull);
	wr(IBRD, ~0ull);
	wr(FBRD, ~0ull);
	wr(LCR_H, ~0ull);
	wr(IFLS, ~0ull);
	wr(DMACR, ~0ull);
	wr(CR, ~0ull);
	wr(IMSC, 0);
	CHECK_EQ(rd(ILPR), 0xff);
	CHECK_EQ(rd(IBRD), 0xffff);
	CHECK_EQ(rd(FBRD), 0x3f);
	CHECK_EQ(rd(LCR_H), 0xff);
	CHECK_EQ(rd(IFLS), 0x3f);
	CHECK_EQ(rd(DMACR), 0x7);
	CHECK_EQ(rd(CR), 0xff87);
	wr(IMSC, ~0ull);
	CHECK_EQ(rd(IMSC), 0x7ff);
}

TEST(read_only_registers_ignore_writes_and_icr_reads_zero)
{
	fresh();
	CHECK_EQ(wr(FR, 0), 0);
	CHECK_EQ(wr(RIS, 0), 0);
	CHECK_EQ(wr(MIS, 0xff), 0);          /* Linux's ST delay loop */
	CHECK_EQ(wr(PERIPHID0, 0), 0);
	CHECK_EQ(rd(FR), FR_TXFE | FR_RXFE | FR_CTS | FR_DSR | FR_DCD);
	CHECK_EQ(rd(RIS), INT_TX);
	CHECK_EQ(rd(PERIPHID0), 0x11);
	CHECK_EQ(rd(ICR), 0);
}

TEST(narrow_reads_pick_bytes_of_a_register)
{
	u64 v = 0;

	fresh();
	CHECK_EQ(vpl011_mmio(u, CR + 1, 1, false, &v), 0);
	CHECK_EQ(v, 0x03);
	CHECK_EQ(vpl011_mmio(u, FR, 2, false, &v), 0);   /* Linux: readw */
	CHECK_EQ(v, FR_TXFE | FR_RXFE | FR_CTS | FR_DSR | FR_DCD);
	CHECK_EQ(vpl011_mmio(u, CR + 2, 2, false, &v), 0);
	CHECK_EQ(v, 0);
}

TEST(bad_sizes_and_offsets_are_rejected)
{
	static const u64 holes[] = { 0x008, 0x00c, 0x010, 0x014, 0x01c, 0x04c,
				     0x080, 0x08c, 0x100, 0xfd0, 0xfdc };
	u64 v = 0;

	fresh();
	CHECK_EQ(vpl011_mmio(u, DR, 8, false, &v), -EINVAL);
	CHECK_EQ(vpl011_mmio(u, DR, 3, false, &v), -EINVAL);
	CHECK_EQ(vpl011_mmio(u, DR, 0, true, &v), -EINVAL);
	CHECK_EQ(vpl011_mmio(u, FR + 1, 2, false, &v), -EINVAL);   /* misaligned */
	CHECK_EQ(vpl011_mmio(u, FR + 2, 4, false, &v), -EINVAL);
	CHECK_EQ(vpl011_mmio(u, CR + 1, 1, true, &v), -EINVAL);    /* upper byte */
	CHECK_EQ(vpl011_mmio(u, CR + 2, 2, true, &v), -EINVAL);
	CHECK_EQ(vpl011_mmio(u, GUEST_UART_SIZE, 4, false, &v), -EINVAL);
	CHECK_EQ(vpl011_mmio(u, ~3ull, 4, true, &v), -EINVAL);
	for (unsigned int i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
		CHECK_EQ(vpl011_mmio(u, holes[i], 4, false, &v), -EINVAL);
		CHECK_EQ(vpl011_mmio(u, holes[i], 4, true, &v), -EINVAL);
	}
	CHECK_EQ(rd(CR), 0x300);             /* nothing was changed */
	CHECK_EQ(nout, 0);
}

TEST(reset_empties_the_fifo_and_lowers_the_line)
{
	fresh();
	wr(IMSC, INT_RT);
	wr(CR, 0x301);
	vpl011_receive(u, 'x');
	CHECK(irq.level);
	vpl011_reset(u);
	CHECK(!irq.level);
	CHECK(rd(FR) & FR_RXFE);
	CHECK_EQ(rd(CR), 0x300);
	CHECK_EQ(rd(IMSC), 0);
	wr(IMSC, INT_TX);                    /* the line works after it */
	CHECK(irq.level);
}

/* One CPU types (retrying while the FIFO is full), another reads DR as a
 * polling guest would: every byte arrives once, in order. */
#define RACE_BYTES 20000

static void *typist(void *arg)
{
	for (unsigned int i = 0; i < RACE_BYTES;) {
		if (vpl011_receive(u, (u8)i))
			i++;
	}
	return arg;
}

TEST(concurrent_receive_and_reads_lose_nothing)
{
	pthread_t t;
	unsigned int got = 0;
	bool in_order = true;

	fresh();
	fifo_on(2);
	wr(IMSC, INT_RX | INT_RT);
	CHECK_EQ(pthread_create(&t, NULL, typist, NULL), 0);
	while (got < RACE_BYTES) {
		if (rd(FR) & FR_RXFE)
			continue;
		in_order &= (rd(DR) & 0xff) == (u8)got;
		got++;
	}
	pthread_join(t, NULL);
	CHECK(in_order);
	CHECK(rd(FR) & FR_RXFE);
	CHECK(!irq.level);
	CHECK(!irq.bad_args);
}
