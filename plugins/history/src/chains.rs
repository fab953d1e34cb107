//! [`Chains`]: the scrollback chains waiting for their next page.
//!
//! A chain is one reader scrolling back through a room: an `open` read (no
//! `before`) starts it, and each `scrollback` op advances one chain by one
//! page, with `before` = the oldest `createdAt` of the chain's previous page,
//! for at most `scrollback_pages` pages. A chain whose page is in flight is
//! not in the pool (its op holds it); it comes back when the page arrives,
//! and ends when its pages are used up, the room has no older messages, or
//! a request fails.
//!
//! The pool is small and bounded: a chain being scrolled goes to the front
//! (its reader keeps scrolling), new chains join at the back only while
//! there is room, so chains run to their end instead of being starved by
//! fresh ones.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Chains waiting at most; open reads beyond it start none.
pub const POOL: usize = 64;

/// One reader's place in one room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chain {
    /// Sequence number of the op that opened it (for tests and debugging).
    pub id: u64,
    pub room: u32,
    pub user: u32,
    /// The next page's cursor: the oldest `createdAt` of the previous page.
    pub before: i64,
    /// Scrollback pages still to read, including the next one (> 0).
    pub pages_left: u32,
}

/// What a history page told its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageEnd {
    /// Oldest `createdAt` on the page (`None` if empty or unreadable).
    pub oldest: Option<i64>,
    pub has_more: bool,
}

impl Chain {
    /// The chain after reading a page with `end`, or `None` if it is over.
    pub fn advance(self, end: PageEnd) -> Option<Chain> {
        match end.oldest {
            Some(before) if end.has_more && self.pages_left > 1 => Some(Chain {
                before,
                pages_left: self.pages_left - 1,
                ..self
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Chains {
    waiting: Mutex<VecDeque<Chain>>,
}

impl Chains {
    fn waiting(&self) -> std::sync::MutexGuard<'_, VecDeque<Chain>> {
        self.waiting.lock().expect("no panics while locked")
    }

    /// The chain to advance next, if any is waiting.
    pub fn take(&self) -> Option<Chain> {
        self.waiting().pop_front()
    }

    /// An open read found older messages: start a chain of `pages` pages
    /// from it, if the pool has room.
    pub fn start(&self, id: u64, room: u32, user: u32, end: PageEnd, pages: u32) {
        let (Some(before), true) = (end.oldest, end.has_more) else {
            return;
        };
        let mut waiting = self.waiting();
        if waiting.len() < POOL {
            waiting.push_back(Chain {
                id,
                room,
                user,
                before,
                pages_left: pages,
            });
        }
    }

    /// A scrollback page arrived: the chain goes on (first in line) or ends.
    pub fn advanced(&self, chain: Chain, end: PageEnd) {
        if let Some(next) = chain.advance(end) {
            let mut waiting = self.waiting();
            waiting.push_front(next);
            waiting.truncate(POOL);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.waiting().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(oldest: i64, has_more: bool) -> PageEnd {
        PageEnd {
            oldest: Some(oldest),
            has_more,
        }
    }

    #[test]
    fn a_chain_follows_each_pages_oldest_time_for_its_pages() {
        let chains = Chains::default();
        chains.start(7, 2, 3, page(1_000, true), 3);
        let mut cursors = Vec::new();
        let mut ends = [
            page(900, true),
            page(800, true),
            page(700, true),
            page(600, true),
        ]
        .into_iter();
        while let Some(chain) = chains.take() {
            assert_eq!((chain.id, chain.room, chain.user), (7, 2, 3));
            cursors.push(chain.before);
            chains.advanced(chain, ends.next().unwrap());
        }
        assert_eq!(
            cursors,
            [1_000, 900, 800],
            "3 scrollback pages, each before the previous oldest"
        );
        assert_eq!(ends.next(), Some(page(600, true)), "no fourth page");
    }

    #[test]
    fn a_chain_ends_at_the_start_of_the_room_or_on_an_unreadable_page() {
        let chain = Chain {
            id: 0,
            room: 0,
            user: 0,
            before: 10,
            pages_left: 5,
        };
        let table = [
            (page(5, false), None),
            (
                PageEnd {
                    oldest: None,
                    has_more: true,
                },
                None,
            ),
            (
                page(5, true),
                Some(Chain {
                    before: 5,
                    pages_left: 4,
                    ..chain
                }),
            ),
        ];
        for (end, want) in table {
            assert_eq!(chain.advance(end), want, "{end:?}");
        }
        assert_eq!(
            Chain {
                pages_left: 1,
                ..chain
            }
            .advance(page(5, true)),
            None
        );
    }

    #[test]
    fn open_reads_start_chains_only_with_older_messages_and_room_in_the_pool() {
        let chains = Chains::default();
        chains.start(0, 0, 0, page(5, false), 5);
        chains.start(
            0,
            0,
            0,
            PageEnd {
                oldest: None,
                has_more: false,
            },
            5,
        );
        assert_eq!(chains.len(), 0);
        for id in 0..POOL as u64 + 10 {
            chains.start(id, 0, 0, page(5, true), 5);
        }
        assert_eq!(chains.len(), POOL);
        assert_eq!(chains.take().map(|c| c.id), Some(0), "oldest first");
    }

    #[test]
    fn a_chain_being_scrolled_goes_first() {
        let chains = Chains::default();
        chains.start(1, 0, 0, page(50, true), 5);
        chains.start(2, 0, 0, page(50, true), 5);
        let first = chains.take().unwrap();
        chains.start(3, 0, 0, page(50, true), 5);
        chains.advanced(first, page(40, true));
        let order: Vec<u64> = std::iter::from_fn(|| chains.take()).map(|c| c.id).collect();
        assert_eq!(order, [1, 2, 3]);
    }
}
