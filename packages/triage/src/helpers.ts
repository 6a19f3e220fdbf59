/**
 * Which frames of a stack are machinery rather than the code that went wrong, so the first
 * frame that is not (the "culprit") names the crash. kreplay's own lists, by role:
 * reporting (dump_stack, __warn, report_bug, bad_page, the trap and oops paths), sanitizer
 * runtimes and the instrumented accessors they report from, the page allocator (for
 * page_owner allocation stacks), the page free path (for Bad page state call traces), and
 * the scheduler and sleeping-lock internals (for hung tasks).
 *
 * Page-cache functions are never machinery here: syzkaller skips `__filemap_get_folio`,
 * `folio_unlock`, `find_lock_entries`, `truncate_inode_pages_range`, `do_read_cache_folio`,
 * `lock_page`, `xas_*` and the `*wait*` frames of hung tasks when it names a crash; kreplay
 * keeps them, because they are the paths its model is about (docs/triage.md).
 */

export type HelperRole = 'report' | 'sanitizer' | 'library' | 'alloc' | 'free' | 'sched';

/** mm/filemap.c, mm/truncate.c and the fault path: never skipped. */
export const PAGE_CACHE_FN = new RegExp(
  '^_*(?:filemap_|page_cache_|pagecache_|find_(?:get|lock|or_create)_(?:page|pages|entry|entries|folio)|grab_cache_page|read_cache_|do_read_cache_' +
    '|folio_wait|folio_lock|folio_unlock|lock_page|unlock_page|wait_on_page|sync_page|truncate_|invalidate_|remove_from_page_cache' +
    '|delete_from_page_cache|add_to_page_cache|replace_page_cache|generic_file_|generic_perform_write|do_generic_|mapping_' +
    '|unaccount_page_cache|next_uptodate_|do_fault|do_read_fault|do_shared_fault|finish_fault|do_no_page|xas_)',
);

