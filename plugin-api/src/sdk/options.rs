//! Options declared once: [`options!`](crate::options) turns a struct whose
//! fields carry a type, a default and a doc comment into the plugin's declared
//! `-o` options (name, default, help for `plugins info`), their validation and
//! the typed value the plugin starts with.
//!
//! Field types implement [`OptionValue`]: numbers, `bool`, `String`,
//! [`Duration`] (`250ms`, `5s`), and the checked wrappers [`Positive`],
//! [`Fraction`], [`Parsed`] (any `FromStr`); enums come from
//! [`option_choice!`](crate::option_choice).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::ops::Deref;
use std::str::FromStr;
use std::time::Duration;

/// One declared option: its name, default value (as the user would type it) and help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionDecl {
    pub name: String,
    pub default: String,
    pub help: String,
    /// A credential ([`Secret`]): the host shows its value as `***` in every
    /// output and asks for it again on `--resume`.
    pub secret: bool,
}

/// A plugin's options as one typed struct. Written by [`options!`](crate::options);
/// `()` is the empty set.
pub trait PluginOptions: Sized + Send + 'static {
    /// Name, default and help of every option, in declaration order.
    fn declare() -> Vec<OptionDecl>;

    /// The typed value from the merged `-o` values.
    fn from_values(values: &OptionValues) -> Result<Self, String>;

    /// Merge `given` over the declared defaults and parse; an undeclared key
    /// is an error naming the valid ones. `plugin` names the plugin in it.
    fn resolve(plugin: &str, given: &BTreeMap<String, String>) -> Result<Self, String> {
        Self::from_values(&OptionValues::resolve(plugin, &Self::declare(), given)?)
    }

    /// [`PluginOptions::resolve`] from `(key, value)` pairs: for tests.
    fn resolve_pairs(plugin: &str, pairs: &[(&str, &str)]) -> Result<Self, String> {
        let given = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::resolve(plugin, &given)
    }

    /// [`PluginOptions::resolve_pairs`] for a plugin called `plugin`.
    fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, String> {
        Self::resolve_pairs("plugin", pairs)
    }
}

impl PluginOptions for () {
    fn declare() -> Vec<OptionDecl> {
        Vec::new()
    }

    fn from_values(_: &OptionValues) -> Result<(), String> {
        Ok(())
    }
}

/// The user's `-o KEY=VALUE` strings merged over the declared defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptionValues {
    values: BTreeMap<String, String>,
}

impl OptionValues {
    /// Merge `given` over `declared`'s defaults; an undeclared key is an
    /// error that lists the valid ones.
    pub fn resolve(
        plugin: &str,
        declared: &[OptionDecl],
        given: &BTreeMap<String, String>,
    ) -> Result<OptionValues, String> {
        let mut values: BTreeMap<String, String> = declared
            .iter()
            .map(|o| (o.name.clone(), o.default.clone()))
            .collect();
        for (key, value) in given {
            if !values.contains_key(key) {
                let valid: Vec<&str> = declared.iter().map(|o| o.name.as_str()).collect();
                return Err(format!(
                    "unknown option '{key}' for plugin {plugin} (valid: {})",
                    valid.join(", ")
                ));
            }
            values.insert(key.clone(), value.clone());
        }
        Ok(OptionValues { values })
    }

    /// The value of option `name`, parsed as `T`.
    pub fn get<T: OptionValue>(&self, name: &str) -> Result<T, String> {
        let raw = self
            .values
            .get(name)
            .ok_or_else(|| format!("option '{name}' is not declared"))?;
        T::parse_option(name, raw)
    }
}

