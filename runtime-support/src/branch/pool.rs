//! The running items of an in-place fan-out ([`Pool`]): their futures inline in slots that
//! never move, each slot with a waker of its own that queues it when woken, so that a pass
//! polls only the items that woke, as `FuturesUnordered` does, without an allocation for
//! each item. A slot freed by a finished item is reused by the next one: a fan-out under a
//! limit allocates for its first `limit` items only. A slot is not reused while a waker of
//! its finished item is still held somewhere, so that such a waker wakes nothing. The slots
//! are freed when the fan-out ends (or is cancelled), not as items finish: a fan-out without
//! a limit holds, until it ends, slots for as many items as ever ran at once, rounded up to
//! its chunks (at most twice as many).
//!
//! The slots are numbered from 0. Their futures live in chunks of doubling size
//! ([`Chunk`]: 8 slots, then 16, 32, ...), each allocated once and never moved, so that a
//! slot's future stays pinned where it is. Their wakers live in blocks of 64 ([`Wakers`]),
//! one reference-counted allocation each: a slot's waker is a pointer to its block, with the
//! slot's place in the block in the pointer's low bits, which the block's alignment leaves
//! free. That waker is the one `unsafe` part of the runtime besides the pin of a slot; it is
//! what lets a fan-out item cost no allocation where `FuturesUnordered` allocates a node
//! (a waker per slot through [`std::task::Wake`] would need an `Arc` of its own per slot:
//! 1 009 Ir per item on the `fanout` bench, against 954 for `FuturesUnordered`; see
//! BENCHMARKS.md).

use std::any::Any;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use futures_util::task::AtomicWaker;
use pin_project_lite::pin_project;

use super::poll_caught;
use crate::context::{in_index, may_poll};
use crate::trace::{self, GroupSpan};

/// What a pool shares with its slots' wakers.
#[derive(Debug)]
struct Shared {
    /// The slots woken since the pool last took them, in the order they woke.
    woken: Mutex<Vec<usize>>,
    /// The task that polls the pool: woken when `woken` stops being empty.
    parent: AtomicWaker,
}

impl Shared {
    /// The list of woken slots, locked (a panic while it was held left it whole: it only
    /// pushes and swaps).
    #[inline]
    fn woken(&self) -> MutexGuard<'_, Vec<usize>> {
        self.woken.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The slots a block of wakers serves.
const BLOCK: usize = 64;

/// The wakers of 64 slots: one allocation, aligned so that the low 6 bits of its address
/// are free to name a slot of the block.
#[derive(Debug)]
#[repr(align(64))]
struct Wakers {
    shared: Arc<Shared>,
    /// The number of the block's first slot.
    first: usize,
    /// Each slot's state: [`QUEUED`] while it is in `woken` or in the pool's batch, not yet
    /// polled (a wake does not queue it again), and in the other bits the number of its
    /// wakers held outside the pool (clones of the one it lends).
    slots: [AtomicU32; BLOCK],
}

/// A slot's state: queued, not yet polled (the low bit, which a `lock bts` sets and tests).
const QUEUED: u32 = 1;

/// A slot's state: one of its wakers held (the other bits count them).
const HELD_ONE: u32 = 2;

/// A slot's state: the bits that count its wakers held.
const HELD: u32 = !QUEUED;

// A waker names its slot in the low bits of its block's address.
const _: () = assert!(align_of::<Wakers>() >= BLOCK);

impl Wakers {
    fn new(shared: &Arc<Shared>, first: usize) -> Arc<Self> {
        Arc::new(Wakers {
            shared: Arc::clone(shared),
            first,
            slots: [const { AtomicU32::new(0) }; BLOCK],
        })
    }

