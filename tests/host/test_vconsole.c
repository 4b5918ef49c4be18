/*
 * Tests of the console mux (virt/vconsole.c): line assembly, prefixes and
 * escaping on output; focus, the escape key and the receive interrupt on
 * input. The console, the UART driver, the GIC and the emulated PL011
 * are recording stubs.
 */
#include "boot/boot.h"
#include "drivers/gic.h"
#include "drivers/pl011.h"
#include "lib/arch_hooks.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "tests/host/test.h"
#include "virt/vconsole.h"
#include "virt/vm.h"
#include "virt/vpl011.h"

#define ESC "\x1d"               /* VCONSOLE_ESCAPE as a string */

/* VM 0 "alpha", 1 "beta", 2 without a console, 3 "delta". */
static const struct vm_config with_console = { .console = true };
static const struct vm_config without_console = { .console = false };
static struct vm vms[4] = {
	{ .cfg = &with_console, .name = "alpha", .id = 0 },
	{ .cfg = &with_console, .name = "beta", .id = 1 },
	{ .cfg = &without_console, .name = "mute", .id = 2 },
	{ .cfg = &with_console, .name = "delta", .id = 3 },
};

/* ------------------------------------------------------------- stubs */

struct board board;

static char out_buf[4096];       /* everything printed on the console */
static size_t nout;

/* out_buf, through a call, so that CHECK_STREQ's message buffer is not
 * measured against its size. */
__attribute__((noinline)) static const char *printed(void)
{
	return out_buf;
}

void console_puts(const char *s)
{
	size_t n = strlen(s);

	if (nout + n < sizeof(out_buf)) {
		memcpy(out_buf + nout, s, n + 1);
		nout += n;
	}
}

static int irq_depth;

u64 arch_irq_save(void)
{
	return (u64)irq_depth++;
}

void arch_irq_restore(u64 flags)
{
	irq_depth = (int)flags;
}

static char typed[4][64];        /* bytes each VM's PL011 received */
static size_t ntyped[4];

bool vpl011_receive(struct vpl011 *u, u8 ch)
{
	for (int i = 0; i < 4; i++) {
		if (u == &vms[i].uart && ntyped[i] + 1 < sizeof(typed[i])) {
			typed[i][ntyped[i]++] = (char)ch;
			return true;
		}
	}
	return false;
}

static bool rx_enabled;

void pl011_rx_enable(void)
{
	rx_enabled = true;
}

static int uart_rx[200];         /* what pl011_getc() hands out */
static unsigned int uart_rx_n, uart_rx_pos;

int pl011_getc(void)
{
	return uart_rx_pos < uart_rx_n ? uart_rx[uart_rx_pos++] : -ENOENT;
}

static struct {
	u32 intid;
	unsigned int cpu;
	irq_handler_t fn;
	int result;
} spi;

int gic_request_spi(u32 intid, unsigned int cpu, irq_handler_t fn)
{
	spi.intid = intid;
	spi.cpu = cpu;
	spi.fn = fn;
	return spi.result;
}

/* ----------------------------------------------------------- helpers */

static void clear_output(void)
{
	out_buf[0] = '\0';
	nout = 0;
	memset(typed, 0, sizeof(typed));
	memset(ntyped, 0, sizeof(ntyped));
}

/* The four VMs registered, the mux started with the UART's interrupt at
 * @intid, and nothing printed or typed yet. */
static void start(u32 intid)
{
	for (int i = 0; i < 4; i++) {
		vconsole_add_vm(&vms[i]);
		vconsole_flush(&vms[i]);
	}
	board.uart_intid = intid;
	memset(&spi, 0, sizeof(spi));
	rx_enabled = false;
	uart_rx_n = uart_rx_pos = 0;
	vconsole_init();
	clear_output();
}

static void put(struct vm *vm, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vconsole_putc(vm, (u8)s[i]);
}

static void puts_vm(struct vm *vm, const char *s)
{
	put(vm, s, strlen(s));
}

static void type(const char *s)
{
	for (; *s; s++)
		vconsole_input((u8)*s);
}

