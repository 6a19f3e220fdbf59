/*
 * Fresh page tables racing truncation: a remapper maps the file's last page alone in an
 * empty 2 MiB region and touches it (fault-around over a window whose first cached folio
 * is the last one of the file), a truncater shrinks the file to half and regrows it every 2 ms. On a
 * correct kernel every PTE the faults install is zapped by munmap before truncate removes
 * the page; the 6.1.159-rc1 backport of 74207de2ba10 skipped installing the page table in
 * exactly this case (see docs/backport-6.1.md).
 */
#include "kr-race.h"

int main(int argc, char **argv)
{
	kr_thread_fn t[] = { kr_remapper, kr_slow_truncater };

	return kr_race_main(argc, argv, "remap-truncate", 0, 1, t, 2);
}
