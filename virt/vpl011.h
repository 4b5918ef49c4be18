/* Placeholder until the emulated PL011 lands: see the console task. */
#ifndef VIRT_VPL011_H
#define VIRT_VPL011_H
#include "lib/types.h"
struct vm;
struct vpl011 { int unused; };
#endif
