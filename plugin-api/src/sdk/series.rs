//! [`Series`] and [`Reason`]: small typed handles for a plugin's latency series
//! and error reasons, declared once as constants and listed in [`Info`](super::Info).

/// A latency series (`E1`, `http`…): its position in [`Info::series`](super::Info::series)
/// and its name. Declare each as a constant:
///
/// ```
/// use loadgen_plugin_api::sdk::Series;
/// pub const E1: Series = Series::new(0, "E1");
/// pub const E2: Series = Series::new(1, "E2");
/// ```
/// `Info::series(&[E1, E2])` refuses (at load time, with a one-line error) a
/// list whose positions do not match the indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Series {
    index: u16,
    name: &'static str,
}

impl Series {
    pub const fn new(index: u16, name: &'static str) -> Series {
        Series { index, name }
    }

    pub const fn index(self) -> u16 {
        self.index
    }

    pub const fn name(self) -> &'static str {
        self.name
    }
}

/// An error reason (`gatekeeper`, `http_5xx`…) an `Error` sample carries:
/// its position in [`Info::error_reasons`](super::Info::error_reasons) and its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reason {
    index: u16,
    name: &'static str,
}

impl Reason {
    pub const fn new(index: u16, name: &'static str) -> Reason {
        Reason { index, name }
    }

    pub const fn index(self) -> u16 {
        self.index
    }

    pub const fn name(self) -> &'static str {
        self.name
    }
}

/// Check that `declared[i]` has index `i`, so a sample's index names the
/// series or reason the author meant.
pub(crate) fn check_positions<'a>(
    what: &str,
    declared: impl Iterator<Item = (u16, &'a str)>,
) -> Result<(), String> {
    for (position, (index, name)) in declared.enumerate() {
        if usize::from(index) != position {
            return Err(format!(
                "{what} '{name}' has index {index} but is listed at position {position}"
            ));
        }
    }
    Ok(())
}
