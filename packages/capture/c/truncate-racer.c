/*
 * odirect-race plus a thread shrinking the file to half and regrowing it: SIGBUS past
 * EOF is expected and counted; a SIGBUS below the shrink point (sigbus_low) is not.
 */
#include "kr-race.h"

int main(int argc, char **argv)
{
	kr_thread_fn t[] = { kr_writer, kr_faulter, kr_truncater };

	return kr_race_main(argc, argv, "truncate-racer", 1, 1, t, 3);
}
