/* hyp_pool: free RAM whose allocation bitmaps live in that same RAM. */
#include "mm/hyp_pool.h"

#include "lib/compiler.h"
#include "lib/errno.h"

struct page_pool hyp_pool;

int page_pool_add_ram(struct page_pool *pool, paddr_t base, u64 size)
{
	u64 bitmap = ALIGN_UP((u64)page_pool_bitmap_bytes(size), PAGE_SIZE);

	if (size <= bitmap)
		return -ENOMEM;
	/* The bitmap describes [base + bitmap, base + size): a bitmap sized
	 * for all of @size is more than enough for that. */
	return page_pool_add_range(pool, base + bitmap, size - bitmap,
				   (void *)base, bitmap);
}
