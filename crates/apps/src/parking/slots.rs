//! The slots of one parking lot: which are taken, and which a new call
//! gets (`parking_lot_get_space`): the lowest free one with
//! `findslot=first`; with `findslot=next`, the first free one after the
//! slot handed out last, wrapping around to the start.

use std::collections::BTreeSet;

use super::config::FindSlot;

/// A lot's slots.
#[derive(Debug, Clone)]
pub struct Slots {
    start: u32,
    stop: u32,
    find: FindSlot,
    /// Where `findslot=next` looks first.
    next: u32,
    taken: BTreeSet<u32>,
}

impl Slots {
    /// The slots `start..=stop`, all free.
    pub fn new(start: u32, stop: u32, find: FindSlot) -> Slots {
        Slots {
            start,
            stop,
            find,
            next: start,
            taken: BTreeSet::new(),
        }
    }

    /// Takes `wanted` if it is one of the lot's and free; without a wish,
    /// a free slot as `findslot` says. `None` when there is none.
    pub fn take(&mut self, wanted: Option<u32>) -> Option<u32> {
        let slot = match wanted {
            Some(slot) => (slot >= self.start && slot <= self.stop && !self.taken.contains(&slot))
                .then_some(slot)?,
            None => {
                let from = match self.find {
                    FindSlot::First => self.start,
                    FindSlot::Next => self.next,
                };
                (from..=self.stop)
                    .chain(self.start..from)
                    .find(|s| !self.taken.contains(s))?
            }
        };
        self.taken.insert(slot);
        self.next = if slot >= self.stop {
            self.start
        } else {
            slot + 1
        };
        Some(slot)
    }

    /// Frees `slot`.
    pub fn release(&mut self, slot: u32) {
        self.taken.remove(&slot);
    }

    /// Whether `slot` is taken.
    pub fn is_taken(&self, slot: u32) -> bool {
        self.taken.contains(&slot)
    }

    /// Takes over the slots taken in `old` (a reload keeps parked calls
    /// where they are, even outside a new range).
    pub fn keep(&mut self, old: &Slots) {
        self.taken.extend(old.taken.iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_gives_the_lowest_free_slot() {
        let mut s = Slots::new(701, 703, FindSlot::First);
        assert_eq!(s.take(None), Some(701));
        assert_eq!(s.take(None), Some(702));
        s.release(701);
        assert_eq!(s.take(None), Some(701));
        assert_eq!(s.take(None), Some(703));
        assert_eq!(s.take(None), None, "full");
        assert!(s.is_taken(702));
    }

    #[test]
    fn next_goes_on_after_the_last_and_wraps() {
        let mut s = Slots::new(701, 703, FindSlot::Next);
        assert_eq!(s.take(None), Some(701));
        s.release(701);
        assert_eq!(s.take(None), Some(702), "not the freed 701");
        assert_eq!(s.take(None), Some(703));
        assert_eq!(s.take(None), Some(701), "wrapped");
        assert_eq!(s.take(None), None);
    }

    #[test]
    fn a_wished_slot_must_be_the_lots_and_free() {
        let mut s = Slots::new(701, 703, FindSlot::First);
        assert_eq!(s.take(Some(702)), Some(702));
        assert_eq!(s.take(Some(702)), None, "taken");
        assert_eq!(s.take(Some(704)), None, "not in the lot");
        assert_eq!(s.take(None), Some(701));
    }

    #[test]
    fn a_reload_keeps_taken_slots() {
        let mut old = Slots::new(701, 703, FindSlot::First);
        old.take(Some(702));
        let mut new = Slots::new(701, 705, FindSlot::First);
        new.keep(&old);
        assert_eq!(new.take(None), Some(701));
        assert_eq!(new.take(None), Some(703));
    }
}
