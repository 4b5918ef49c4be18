/*
 * The console mux: one physical UART shared by the hypervisor and every
 * VM's emulated PL011. Output is gathered per VM and printed a whole line
 * at a time as "[name] line"; input goes to the VM that has the focus,
 * which a key sequence moves (docs/console.md).
 */
#ifndef VIRT_VCONSOLE_H
#define VIRT_VCONSOLE_H

#include "lib/types.h"

struct vm;

/* The escape key: Ctrl-] (QEMU's -nographic keeps Ctrl-A, a terminal's
 * ISIG keeps Ctrl-C, Ctrl-\ and Ctrl-Z; Ctrl-] reaches us). Then:
 *   0..7      input to the VM with that number (its place in the scenario)
 *   n         input to the next VM with a console
 *   Ctrl-]    a literal Ctrl-] to the VM that has the input
 *   any other key: list the VMs and these keys */
#define VCONSOLE_ESCAPE 0x1d

/* Characters of a VM's line before it is printed anyway (escapes count
 * as the four characters they print as). */
#define VCONSOLE_LINE_MAX 160

/* Registers @vm's console (a VM without one, cfg->console false, is
 * left out); call for each VM before vconsole_init(). */
void vconsole_add_vm(struct vm *vm);

/* Gives the input to the first VM added, says so, and starts receiving:
 * the console UART's receive interrupt, from the DTB, on CPU 0. */
void vconsole_init(void);

/* A byte @vm transmitted (its PL011's DR). */
void vconsole_putc(struct vm *vm, u8 ch);

/* Prints what is left of @vm's last line (the VM stopped). */
void vconsole_flush(struct vm *vm);

/* A byte typed on the physical console: the receive interrupt's work, and
 * the tests' way in. Runs on CPU 0 only, with interrupts masked. */
void vconsole_input(u8 ch);

#endif