    /// Queues slot `place` of the block, unless it is queued already.
    fn wake(&self, place: usize) {
        if self.slots[place].fetch_or(QUEUED, Ordering::AcqRel) & QUEUED != 0 {
            return;
        }
        let first = {
            let mut woken = self.shared.woken();
            woken.push(self.first + place);
            woken.len() == 1
        };
        // Each time the queue stops being empty; the pool registers the task before it
        // empties the queue, so a wake that finds it empty wakes the task's latest waker.
        if first {
            self.shared.parent.wake();
        }
    }
}

/// The waker of slot `place` of `block`, as a `RawWaker`'s data: the block's address with
/// `place` in its low bits.
fn tag(block: &Arc<Wakers>, place: usize) -> *const () {
    debug_assert!(place < BLOCK);
    Arc::as_ptr(block)
        .cast::<()>()
        .map_addr(|addr| addr | place)
}

/// The block and the place a waker's data names.
fn untag(data: *const ()) -> (*const Wakers, usize) {
    let block = data.map_addr(|addr| addr & !(BLOCK - 1)).cast::<Wakers>();
    (block, data.addr() & (BLOCK - 1))
}

/// A slot's waker: each one (but the borrowed one of [`with_waker`]) holds a strong count of
/// its block's `Arc`, so that the block outlives every waker, even one kept after the pool
/// is gone.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

#[allow(unsafe_code)]
unsafe fn clone_waker(data: *const ()) -> RawWaker {
    let (block, place) = untag(data);
    // SAFETY: `data` is a live waker's: the block is alive (that waker holds a count, or the
    // pool does while it lends one), and the new waker takes a count of its own.
    unsafe {
        let held = (*block).slots[place].fetch_add(HELD_ONE, Ordering::Relaxed) & HELD;
        if held == HELD - HELD_ONE {
            // 2^31 - 1 wakers of one slot: one more would overflow its count. As `Arc` does
            // on an overflowing count (which would need 2^63 wakers here).
            std::process::abort();
        }
        Arc::increment_strong_count(block);
    }
    RawWaker::new(data, &VTABLE)
}

#[allow(unsafe_code)]
unsafe fn wake(data: *const ()) {
    // SAFETY: `data` is an owned waker's; it is woken, then its count is given back.
    unsafe {
        wake_by_ref(data);
        drop_waker(data);
    }
}

#[allow(unsafe_code)]
unsafe fn wake_by_ref(data: *const ()) {
    let (block, place) = untag(data);
    // SAFETY: `data` is a live waker's, so the block is alive (see `clone_waker`).
    let block = unsafe { &*block };
    block.wake(place);
}

#[allow(unsafe_code)]
unsafe fn drop_waker(data: *const ()) {
    let (block, place) = untag(data);
    // SAFETY: `data` is an owned waker's, which holds one count of the block's `Arc`: the
    // block is alive until that count is given back, last.
    unsafe {
        (*block).slots[place].fetch_sub(HELD_ONE, Ordering::Release);
        Arc::decrement_strong_count(block);
    }
}

/// Runs `f` with the waker of slot `place` of `block`, borrowed: it takes no count of its
/// own and is never dropped (a clone of it takes one).
#[inline]
fn with_waker<R>(block: &Arc<Wakers>, place: usize, f: impl FnOnce(&Waker) -> R) -> R {
    #[allow(unsafe_code)]
    // SAFETY: the data and the vtable keep `RawWaker`'s contract (see `VTABLE`); the waker
    // lives only during `f`, while `block` holds the count that keeps the block alive, and it
    // is not dropped, so it gives back no count it did not take.
    let waker =
        ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(tag(block, place), &VTABLE)) });
    f(&waker)
}

pin_project! {
    /// One item's place: its future while it runs, with what the pool knows of it.
    struct Slot<F> {
        #[pin]
        fut: Option<F>,
        // The item's index in the fan-out.
        index: usize,
        // The pass it was last polled in (`context::may_poll`).
        stamp: u64,
        span: Option<GroupSpan>,
    }
}

impl<F> Slot<F> {
    const fn new() -> Self {
        Slot {
            fut: None,
            index: 0,
            stamp: 0,
            span: None,
        }
    }
}

/// A chunk of slots: allocated once, never moved or resized, dropped whole. Chunk `c` holds
/// `FIRST_CHUNK << c` slots.
type Chunk<F> = Pin<Box<[Slot<F>]>>;

/// `Pool::retired` is first looked through at this length.
const RETIRED_SCAN: usize = 8;

/// The slots of a pool's first chunk.
const FIRST_CHUNK: usize = 8;

