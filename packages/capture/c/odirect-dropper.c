/* odirect-race plus a thread dropping the file's cache with posix_fadvise(DONTNEED). */
#include "kr-race.h"

int main(int argc, char **argv)
{
	kr_thread_fn t[] = { kr_writer, kr_faulter, kr_dropper };

	return kr_race_main(argc, argv, "odirect-dropper", 1, 0, t, 3);
}