/// A type an option's string parses into. `name` is the option's, for the error.
///
/// Implement it for your own types when [`Parsed`] (any `FromStr`) or
/// [`option_choice!`](crate::option_choice) do not fit, e.g. a list:
///
/// ```
/// use loadgen_plugin_api::sdk::{OptionValue, PluginOptions};
///
/// /// `a,b,c`: one or more names.
/// #[derive(Clone, Debug, PartialEq)]
/// pub struct Names(Vec<String>);
///
/// impl OptionValue for Names {
///     fn parse_option(name: &str, raw: &str) -> Result<Names, String> {
///         let names: Vec<String> = raw.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
///         if names.is_empty() {
///             return Err(format!("option '{name}': give one or more names, e.g. a,b"));
///         }
///         Ok(Names(names))
///     }
/// }
///
/// loadgen_plugin_api::options! {
///     pub struct O {
///         /// the queues to read
///         queues: Names = "orders",
///     }
/// }
/// assert_eq!(O::from_pairs(&[("queues", "a, b")]).unwrap().queues, Names(vec!["a".into(), "b".into()]));
/// assert!(O::from_pairs(&[("queues", ",")]).is_err());
/// ```
pub trait OptionValue: Sized {
    /// Parse `raw`; the error is one line naming the option and the value,
    /// e.g. `option 'delay': 'soon' is not a duration like 250ms or 5s`.
    fn parse_option(name: &str, raw: &str) -> Result<Self, String>;

    /// Is a value of this type a credential? Only [`Secret`] says yes.
    const SECRET: bool = false;
}

fn parse_from_str<T>(name: &str, raw: &str, what: &str) -> Result<T, String>
where
    T: FromStr,
    T::Err: Display,
{
    raw.trim()
        .parse()
        .map_err(|e| format!("option '{name}': '{raw}' is not {what} ({e})"))
}

macro_rules! option_value_from_str {
    ($what:literal: $($t:ty),*) => {$(
        impl OptionValue for $t {
            fn parse_option(name: &str, raw: &str) -> Result<Self, String> {
                parse_from_str(name, raw, $what)
            }
        }
    )*};
}

option_value_from_str!("a whole number": u16, u32, u64, usize, i32, i64);
option_value_from_str!("a number": f64);
option_value_from_str!("true or false": bool);

impl OptionValue for String {
    fn parse_option(_name: &str, raw: &str) -> Result<Self, String> {
        Ok(raw.trim().to_string())
    }
}

impl OptionValue for Duration {
    fn parse_option(name: &str, raw: &str) -> Result<Self, String> {
        humantime::parse_duration(raw.trim()).map_err(|e| {
            format!("option '{name}': '{raw}' is not a duration like 250ms or 5s ({e})")
        })
    }
}

/// A value that must be > 0 (a number, or a [`Duration`]): `Positive<u64>`,
/// `Positive<Duration>`. Reads as the inner value through `Deref` or `.get()`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Positive<T>(T);

impl<T: Copy> Positive<T> {
    pub fn get(&self) -> T {
        self.0
    }
}

impl<T> Deref for Positive<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: OptionValue + PartialOrd + Default> OptionValue for Positive<T> {
    fn parse_option(name: &str, raw: &str) -> Result<Self, String> {
        let value = T::parse_option(name, raw)?;
        if value > T::default() {
            Ok(Positive(value))
        } else {
            Err(format!("option '{name}' must be > 0"))
        }
    }
}

/// A number in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Fraction(f64);

impl Fraction {
    pub fn get(&self) -> f64 {
        self.0
    }
}

impl OptionValue for Fraction {
    fn parse_option(name: &str, raw: &str) -> Result<Self, String> {
        let v = f64::parse_option(name, raw)?;
        if (0.0..=1.0).contains(&v) {
            Ok(Fraction(v))
        } else {
            Err(format!("option '{name}' must be between 0 and 1, got {v}"))
        }
    }
}

/// Any `FromStr` type (e.g. another crate's enum); the error reads
/// `option 'NAME': <its Display>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed<T>(T);

impl<T: Copy> Parsed<T> {
    pub fn get(&self) -> T {
        self.0
    }
}