/// The chunk of slot `slot`, and its place in the chunk.
#[inline]
const fn locate(slot: usize) -> (usize, usize) {
    // Chunk `c` starts at slot `FIRST_CHUNK * (2^c - 1)`.
    let chunk = (slot / FIRST_CHUNK + 1).ilog2() as usize;
    (chunk, slot - FIRST_CHUNK * ((1 << chunk) - 1))
}

/// Element `offset` of a pinned slice, pinned: a slice cannot grow, shrink or move its
/// elements, so an element of a pinned one is pinned too.
#[inline]
fn pinned<T>(slice: Pin<&mut [T]>, offset: usize) -> Pin<&mut T> {
    #[allow(unsafe_code)]
    // SAFETY: the slice is pinned, so its memory stays where it is until it is dropped, and
    // its elements with it (a slice has no length to change); the element is reached only
    // through the returned pin, so it is not moved out of either.
    unsafe {
        slice.map_unchecked_mut(|slice| &mut slice[offset])
    }
}

/// The running items of an in-place fan-out.
pub(super) struct Pool<F> {
    chunks: Vec<Chunk<F>>,
    /// The wakers of slots `64 * i ..`, made with the slots.
    wakers: Vec<Arc<Wakers>>,
    /// Slots used before and free now, the last freed first.
    vacant: Vec<usize>,
    /// Slots whose last item finished while a waker of it was still held elsewhere: reused
    /// once no waker of theirs is, so that a waker kept by a finished item never wakes the
    /// next one (a waker of a finished item is inert, as under `FuturesUnordered`).
    retired: Vec<usize>,
    /// `retired` is looked through for slots free again once it is this long: twice its
    /// length after the last look, so that each retired slot is looked at a bounded number
    /// of times on average, however long its wakers are held.
    retired_scan: usize,
    /// The slots ever used: the next fresh one.
    used: usize,
    /// The items running.
    len: usize,
    /// The slots to poll, in the order they were started or woke, from `cursor` on.
    batch: Vec<usize>,
    cursor: usize,
    shared: Arc<Shared>,
}

impl<F> std::fmt::Debug for Pool<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("running", &self.len)
            .field("slots", &self.used)
            .finish_non_exhaustive()
    }
}

impl<F> Drop for Pool<F> {
    fn drop(&mut self) {
        // Wakers kept after the pool is gone wake no task, and hold none.
        drop(self.shared.parent.take());
    }
}

impl<F> Pool<F> {
    pub(super) fn new() -> Self {
        Pool {
            chunks: Vec::new(),
            wakers: Vec::new(),
            vacant: Vec::new(),
            retired: Vec::new(),
            retired_scan: RETIRED_SCAN,
            used: 0,
            len: 0,
            batch: Vec::new(),
            cursor: 0,
            shared: Arc::new(Shared {
                woken: Mutex::new(Vec::new()),
                parent: AtomicWaker::new(),
            }),
        }
    }

    /// How many items run.
    pub(super) const fn len(&self) -> usize {
        self.len
    }

    /// A free slot: the last one freed, or a fresh one (its chunk and its wakers made when
    /// it is the first of theirs).
    fn take_slot(&mut self) -> usize {
        if let Some(slot) = self.vacant.pop() {
            return slot;
        }
        if self.retired.len() >= self.retired_scan {
            let wakers = &self.wakers;
            let vacant = &mut self.vacant;
            self.retired.retain(|&slot| {
                let state = wakers[slot / BLOCK].slots[slot % BLOCK].load(Ordering::Acquire);
                let free = state & HELD == 0;
                if free {
                    vacant.push(slot);
                }
                !free
            });
            self.retired_scan = (2 * self.retired.len()).max(RETIRED_SCAN);
            if let Some(slot) = self.vacant.pop() {
                return slot;
            }
        }
        let slot = self.used;
        let (chunk, offset) = locate(slot);
        if offset == 0 {
            debug_assert_eq!(chunk, self.chunks.len());
            let slots = (0..FIRST_CHUNK << chunk).map(|_| Slot::new());
            self.chunks.push(Box::into_pin(slots.collect()));
        }
        if slot.is_multiple_of(BLOCK) {
            self.wakers.push(Wakers::new(&self.shared, slot));
        }
        self.used += 1;
        slot
    }

