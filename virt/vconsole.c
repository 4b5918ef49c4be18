/*
 * The console mux: per-VM line assembly for output, input focus and its
 * key sequence, and the physical UART's receive interrupt. Locks and the
 * unlocked input state are described in docs/locking.md.
 */
#include "virt/vconsole.h"

#include "boot/boot.h"
#include "drivers/gic.h"
#include "drivers/pl011.h"
#include "lib/arch_hooks.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "virt/scenario.h"
#include "virt/vm.h"
#include "virt/vpl011.h"

#define NO_FOCUS (-1)
#define ESCAPED_LEN 4            /* "\xNN" */
#define RX_BURST 64              /* bytes taken per interrupt; more re-raise it */
#define MSG_MAX 160              /* one hypervisor message line */

/* One VM's console output: the line being gathered. */
struct vcon {
	struct vm *vm;               /* NULL: no VM with this number */
	struct spinlock lock;        /* len, cr, line */
	unsigned int len;
	bool cr;                     /* a \r waits to see if \n follows */
	char line[VCONSOLE_LINE_MAX];
};

/* Indexed by vm->id. vm is written by vconsole_add_vm() on the boot CPU
 * before vconsole_init() enables the receive interrupt, then only read. */
static struct vcon vcons[SCENARIO_MAX_VMS];

/* Input state: only the receive path touches it (CPU 0, interrupts
 * masked), and vconsole_init() before that path is enabled. */
static struct {
	int focus;                   /* vm->id with the input, or NO_FOCUS */
	bool escape;                 /* VCONSOLE_ESCAPE was the last key */
} input = { NO_FOCUS, false };

static struct vcon *vcon_of(const struct vm *vm)
{
	if (!vm || vm->id >= SCENARIO_MAX_VMS || vcons[vm->id].vm != vm)
		return NULL;
	return &vcons[vm->id];
}

void vconsole_add_vm(struct vm *vm)
{
	if (vm->cfg->console && vm->id < SCENARIO_MAX_VMS)
		vcons[vm->id] = (struct vcon){ .vm = vm, .lock = SPINLOCK_INIT };
}

/* ------------------------------------------------------------ output */

/* Prints the gathered line as "[name] line" in one console write, so
 * that it never mixes with other output, and starts a new one. */
static void emit_line(struct vcon *c)
{
	/* '[' name "] " line '\n' NUL */
	char out[1 + VM_NAME_LEN + 2 + VCONSOLE_LINE_MAX + 2];
	unsigned int n = 0;

	out[n++] = '[';
	for (const char *s = c->vm->name; *s && n < 1 + VM_NAME_LEN - 1; s++)
		out[n++] = *s;
	out[n++] = ']';
	out[n++] = ' ';
	for (unsigned int i = 0; i < c->len; i++)
		out[n++] = c->line[i];
	out[n++] = '\n';
	out[n] = '\0';
	console_puts(out);
	c->len = 0;
}

/* True for the bytes printed as themselves: printable ASCII and tab.
 * Everything else (terminal controls, escape sequences, bytes above
 * 0x7e) is shown as \xNN, so a VM cannot drive the terminal. */
static bool shown_as_is(u8 ch)
{
	return (ch >= 0x20 && ch < 0x7f) || ch == '\t';
}

/* Adds @ch to the line, escaped if need be; a full line is printed
 * first, so an escape is never split. */
static void add_char(struct vcon *c, u8 ch)
{
	static const char hex[] = "0123456789abcdef";
	char text[ESCAPED_LEN] = { (char)ch };
	unsigned int n = 1;

	if (!shown_as_is(ch)) {
		text[0] = '\\';
		text[1] = 'x';
		text[2] = hex[ch >> 4];
		text[3] = hex[ch & 0xf];
		n = ESCAPED_LEN;
	}
	if (c->len + n > VCONSOLE_LINE_MAX)
		emit_line(c);
	for (unsigned int i = 0; i < n; i++)
		c->line[c->len++] = text[i];
}