impl<T> Deref for Parsed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> OptionValue for Parsed<T>
where
    T: FromStr,
    T::Err: Display,
{
    fn parse_option(name: &str, raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse()
            .map(Parsed)
            .map_err(|e| format!("option '{name}': {e}"))
    }
}

/// A credential (a password, a token): the plugin reads the value, loadgen
/// shows it as `***` everywhere else (`plugins info` defaults, settings,
/// journal, reports, logs, error lines). `Secret<String>`, or any other
/// option type inside. Its `Debug` is `***` too, so a plugin's own
/// `{:?}` of its options cannot leak it.
///
/// ```
/// use loadgen_plugin_api::sdk::{PluginOptions, Secret};
///
/// loadgen_plugin_api::options! {
///     pub struct O {
///         /// the broker's password
///         password: Secret<String> = "",
///     }
/// }
/// let o = O::from_pairs(&[("password", "hunter2")]).unwrap();
/// assert_eq!(o.password.expose(), "hunter2");
/// assert_eq!(format!("{:?}", o.password), "***");
/// assert!(O::declare()[0].secret);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The value itself: for the protocol, never for a message.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(loadgen_redact::MASK)
    }
}

impl<T: OptionValue> OptionValue for Secret<T> {
    fn parse_option(name: &str, raw: &str) -> Result<Self, String> {
        // The inner type's error would quote the value: say only what is wrong.
        T::parse_option(name, raw).map(Secret).map_err(|_| {
            format!(
                "option '{name}': its value ({}) does not parse",
                loadgen_redact::MASK
            )
        })
    }

    const SECRET: bool = true;
}

/// One of a fixed set of words, for [`option_choice!`](crate::option_choice).
/// Case does not matter (`-o mode=Fast` is `fast`): users type words, not identifiers.
#[doc(hidden)]
pub fn parse_choice<T: Copy>(name: &str, raw: &str, choices: &[(&str, T)]) -> Result<T, String> {
    choices
        .iter()
        .find(|(word, _)| word.eq_ignore_ascii_case(raw.trim()))
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let words: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
            format!("option '{name}': '{raw}' is not one of {}", words.join("|"))
        })
}

/// The help text of an option: its doc comment lines, joined.
#[doc(hidden)]
pub fn join_doc(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Declare a plugin's options once: each field's doc comment is its help, the
/// string after `=` its default (as a user would type it), its type its
/// validation. Generates the struct (with `pub` fields), [`PluginOptions`]
/// and a `Default` built from the declared defaults.
///
/// ```
/// use std::time::Duration;
/// use loadgen_plugin_api::sdk::{Fraction, PluginOptions, Positive};
///
/// loadgen_plugin_api::options! {
///     pub struct ServerOptions {
///         /// ops/s the server completes
///         capacity: Positive<u64> = "1000",
///         /// added to every op
///         base_latency: Duration = "1ms",
///         /// fraction of ops answered with an error
///         error_rate: Fraction = "0",
///     }
/// }
///
/// let o = ServerOptions::from_pairs(&[("capacity", "50")]).unwrap();
/// assert_eq!(o.capacity.get(), 50);
/// assert_eq!(o.base_latency, Duration::from_millis(1));
/// assert_eq!(
///     ServerOptions::from_pairs(&[("capacity", "0")]).unwrap_err(),
///     "option 'capacity' must be > 0"
/// );
/// assert_eq!(ServerOptions::declare()[2].help, "fraction of ops answered with an error");
/// ```
#[macro_export]
macro_rules! options {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $default:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        $vis struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl $crate::sdk::PluginOptions for $name {
            fn declare() -> ::std::vec::Vec<$crate::sdk::OptionDecl> {
                ::std::vec![$(
                    $crate::sdk::OptionDecl {
                        name: ::std::string::String::from(stringify!($field)),
                        default: ::std::string::String::from($default),
                        help: $crate::sdk::__join_doc(&[$($doc),*]),
                        secret: <$ty as $crate::sdk::OptionValue>::SECRET,
                    },
                )*]
            }

            fn from_values(
                values: &$crate::sdk::OptionValues,
            ) -> ::std::result::Result<Self, ::std::string::String> {
                ::std::result::Result::Ok($name {
                    $( $field: values.get::<$ty>(stringify!($field))?, )*
                })
            }
        }

        /// The declared defaults.
        impl ::std::default::Default for $name {
            fn default() -> Self {
                <Self as $crate::sdk::PluginOptions>::from_pairs(&[])
                    .expect("declared defaults parse (checked when the plugin is described)")
            }
        }
    };
}

