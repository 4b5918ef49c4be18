/* Placeholder until the vGIC lands: see the vGIC task. */
#ifndef VIRT_VGIC_H
#define VIRT_VGIC_H
#include "lib/types.h"
struct vm;
struct vcpu;
struct vgic_dist { int unused; };
struct vgic_cpu { int unused; };
#endif