    /// Slot `slot`, pinned where its chunk keeps it, and its block of wakers.
    #[inline]
    fn slot(&mut self, slot: usize) -> (Pin<&mut Slot<F>>, &Arc<Wakers>) {
        let (chunk, offset) = locate(slot);
        let pinned = pinned(self.chunks[chunk].as_mut(), offset);
        (pinned, &self.wakers[slot / BLOCK])
    }

    /// Starts item `index`: it is polled in this pass.
    #[inline]
    pub(super) fn push(&mut self, index: usize, span: GroupSpan, fut: F) {
        let slot = self.take_slot();
        let (pinned, wakers) = self.slot(slot);
        // Until it is polled, a wake does not queue it again.
        wakers.slots[slot % BLOCK].fetch_or(QUEUED, Ordering::Relaxed);
        let mut this = pinned.project();
        *this.index = index;
        *this.stamp = 0;
        *this.span = Some(span);
        this.fut.set(Some(fut));
        self.len += 1;
        self.batch.push(slot);
    }

    /// The indices of the items running, in no particular order.
    pub(super) fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.chunks
            .iter()
            .flat_map(|chunk| chunk.iter())
            .filter(|slot| slot.fut.is_some())
            .map(|slot| slot.index)
    }

    /// Drops every running item, each alone (`cancel` sets its future to `None`, where a
    /// panic can be caught), then every slot.
    pub(super) fn clear(&mut self, mut cancel: impl FnMut(usize, Pin<&mut Option<F>>)) {
        for chunk in &mut self.chunks {
            for offset in 0..chunk.len() {
                let slot = pinned(chunk.as_mut(), offset).project();
                if slot.fut.is_some() {
                    cancel(*slot.index, slot.fut);
                }
            }
        }
        // A block stays while a waker of its is held elsewhere; a wake of it finds no slot.
        self.chunks.clear();
        self.wakers.clear();
        self.vacant.clear();
        self.retired.clear();
        self.retired_scan = RETIRED_SCAN;
        self.used = 0;
        self.len = 0;
        self.batch.clear();
        self.cursor = 0;
    }

    /// Takes the slots woken since the last time, after registering the task's waker: `false`
    /// if none woke.
    fn refill(&mut self, cx: &Context<'_>) -> bool {
        self.shared.parent.register(cx.waker());
        self.batch.clear();
        self.cursor = 0;
        std::mem::swap(&mut *self.shared.woken(), &mut self.batch);
        !self.batch.is_empty()
    }
}

/// A finished item: its index, and its output or its panic.
pub(super) type Ended<O> = (usize, Result<O, Box<dyn Any + Send>>);

