/*
 * odirect-vs-fault (fixtures/scenarios/odirect-vs-fault.yaml, and with -DNPAGES=2 -DNFAULTS=2
 * odirect-vs-fault-multipage.yaml) on Linux 2.6.15, in Promela, for bench/explore.bench.js:
 * SPIN's compiled verifier (pan) beside kreplay's explorer on the same race.
 *
 * A reader faults page i of a shared file mapping (mm/memory.c do_no_page(): sample
 * truncate_count, filemap_nopage() finds the cached page and takes a reference, lock the
 * PTE lock, recheck truncate_count, install the PTE) while an O_DIRECT write of the file
 * (mm/filemap.c generic_file_direct_IO(): unmap_mapping_range() when mapped, direct I/O,
 * then invalidate_inode_pages2_range(): lock_page, unmap a mapped page, drop a page only
 * it and the cache hold (invalidate_complete_page()), unlock_page). In 2.6.15 the
 * invalidation does not bump truncate_count, so a fault that looked the page up before it
 * left the cache maps it afterwards: the assertion `orphan` (page->mapping == NULL while
 * mapped) fails — kreplay's orphan-page-mapped. A coarser model than kreplay's flavor (one
 * step per kernel statement group, no i_size, no page flags but PG_locked): its state
 * counts are not kreplay's; the bench compares the rate of visiting states, which is what
 * the issue asks. Run with -A (assertions off) to count the whole state space.
 */
#ifndef NPAGES
#define NPAGES 1
#endif
#ifndef NFAULTS
#define NFAULTS 1
#endif

byte mapping[NPAGES];   /* 1: in the page cache; 0: page->mapping == NULL */
byte refcount[NPAGES];  /* page_count(): cache + lookups in flight + one per PTE */
byte mapcount[NPAGES];
byte locked[NPAGES];    /* PG_locked */
byte pte[NFAULTS];      /* the PTE of fault f maps page pte[f]-1; 0 when pte_none */
byte truncate_count;
byte ptl;               /* one PTE lock per process, but each fault has its own process */

proctype fault(byte f; byte i) {
  byte seq;
retry:
  seq = truncate_count;                         /* sequence = mapping->truncate_count */
  atomic { if                                   /* filemap_nopage: find_get_page() */
    :: mapping[i] -> refcount[i]++
    :: else -> goto done                        /* (a miss reads the page: not modelled) */
    fi };
  atomic { ptl == 0 -> ptl = 1 };               /* spin_lock(&mm->page_table_lock) */
  if
  :: seq != truncate_count ->                   /* unlikely(sequence != truncate_count) */
     refcount[i]--; ptl = 0; goto retry
  :: else
  fi;
  if
  :: pte[f] == 0 ->                             /* if (pte_none(*page_table)) set_pte_at */
     assert(mapping[i]);                        /* orphan-page-mapped */
     pte[f] = i + 1; mapcount[i]++
  :: else -> refcount[i]--
  fi;
  ptl = 0;                                      /* pte_unmap_unlock */
done:
  skip
}

proctype odirect() {
  byte i; byte f;
  /* generic_file_direct_IO: if (mapping_mapped(mapping)) unmap_mapping_range() */
  atomic {
    f = 0;
    do
    :: f < NFAULTS && pte[f] != 0 -> mapcount[pte[f] - 1]--; refcount[pte[f] - 1]--; pte[f] = 0; f++
    :: f < NFAULTS && pte[f] == 0 -> f++
    :: f == NFAULTS -> break
    od;
    truncate_count++;                           /* unmap_mapping_range bumps it */
  };
  skip;                                         /* mapping->a_ops->direct_IO(WRITE, ...) */
  /* invalidate_inode_pages2_range(mapping, 0, NPAGES - 1) */
  i = 0;
  do
  :: i < NPAGES ->
     if
     :: mapping[i] ->
        atomic { locked[i] == 0 -> locked[i] = 1 };   /* lock_page(page) */
        if
        :: mapcount[i] > 0 ->                   /* while (page_mapped(page)) unmap_mapping_range */
           atomic {
             f = 0;
             do
             :: f < NFAULTS && pte[f] == i + 1 -> mapcount[i]--; refcount[i]--; pte[f] = 0; f++
             :: f < NFAULTS && pte[f] != i + 1 -> f++
             :: f == NFAULTS -> break
             od
           }
        :: else
        fi;
        if                                      /* invalidate_complete_page(mapping, page) */
        :: refcount[i] == 1 ->                  /* only the cache holds it */
           assert(mapcount[i] == 0);            /* mapped-page-removed */
           mapping[i] = 0; refcount[i] = 0
        :: else
        fi;
        locked[i] = 0                           /* unlock_page(page) */
     :: else
     fi;
     i++
  :: else -> break
  od
}

init {
  byte k;
  atomic {
    k = 0;
    do
    :: k < NPAGES -> mapping[k] = 1; refcount[k] = 1; k++
    :: else -> break
    od;
    k = 0;
    do
    :: k < NFAULTS -> run fault(k, k % NPAGES); k++
    :: else -> break
    od;
    run odirect()
  }
}