const ROLE: Record<HelperRole, RegExp> = {
  report: new RegExp(
    '^(?:__pfx_\\w+|_*(?:dump_stack(?:_lvl)?|show_stack|show_trace(?:_log_lvl)?|dump_trace|dump_backtrace|show_regs|print_trace_address' +
      '|printk|_printk|vprintk\\w*|warn\\w*|__warn\\w*|warn_slowpath\\w*|report_bug|handle_bug|fixup_bug|exc_invalid_op|asm_exc_\\w+' +
      '|do_invalid_op|do_error_trap|do_trap|die|__die\\w*|oops_end|invalid_op|panic|bad_page|free_page_is_bad\\w*|print_bad_pte' +
      '|dump_page|__dump_page|__dump_folio|dump_folio|bug_handler|do_bug|brk_handler|call_break_hook|el1_dbg|el1h_64_sync\\w*' +
      '|el1_sync_handler|el1_abort|el1h_64_error\\w*|do_debug_exception|do_mem_abort|die_kernel_fault|__do_kernel_fault|do_kernel_fault' +
      '|page_fault_oops|kernelmode_fixup_or_oops|no_context|bad_area_nosemaphore|__bad_area_nosemaphore|show_fault_oops' +
      '|do_general_protection|exc_general_protection|general_protection|error_entry|error_code|print_modules|print_tainted' +
      '|dump_header|oom_kill_process|out_of_memory|show_mem|check_panic_on_warn|trace_hardirqs_\\w+|lockdep_\\w+|console_unlock|console_flush_all' +
      '|sched_show_task|show_state_filter|rcu_\\w*stall\\w*|print_cpu_stall\\w*|print_other_cpu_stall|rcu_check_callbacks\\w*|rcu_sched_clock_irq' +
      '|update_process_times|tick_sched_\\w+|hrtimer_\\w+|__hrtimer_\\w+|local_apic_timer_interrupt|smp_apic_timer_interrupt|apic_timer_interrupt' +
      '|sysvec_apic_timer_interrupt|asm_sysvec_\\w+|watchdog_timer_fn|irq_exit\\w*|irqentry_exit\\w*|preempt_schedule_irq' +
      '|lock_acquire|lock_release|lock_acquired|lock_contended|mark_lock\\w*|validate_chain|check_prev_add\\w*|lock_is_held\\w*|__schedule_bug|__might_sleep|__might_resched|___might_sleep' +
      '|__x86_indirect_thunk_\\w+|__x86_return_thunk|srso_\\w*return_thunk|__indirect_thunk_\\w+))$',
  ),
  // Generic library code a crash is caught in while the bug is its caller's: locking primitives, rbtrees, lists.
  library: new RegExp(
    '^_*(?:raw_spin_\\w+|raw_read_\\w+|raw_write_\\w+|spin_lock\\w*|spin_unlock\\w*|spin_trylock\\w*|do_raw_spin_\\w+' +
      '|queued_spin_\\w+|native_queued_spin_\\w+|read_lock\\w*|read_unlock\\w*|write_lock\\w*|write_unlock\\w*|rb_\\w+' +
      '|list_(?:add|del|replace|move|splice)\\w*|list_\\w+_valid\\w*|refcount_\\w+|kref_\\w+)$',
  ),
  sanitizer: new RegExp(
    '^_*(?:kasan\\w*|asan_\\w+|check_memory_region\\w*|print_address_description\\w*|print_report|kmsan\\w*|msan_\\w+' +
      '|kcsan\\w*|tsan_\\w+|ubsan\\w*|kfence\\w*|memcpy|memmove|memset|memcmp|memchr|strlen|strnlen|strcpy|strncpy|strscpy' +
      '|strcmp|strncmp|copy_to_user|copy_from_user|_copy_to_user|_copy_from_user|copy_\\w+_user\\w*|raw_copy_\\w+|copy_user_\\w+' +
      '|rep_movs_alternative|instrument_\\w+|check_object_size|read_word_at_a_time|copy_to_iter|copy_page_to_iter|copy_folio_to_iter' +
      '|copy_from_iter|copy_page_from_iter|copy_mc_to_\\w+|iterate_\\w+)$',
  ),
  alloc: new RegExp(
    '^_*(?:set_page_owner|reset_page_owner|post_alloc_hook|prep_new_page|get_page_from_freelist|alloc_pages\\w*' +
      '|alloc_frozen_pages\\w*|folio_alloc\\w*|vma_alloc_folio\\w*|alloc_page_interleave|page_pool_alloc\\w*|page_pool_refill\\w*' +
      '|kmalloc\\w*|kmem_cache_alloc\\w*|allocate_slab|new_slab|_*slab_alloc\\w*|vmalloc\\w*|alloc_slab_page|page_owner\\w*|rmqueue\\w*)$',
  ),
  free: new RegExp(
    '^_*(?:free_unref_page\\w*|free_unref_folios|free_pages_prepare|free_pcp_prepare|free_pages\\w*|free_hot_cold_page\\w*' +
      '|free_hot_page|free_pages_ok|folio_put\\w*|folios_put\\w*|put_page\\w*|release_pages|pagevec_release\\w*|pagevec_free' +
      '|free_the_page|free_compound_page|destroy_large_folio|page_cache_release|free_page_and_swap_cache|free_pages_and_swap_cache' +
      '|tlb_flush_mmu\\w*|tlb_finish_mmu|tlb_batch_pages_flush|put_pages_list|folio_batch_move_lru|lru_add\\w*|folio_add_lru\\w*' +
      '|check_new_pages?|check_free_page\\w*|free_page_check\\w*|free_page_is_bad\\w*|bad_page)$',
  ),
  sched: new RegExp(
    '^_*(?:schedule\\w*|io_schedule\\w*|context_switch|switch_to\\w*|preempt_schedule\\w*|do_nanosleep|hrtimer_nanosleep' +
      '|mutex_lock\\w*|mutex_unlock|rt_mutex_\\w+|rwsem_down_\\w+|rwsem_\\w+|call_rwsem_\\w+|down_read\\w*|down_write\\w*|down\\w*|percpu_down_\\w+' +
      '|percpu_rwsem_wait|wait_for_completion\\w*|wait_for_common\\w*|do_wait_for_common|wait_on_bit\\w*|out_of_line_wait_on_bit\\w*' +
      '|bit_wait\\w*|wait_event\\w*|prepare_to_wait\\w*|finish_wait|rwbase_\\w+|osq_lock|freezable_schedule\\w*|refrigerator' +
      '|do_signal_stop|ptrace_stop|schedule_hrtimeout\\w*)$',
  ),
};

/** Is `fn` machinery of any of `roles`? A page-cache function never is. */
export function isHelper(fn: string, roles: readonly HelperRole[]): boolean {
  const base = fn.replace(/\..*$/, '');
  if (PAGE_CACHE_FN.test(base)) return false;
  return roles.some((r) => ROLE[r].test(base));
}
