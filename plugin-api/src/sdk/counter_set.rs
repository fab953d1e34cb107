//! [`counter_set!`](crate::counter_set): a plugin's counters as a struct of
//! atomics, with the `counters()` listing and the declaration for
//! `plugins info` written for you.
//!
//! Counters are informational (see [`Counter`](crate::abi::Counter)): they
//! explain a step (errors by reason, drops), they never change its verdict
//! unless the user gates one with `--slo-counter`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Add one to a counter of a [`counter_set!`](crate::counter_set) struct.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A counter as declared: its name and what it counts (for `plugins info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterDecl {
    pub name: String,
    pub help: String,
}

impl CounterDecl {
    pub fn new(name: &str, help: &str) -> CounterDecl {
        CounterDecl {
            name: name.into(),
            help: help.into(),
        }
    }
}

/// Declare a struct of named counters (each an `AtomicU64`); each doc comment
/// says what the counter counts. It gets `Default`, `counters()` in
/// declaration order, and `declare()` for [`Info::counters`](crate::sdk::Info::counters):
///
/// ```
/// loadgen_plugin_api::counter_set! {
///     pub struct Tally {
///         /// Ops sent.
///         published,
///         /// The server said no.
///         rejected,
///     }
/// }
/// let tally = Tally::default();
/// loadgen_plugin_api::sdk::bump(&tally.rejected);
/// assert_eq!(tally.counters()[1].value, 1);
/// assert_eq!(Tally::declare()[0].help, "Ops sent.");
/// ```
#[macro_export]
macro_rules! counter_set {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[doc = $doc:literal])* $field:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        $vis struct $name {
            $( $(#[doc = $doc])* pub $field: ::std::sync::atomic::AtomicU64, )*
        }

        impl $name {
            pub fn counters(&self) -> ::std::vec::Vec<$crate::abi::Counter> {
                ::std::vec![$(
                    $crate::abi::Counter::new(
                        stringify!($field),
                        self.$field.load(::std::sync::atomic::Ordering::Relaxed),
                    ),
                )*]
            }

            pub fn declare() -> ::std::vec::Vec<$crate::sdk::CounterDecl> {
                ::std::vec![$(
                    $crate::sdk::CounterDecl {
                        name: ::std::string::String::from(stringify!($field)),
                        help: $crate::sdk::__join_doc(&[$($doc),*]),
                    },
                )*]
            }
        }
    };
}
