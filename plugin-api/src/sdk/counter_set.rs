//! [`counter_set!`](crate::counter_set): a plugin's counters as a struct of
//! atomics, with the `counters()` listing written for you.

use std::sync::atomic::{AtomicU64, Ordering};

/// Add one to a counter of a [`counter_set!`](crate::counter_set) struct.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Declare a struct of named counters (each `AtomicU64`) and their kinds; it
/// gets `Default` and `counters() -> Vec<Counter>` in declaration order:
///
/// ```
/// loadgen_plugin_api::counter_set! {
///     pub struct Tally {
///         /// Ops sent.
///         published: Attempted,
///         /// The server said no.
///         rejected: Failed,
///     }
/// }
/// let tally = Tally::default();
/// loadgen_plugin_api::sdk::bump(&tally.rejected);
/// assert_eq!(tally.counters()[1].value, 1);
/// ```
#[macro_export]
macro_rules! counter_set {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $kind:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        $vis struct $name {
            $( $(#[$field_meta])* pub $field: ::std::sync::atomic::AtomicU64, )*
        }

        impl $name {
            pub fn counters(&self) -> ::std::vec::Vec<$crate::abi::Counter> {
                ::std::vec![$(
                    $crate::abi::Counter::new(
                        stringify!($field),
                        $crate::abi::CounterKind::$kind,
                        self.$field.load(::std::sync::atomic::Ordering::Relaxed),
                    ),
                )*]
            }
        }
    };
}
