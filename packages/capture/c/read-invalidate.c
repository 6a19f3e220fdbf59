/*
 * Buffered reads racing invalidation: O_DIRECT writes (invalidate_inode_pages2_range)
 * and posix_fadvise(DONTNEED) (invalidate_mapping_pages) while a reader re-populates
 * the cache; every read is checked against the writes completed before it began.
 */
#include "kr-race.h"

int main(int argc, char **argv)
{
	kr_thread_fn t[] = { kr_writer, kr_reader, kr_dropper };

	return kr_race_main(argc, argv, "read-invalidate", 0, 0, t, 3);
}