void vconsole_putc(struct vm *vm, u8 ch)
{
	struct vcon *c = vcon_of(vm);
	u64 flags;

	if (!c)
		return;
	flags = arch_irq_save();
	spin_lock(&c->lock);
	if (c->cr && ch != '\n')
		add_char(c, '\r');   /* a \r on its own is shown */
	c->cr = ch == '\r';
	if (ch == '\n')
		emit_line(c);
	else if (ch != '\r')
		add_char(c, ch);
	spin_unlock(&c->lock);
	arch_irq_restore(flags);
}

void vconsole_flush(struct vm *vm)
{
	struct vcon *c = vcon_of(vm);
	u64 flags;

	if (!c)
		return;
	flags = arch_irq_save();
	spin_lock(&c->lock);
	c->cr = false;           /* the line ends here anyway */
	if (c->len)
		emit_line(c);
	spin_unlock(&c->lock);
	arch_irq_restore(flags);
}

/* ------------------------------------------------------------- input */

static void say(const char *fmt, ...) __printf(1, 2);

/* One hypervisor message line on the console. */
static void say(const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	console_puts(msg);
}

static void say_focus(void)
{
	const struct vm *vm = vcons[input.focus].vm;

	say("hv: console input goes to [%s] (VM %u); Ctrl-] ? for help\n",
	    vm->name, vm->id);
}

/* The keys, and the VMs that can take input. */
static void say_help(void)
{
	say("hv: Ctrl-] then: a VM number: input to that VM; n: to the next; "
	    "Ctrl-]: send Ctrl-]\n");
	for (unsigned int i = 0; i < SCENARIO_MAX_VMS; i++) {
		if (vcons[i].vm)
			say("hv:   %u [%s]%s\n", i, vcons[i].vm->name,
			    (int)i == input.focus ? " <- input" : "");
	}
}

static void focus_on(int id)
{
	if (id < 0 || id >= SCENARIO_MAX_VMS || !vcons[id].vm) {
		say("hv: no VM %d with a console (Ctrl-] ? lists them)\n", id);
		return;
	}
	input.focus = id;
	say_focus();
}

/* The next VM with a console after the one with the focus, cyclically
 * (the same one if it is alone); NO_FOCUS when there is none. */
static int next_vm(void)
{
	for (int k = 1; k <= SCENARIO_MAX_VMS; k++) {
		int id = (input.focus + k) % SCENARIO_MAX_VMS;

		if (vcons[id].vm)
			return id;
	}
	return NO_FOCUS;
}

static void deliver(u8 ch)
{
	if (input.focus != NO_FOCUS)
		vpl011_receive(&vcons[input.focus].vm->uart, ch);
}

/* The key after VCONSOLE_ESCAPE. */
static void escape_command(u8 ch)
{
	if (ch == VCONSOLE_ESCAPE)
		deliver(ch);
	else if (ch >= '0' && ch <= '9')
		focus_on(ch - '0');
	else if (ch == 'n' && input.focus != NO_FOCUS)
		focus_on(next_vm());
	else
		say_help();
}

void vconsole_input(u8 ch)
{
	if (input.escape) {
		input.escape = false;
		escape_command(ch);
	} else if (ch == VCONSOLE_ESCAPE) {
		input.escape = true;
	} else {
		deliver(ch);
	}
}

/* The console UART's receive interrupt: hand over what it holds. */
static enum irq_result rx_irq(u32 intid)
{
	int ch = 0;

	for (unsigned int i = 0; i < RX_BURST && ch != -ENOENT; i++) {
		ch = pl011_getc();
		if (ch >= 0)
			vconsole_input((u8)ch);
	}
	return IRQ_DONE;
}

void vconsole_init(void)
{
	int r;

	input.escape = false;
	input.focus = NO_FOCUS;
	input.focus = next_vm();     /* the first VM with a console */
	if (input.focus == NO_FOCUS)
		return;
	say_focus();
	if (!board.uart_intid) {
		say("hv: the console UART has no interrupt in the device tree: "
		    "no console input\n");
		return;
	}
	r = gic_request_spi(board.uart_intid, 0, rx_irq);
	if (r) {
		say("hv: console input off: interrupt %u not available (%d)\n",
		    board.uart_intid, r);
		return;
	}
	pl011_rx_enable();
}