/* ------------------------------------------------------------ output */

TEST(a_line_is_printed_whole_when_its_newline_arrives)
{
	start(33);
	puts_vm(&vms[0], "hello");
	CHECK_EQ(nout, 0);
	puts_vm(&vms[0], " world\n");
	CHECK_STREQ(printed(), "[alpha] hello world\n");
	CHECK_EQ(irq_depth, 0);
}

TEST(an_empty_line_keeps_its_prefix)
{
	start(33);
	puts_vm(&vms[1], "\n");
	CHECK_STREQ(printed(), "[beta] \n");
}

TEST(cr_before_lf_is_dropped)
{
	start(33);
	puts_vm(&vms[0], "one\r\ntwo\r\n");
	CHECK_STREQ(printed(), "[alpha] one\n[alpha] two\n");
}

TEST(a_lone_cr_is_shown_escaped)
{
	start(33);
	puts_vm(&vms[0], "50%\r100%\r\r\n");
	CHECK_STREQ(printed(), "[alpha] 50%\\x0d100%\\x0d\n");
}

TEST(control_and_non_ascii_bytes_are_escaped)
{
	static const char s[] = "\x1b[31mred\t\x7f\x80\xff\x00|\n";

	start(33);
	put(&vms[0], s, sizeof(s) - 1);
	CHECK_STREQ(printed(), "[alpha] \\x1b[31mred\t\\x7f\\x80\\xff\\x00|\n");
}

TEST(lines_from_different_vms_never_mix)
{
	start(33);
	puts_vm(&vms[0], "ab");
	puts_vm(&vms[1], "cd\n");
	puts_vm(&vms[3], "gh");
	puts_vm(&vms[0], "ef\n");
	puts_vm(&vms[3], "\n");
	CHECK_STREQ(printed(), "[beta] cd\n[alpha] abef\n[delta] gh\n");
}

TEST(an_overlong_line_is_printed_in_pieces_of_the_line_size)
{
	char line[VCONSOLE_LINE_MAX + 1], want[2 * VCONSOLE_LINE_MAX];

	memset(line, 'x', VCONSOLE_LINE_MAX);
	line[VCONSOLE_LINE_MAX] = '\0';
	start(33);
	puts_vm(&vms[0], line);
	CHECK_EQ(nout, 0);                   /* exactly full: still waits */
	puts_vm(&vms[0], "yz\n");
	snprintf(want, sizeof(want), "[alpha] %s\n[alpha] yz\n", line);
	CHECK_STREQ(printed(), want);
	clear_output();
	puts_vm(&vms[0], line);
	puts_vm(&vms[0], "\n");              /* full, then its newline: one line */
	snprintf(want, sizeof(want), "[alpha] %s\n", line);
	CHECK_STREQ(printed(), want);
}

TEST(an_escape_is_never_split_across_lines)
{
	char line[VCONSOLE_LINE_MAX], want[2 * VCONSOLE_LINE_MAX];

	memset(line, 'x', VCONSOLE_LINE_MAX - 2);
	line[VCONSOLE_LINE_MAX - 2] = '\0';
	start(33);
	puts_vm(&vms[0], line);
	puts_vm(&vms[0], "\x01\n");
	snprintf(want, sizeof(want), "[alpha] %s\n[alpha] \\x01\n", line);
	CHECK_STREQ(printed(), want);
}

TEST(flush_prints_a_partial_line_once)
{
	start(33);
	puts_vm(&vms[3], "login: ");
	vconsole_flush(&vms[3]);
	vconsole_flush(&vms[3]);
	CHECK_STREQ(printed(), "[delta] login: \n");
	clear_output();
	puts_vm(&vms[3], "bye\r");
	vconsole_flush(&vms[3]);             /* the line ends: \r goes */
	CHECK_STREQ(printed(), "[delta] bye\n");
}

TEST(a_vm_without_a_console_prints_nothing)
{
	start(33);
	puts_vm(&vms[2], "quiet\n");
	vconsole_flush(&vms[2]);
	CHECK_EQ(nout, 0);
}

/* ------------------------------------------------------------- input */

