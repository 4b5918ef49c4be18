/* Error codes returned as negative ints across the hypervisor. */
#ifndef LIB_ERRNO_H
#define LIB_ERRNO_H

#define EPERM 1    /* the caller may not do that */
#define ENOENT 2   /* no such node, property or object */
#define ESRCH 3    /* no such VM */
#define EIO 5      /* device did not respond as it must */
#define ENOMEM 12  /* out of memory */
#define EBUSY 16   /* resource in use */
#define EFAULT 14  /* address outside the memory it must be in */
#define EEXIST 17  /* already present */
#define EINVAL 22  /* malformed input */
#define ENOSPC 28  /* a fixed-size table is full */
#define ERANGE 34  /* value outside what is supported */
#define ENOSYS 38  /* not supported on this board or build */
#define ETIMEDOUT 110 /* hardware did not answer in time */
#define EOPNOTSUPP 95 /* the CPU lacks a feature the request needs */
#define EALREADY 114  /* nothing to undo: not on, not held */

#endif