impl<F: Future> Pool<F> {
    /// Polls the items that were started or woke since they were last polled, until one
    /// finishes (`Ready(Some)`), none is left to poll (`Pending`) or none runs
    /// (`Ready(None)`). As `FuturesUnordered`, it returns `Pending` (having woken the task)
    /// once it polled as many items as run or two items woke themselves while polled; and
    /// once the task's tokio budget is spent, so that items waiting only for the budget are
    /// not polled again and again (see [`super::pending`]). The items not polled yet stay
    /// queued for the next call. After `Ready(Some)` the caller calls again, as for a
    /// `Stream`: the items queued are polled then.
    #[inline]
    pub(super) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Ended<F::Output>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        let mut polled = 0;
        let mut yielded = 0;
        loop {
            let Some(&slot) = self.batch.get(self.cursor) else {
                if !self.refill(cx) {
                    return Poll::Pending;
                }
                continue;
            };
            self.cursor += 1;
            if slot >= self.used {
                // Woken before the pool was cleared.
                continue;
            }
            let (pinned, wakers) = self.slot(slot);
            let place = slot % BLOCK;
            let state = &wakers.slots[place];
            let mut this = pinned.project();
            let Some(fut) = this.fut.as_mut().as_pin_mut() else {
                // Woken after it finished: the slot is free.
                state.fetch_and(!QUEUED, Ordering::Relaxed);
                continue;
            };
            if !may_poll(this.stamp) {
                // Polled since the failure: it waits, queued, for the cancellation, and
                // counts as woken by itself.
                wakers.shared.woken().push(slot);
                yielded += 1;
                if yielded >= 2 {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                continue;
            }
            // A wake during its poll queues it again; what a waker did before its wake (the
            // `fetch_or` that releases) is seen by the poll (this `fetch_and` acquires).
            state.fetch_and(!QUEUED, Ordering::AcqRel);
            in_index(*this.index);
            let poll = with_waker(wakers, place, |waker| {
                let mut cx = Context::from_waker(waker);
                match this.span.as_ref() {
                    Some(span) => trace::in_span(span, || poll_caught(fut, &mut cx)),
                    None => poll_caught(fut, &mut cx),
                }
            });
            polled += 1;
            match poll {
                Poll::Ready(outcome) => {
                    let index = *this.index;
                    // A panic in the finished future's `Drop` is the item's panic.
                    let mut fut = this.fut;
                    let dropped = catch_unwind(AssertUnwindSafe(|| fut.set(None)));
                    *this.span = None;
                    let free = state.load(Ordering::Acquire) & HELD == 0;
                    if free {
                        self.vacant.push(slot);
                    } else {
                        self.retired.push(slot);
                    }
                    self.len -= 1;
                    return Poll::Ready(Some((index, dropped.and(outcome))));
                }
                Poll::Pending => {
                    if state.load(Ordering::Acquire) & QUEUED != 0 {
                        yielded += 1;
                    }
                    if yielded >= 2
                        || polled == self.len
                        || !tokio::task::coop::has_budget_remaining()
                    {
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    /// The pool's own task: counts its wakes.
    #[derive(Default)]
    struct Task(AtomicUsize);

    impl Wake for Task {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Task {
        fn woken(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// An item that keeps its waker at its first poll and finishes at its second, with the
    /// number of polls it had.
    struct Park {
        waker: Arc<Mutex<Option<Waker>>>,
        polls: Arc<AtomicUsize>,
    }

    impl Future for Park {
        type Output = usize;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            let polls = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
            if polls >= 2 {
                return Poll::Ready(polls);
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    type Parked = (Arc<Mutex<Option<Waker>>>, Arc<AtomicUsize>);

    /// A pool of `n` parked items, each polled once: their wakers and poll counts.
    fn parked(n: usize) -> (Pool<Park>, Vec<Parked>, Arc<Task>) {
        let mut pool = Pool::new();
        let mut items = Vec::new();
        for index in 0..n {
            let item: Parked = Default::default();
            let park = Park {
                waker: Arc::clone(&item.0),
                polls: Arc::clone(&item.1),
            };
            pool.push(index, trace::GroupSpan::none(), park);
            items.push(item);
        }
        let task = Arc::new(Task::default());
        let waker = Waker::from(Arc::clone(&task));
        let mut cx = Context::from_waker(&waker);
        // A pass polls at most as many items as run: enough calls to poll each once.
        while pool.batch.len() > pool.cursor {
            assert!(pool.poll_next(&mut cx).is_pending());
        }
        // The pool finds nothing woken, and waits with the task registered.
        assert!(pool.poll_next(&mut cx).is_pending());
        task.0.store(0, Ordering::SeqCst);
        for (waker, polls) in &items {
            assert_eq!(polls.load(Ordering::SeqCst), 1);
            assert!(waker.lock().unwrap().is_some());
        }
        (pool, items, task)
    }

    fn take_waker(item: &Parked) -> Waker {
        item.0
            .lock()
            .unwrap()
            .take()
            .expect("the item kept its waker")
    }

    #[test]
    fn only_the_woken_items_are_polled_again_in_the_order_they_woke() {
        // 200 items: four blocks of wakers, five chunks of slots.
        let (mut pool, items, task) = parked(200);
        for index in [150, 3, 64, 199] {
            take_waker(&items[index]).wake();
        }
        // The task was woken once, when the queue stopped being empty.
        assert_eq!(task.woken(), 1);
        let waker = Waker::from(Arc::clone(&task));
        let mut cx = Context::from_waker(&waker);
        let mut ended = Vec::new();
        while let Poll::Ready(Some((index, outcome))) = pool.poll_next(&mut cx) {
            assert_eq!(outcome.ok(), Some(2));
            ended.push(index);
        }
        assert_eq!(ended, [150, 3, 64, 199]);
        assert_eq!(pool.len(), 196);
        let polls: usize = items.iter().map(|item| item.1.load(Ordering::SeqCst)).sum();
        assert_eq!(polls, 204, "each woken item polled once more, no other");
    }

    #[test]
    fn a_slot_woken_twice_before_its_poll_is_queued_once() {
        let (mut pool, items, task) = parked(2);
        let waker = take_waker(&items[1]);
        waker.wake_by_ref();
        waker.wake_by_ref();
        // A clone woken by value: the same slot.
        let clone = waker.clone();
        clone.wake();
        assert_eq!(*pool.shared.woken.lock().unwrap(), [1]);
        assert_eq!(task.woken(), 1);
        drop(waker);
        let waker = Waker::from(task);
        assert!(matches!(
            pool.poll_next(&mut Context::from_waker(&waker)),
            Poll::Ready(Some((1, Ok(2))))
        ));
    }

    #[test]
    fn each_slot_has_its_own_waker_and_a_clone_wakes_the_same_slot() {
        let (_pool, items, _task) = parked(70);
        let first = take_waker(&items[0]);
        let other = take_waker(&items[65]);
        assert!(!first.will_wake(&other));
        assert!(first.will_wake(&first.clone()));
    }

    #[test]
    fn a_wake_from_another_thread_queues_the_item_and_wakes_the_task() {
        let (mut pool, items, task) = parked(100);
        let wakers: Vec<Waker> = items[90..].iter().map(take_waker).collect();
        std::thread::spawn(move || wakers.into_iter().for_each(Waker::wake))
            .join()
            .unwrap();
        assert_eq!(task.woken(), 1);
        let waker = Waker::from(task);
        let mut cx = Context::from_waker(&waker);
        let mut ended = Vec::new();
        while let Poll::Ready(Some((index, _))) = pool.poll_next(&mut cx) {
            ended.push(index);
        }
        assert_eq!(ended, (90..100).collect::<Vec<_>>());
    }

    #[test]
    fn wakers_kept_after_the_pool_is_gone_wake_nothing_and_free_their_blocks() {
        let (pool, items, task) = parked(130);
        let shared = Arc::clone(&pool.shared);
        let wakers: Vec<Waker> = items.iter().map(take_waker).collect();
        drop(pool);
        drop(items);
        // The blocks outlive the pool while their wakers do; a wake still queues a number
        // that nothing reads.
        assert!(Arc::strong_count(&shared) > 1);
        for waker in wakers {
            let clone = waker.clone();
            clone.wake();
            waker.wake();
        }
        assert_eq!(
            task.woken(),
            0,
            "the pool's task is not woken after it is gone"
        );
        assert_eq!(Arc::strong_count(&shared), 1, "every block was freed");
    }

    /// A pool's next item, parked at its first poll.
    fn push_parked(pool: &mut Pool<Park>, index: usize) -> Parked {
        let item: Parked = Default::default();
        let park = Park {
            waker: Arc::clone(&item.0),
            polls: Arc::clone(&item.1),
        };
        pool.push(index, trace::GroupSpan::none(), park);
        item
    }

    #[test]
    fn a_finished_items_slot_is_reused_once_no_waker_of_it_is_held() {
        let (mut pool, items, task) = parked(8);
        let waker = Waker::from(Arc::clone(&task));
        let mut cx = Context::from_waker(&waker);
        // Four items finish and drop their wakers, four keep them.
        let kept: Vec<Waker> = items[4..].iter().map(take_waker).collect();
        for item in &items[..4] {
            take_waker(item).wake();
        }
        kept.iter().for_each(Waker::wake_by_ref);
        for _ in 0..8 {
            assert!(matches!(
                pool.poll_next(&mut cx),
                Poll::Ready(Some((_, Ok(2))))
            ));
        }
        let mut next: Vec<Parked> = (8..12).map(|index| push_parked(&mut pool, index)).collect();
        assert_eq!(pool.used, 8, "the four free slots are reused");
        next.push(push_parked(&mut pool, 12));
        assert_eq!(pool.used, 9, "a slot whose waker is held is not");
        while pool.poll_next(&mut cx).is_pending() && pool.batch.len() > pool.cursor {}
        // A kept waker wakes nothing: its slot holds no item.
        let polls = |items: &[Parked]| -> usize {
            items.iter().map(|item| item.1.load(Ordering::SeqCst)).sum()
        };
        let before = polls(&next);
        kept.iter().for_each(Waker::wake_by_ref);
        assert!(pool.poll_next(&mut cx).is_pending());
        assert_eq!(
            polls(&next),
            before,
            "no item was polled for a finished one's waker"
        );
        // Once the wakers are gone, the four slots are free again (looked for when the
        // retired slots are many enough; here, four more items finish with theirs kept).
        drop(kept);
        let kept: Vec<Waker> = next[..4].iter().map(take_waker).collect();
        for waker in &kept {
            waker.wake_by_ref();
        }
        for _ in 0..4 {
            assert!(matches!(
                pool.poll_next(&mut cx),
                Poll::Ready(Some((_, Ok(2))))
            ));
        }
        assert_eq!(pool.retired.len(), 8);
        drop(kept);
        let used = pool.used;
        let _more: Vec<Parked> = (13..21)
            .map(|index| push_parked(&mut pool, index))
            .collect();
        assert_eq!(
            pool.used, used,
            "eight retired slots, free again, were reused"
        );
    }

    /// An item that finishes at its first poll and panics when dropped.
    struct Bomb;

    impl Future for Bomb {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
    }

    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("drop of a finished item");
        }
    }

    #[test]
    fn a_panic_in_a_finished_items_drop_is_its_outcome() {
        let mut pool = Pool::new();
        pool.push(0, trace::GroupSpan::none(), Bomb);
        let task = Arc::new(Task::default());
        let waker = Waker::from(task);
        let mut cx = Context::from_waker(&waker);
        let Poll::Ready(Some((0, Err(payload)))) = pool.poll_next(&mut cx) else {
            panic!("the item's drop panic is its outcome");
        };
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"drop of a finished item")
        );
        assert_eq!(pool.len(), 0);
        assert_eq!(
            pool.poll_next(&mut cx).map(|ended| ended.is_none()),
            Poll::Ready(true)
        );
    }

    /// An item that wakes itself at every poll and never finishes.
    struct Spin(Arc<AtomicUsize>);

    impl Future for Spin {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.0.fetch_add(1, Ordering::SeqCst);
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn items_that_wake_themselves_do_not_hold_the_pool() {
        let polls = Arc::new(AtomicUsize::new(0));
        let mut pool = Pool::new();
        for index in 0..10 {
            pool.push(index, trace::GroupSpan::none(), Spin(Arc::clone(&polls)));
        }
        let task = Arc::new(Task::default());
        let waker = Waker::from(Arc::clone(&task));
        let mut cx = Context::from_waker(&waker);
        for round in 1..=5 {
            assert!(pool.poll_next(&mut cx).is_pending());
            // Two items that woke themselves end the call, which wakes the task.
            assert_eq!(polls.load(Ordering::SeqCst), 2 * round);
            assert_eq!(task.woken(), round);
        }
    }

    #[test]
    fn clear_drops_every_item_and_a_later_wake_finds_no_slot() {
        let (mut pool, items, task) = parked(20);
        let wakers: Vec<Waker> = items.iter().map(take_waker).collect();
        let mut dropped = Vec::new();
        pool.clear(|index, mut fut| {
            fut.set(None);
            dropped.push(index);
        });
        dropped.sort_unstable();
        assert_eq!(dropped, (0..20).collect::<Vec<_>>());
        assert_eq!(pool.len(), 0);
        wakers.into_iter().for_each(Waker::wake);
        let waker = Waker::from(task);
        let mut cx = Context::from_waker(&waker);
        assert_eq!(
            pool.poll_next(&mut cx).map(|ended| ended.is_none()),
            Poll::Ready(true)
        );
    }

    #[test]
    fn slots_map_to_chunks_of_doubling_size() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(7), (0, 7));
        assert_eq!(locate(8), (1, 0));
        assert_eq!(locate(23), (1, 15));
        assert_eq!(locate(24), (2, 0));
        assert_eq!(locate(55), (2, 31));
        assert_eq!(locate(56), (3, 0));
        for slot in 0..100_000 {
            let (chunk, offset) = locate(slot);
            assert!(offset < FIRST_CHUNK << chunk);
        }
    }
}
