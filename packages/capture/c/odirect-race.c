/* O_DIRECT writer racing mmap faults on the same pages, coherency check after each write. */
#include "kr-race.h"

int main(int argc, char **argv)
{
	kr_thread_fn t[] = { kr_writer, kr_faulter };

	return kr_race_main(argc, argv, "odirect-race", 1, 0, t, 2);
}