TEST(init_gives_the_input_to_the_first_vm_and_enables_receive)
{
	start(33);
	clear_output();
	vconsole_init();
	CHECK(strstr(printed(), "console input goes to [alpha] (VM 0)"));
	CHECK_EQ(spi.intid, 33);
	CHECK_EQ(spi.cpu, 0);
	CHECK(spi.fn != NULL);
	CHECK(rx_enabled);
}

TEST(without_a_uart_interrupt_there_is_no_input_and_it_says_so)
{
	start(0);
	clear_output();
	vconsole_init();
	CHECK(strstr(printed(), "no console input"));
	CHECK(spi.fn == NULL);
	CHECK(!rx_enabled);
}

TEST(a_refused_interrupt_leaves_receive_off)
{
	start(33);
	spi.result = -EINVAL;
	rx_enabled = false;
	vconsole_init();
	CHECK(strstr(printed(), "console input off"));
	CHECK(!rx_enabled);
}

TEST(typed_bytes_go_to_the_vm_with_the_focus)
{
	start(33);
	type("ls\r");
	CHECK_STREQ(typed[0], "ls\r");
	CHECK_EQ(ntyped[1] + ntyped[3], 0);
}

TEST(escape_then_a_number_moves_the_focus)
{
	start(33);
	type(ESC "1");
	CHECK(strstr(printed(), "console input goes to [beta] (VM 1)"));
	type("x");
	CHECK_STREQ(typed[1], "x");
	CHECK_EQ(ntyped[0], 0);
}

TEST(escape_n_moves_to_the_next_vm_with_a_console)
{
	start(33);
	type(ESC "n");
	CHECK(strstr(printed(), "[beta] (VM 1)"));
	clear_output();
	type(ESC "n");                       /* VM 2 has no console */
	CHECK(strstr(printed(), "[delta] (VM 3)"));
	clear_output();
	type(ESC "n");                       /* wraps around */
	CHECK(strstr(printed(), "[alpha] (VM 0)"));
	type("a");
	CHECK_STREQ(typed[0], "a");
}

TEST(escape_twice_sends_one_literal_escape)
{
	start(33);
	type(ESC ESC "1");
	CHECK_STREQ(typed[0], ESC "1");
	CHECK_EQ(nout, 0);                   /* no focus change */
}

TEST(escape_then_a_vm_without_a_console_keeps_the_focus)
{
	start(33);
	type(ESC "2" ESC "9");
	CHECK(strstr(printed(), "no VM 2 with a console"));
	CHECK(strstr(printed(), "no VM 9 with a console"));
	type("k");
	CHECK_STREQ(typed[0], "k");
}

TEST(escape_then_another_key_lists_the_vms_and_keys)
{
	start(33);
	type(ESC "3" ESC "?");
	CHECK(strstr(printed(), "hv:   0 [alpha]\nhv:   1 [beta]\n"
			       "hv:   3 [delta] <- input\n"));
	CHECK(strstr(printed(), "n: to the next"));
	CHECK_EQ(ntyped[0] + ntyped[1] + ntyped[3], 0);
	CHECK(!strstr(printed(), "mute"));
}

TEST(the_receive_interrupt_drains_the_uart_skipping_bad_bytes)
{
	start(33);
	uart_rx[0] = 'h';
	uart_rx[1] = -EIO;                   /* framing error: dropped */
	uart_rx[2] = 'i';
	uart_rx_n = 3;
	spi.fn = NULL;
	vconsole_init();
	CHECK(spi.fn != NULL);
	spi.fn(33);
	CHECK_STREQ(typed[0], "hi");
	CHECK_EQ(uart_rx_pos, 3);
}

TEST(the_receive_interrupt_takes_a_bounded_burst)
{
	start(33);
	for (unsigned int i = 0; i < 200; i++)
		uart_rx[i] = 'a' + i % 26;
	uart_rx_n = 200;
	vconsole_init();
	spi.fn(33);
	CHECK(uart_rx_pos < 200);            /* the rest raises it again */
	CHECK(uart_rx_pos > 0);
}