/// Declare an enum option: each variant and the word that selects it (in
/// any case: `Canonical` and `CANONICAL` select `canonical` too).
///
/// ```
/// loadgen_plugin_api::option_choice! {
///     /// How messages enter the system.
///     pub enum Inject { Frontdoor = "frontdoor", Canonical = "canonical" }
/// }
/// use loadgen_plugin_api::sdk::OptionValue;
/// assert_eq!(Inject::parse_option("inject", "canonical"), Ok(Inject::Canonical));
/// assert_eq!(Inject::parse_option("inject", "Canonical"), Ok(Inject::Canonical));
/// assert_eq!(
///     Inject::parse_option("inject", "side").unwrap_err(),
///     "option 'inject': 'side' is not one of frontdoor|canonical"
/// );
/// ```
#[macro_export]
macro_rules! option_choice {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $word:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name { $( $(#[$vmeta])* $variant, )+ }

        impl $name {
            /// The word that selects this variant.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $word, )+ }
            }
        }

        impl $crate::sdk::OptionValue for $name {
            fn parse_option(
                name: &str,
                raw: &str,
            ) -> ::std::result::Result<Self, ::std::string::String> {
                $crate::sdk::__parse_choice(name, raw, &[$( ($word, $name::$variant), )+])
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::options! {
        struct Sample {
            /// ops/s
            capacity: Positive<u64> = "1000",
            /// added
            /// to every op
            delay: Duration = "5ms",
            mode: String = "fast",
            share: Fraction = "0.5",
        }
    }

    #[test]
    fn declared_once_defaults_help_and_values() {
        let declared = Sample::declare();
        let rows: Vec<(&str, &str, &str)> = declared
            .iter()
            .map(|d| (d.name.as_str(), d.default.as_str(), d.help.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("capacity", "1000", "ops/s"),
                ("delay", "5ms", "added to every op"),
                ("mode", "fast", ""),
                ("share", "0.5", ""),
            ]
        );
        let o = Sample::from_pairs(&[("capacity", "7")]).unwrap();
        assert_eq!(*o.capacity, 7);
        assert_eq!(o.delay, Duration::from_millis(5));
        assert_eq!(Sample::default().capacity.get(), 1000);
    }

    #[test]
    fn unknown_key_lists_valid_keys() {
        let given = BTreeMap::from([("capcity".to_string(), "7".to_string())]);
        let err = Sample::resolve("t", &given).unwrap_err();
        assert_eq!(
            err,
            "unknown option 'capcity' for plugin t (valid: capacity, delay, mode, share)"
        );
    }

    #[test]
    fn bad_values_name_option_and_value() {
        let table: &[(&str, &str, &str)] = &[
            (
                "capacity",
                "abc",
                "option 'capacity': 'abc' is not a whole number",
            ),
            ("capacity", "0", "option 'capacity' must be > 0"),
            (
                "delay",
                "soon",
                "option 'delay': 'soon' is not a duration like 250ms or 5s",
            ),
            (
                "share",
                "2",
                "option 'share' must be between 0 and 1, got 2",
            ),
        ];
        for (key, value, want) in table {
            let err = Sample::from_pairs(&[(key, value)]).unwrap_err();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
        assert_eq!(
            Positive::<Duration>::parse_option("t", "0s").unwrap_err(),
            "option 't' must be > 0"
        );
    }
}
