//! [`Backlogs`]: each backlog's value at one reading, the one form a reading
//! takes from the poller's answer to the per-second report points.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Each backlog's value at one reading, by name (a JSON object).
/// Kept once per second of hold, so it is a sorted boxed slice, not a
/// `BTreeMap`: a map's node (≈370 bytes, even for one backlog) per point was
/// most of what a long hold's memory grew by (`bench/soak.sh`: 0.8 KB a second).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Backlogs(Box<[(String, i64)]>);

impl Backlogs {
    pub fn get(&self, name: &str) -> Option<&i64> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// By name, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &i64)> {
        self.0.iter().map(|(n, v)| (n, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(n, _)| n)
    }

    pub fn values(&self) -> impl Iterator<Item = &i64> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl From<BTreeMap<String, i64>> for Backlogs {
    fn from(map: BTreeMap<String, i64>) -> Backlogs {
        Backlogs(map.into_iter().collect())
    }
}

/// By name; a name given twice keeps its last value.
impl FromIterator<(String, i64)> for Backlogs {
    fn from_iter<I: IntoIterator<Item = (String, i64)>>(pairs: I) -> Backlogs {
        pairs.into_iter().collect::<BTreeMap<_, _>>().into()
    }
}

#[cfg(any(test, feature = "test-fixtures"))]
impl<const N: usize> From<[(String, i64); N]> for Backlogs {
    fn from(pairs: [(String, i64); N]) -> Backlogs {
        BTreeMap::from(pairs).into()
    }
}

impl Serialize for Backlogs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Backlogs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, i64>::deserialize(deserializer).map(Backlogs::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_by_name_and_travel_as_a_json_object() {
        let values = Backlogs::from([("b".to_string(), 2), ("a".to_string(), 1)]);
        assert_eq!(values.get("a"), Some(&1));
        assert_eq!(values.get("b"), Some(&2));
        assert_eq!(values.get("c"), None);
        assert_eq!(values.keys().collect::<Vec<_>>(), ["a", "b"]);
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(json, r#"{"a":1,"b":2}"#);
        assert_eq!(serde_json::from_str::<Backlogs>(&json).unwrap(), values);
        assert!(Backlogs::default().is_empty());
        let collected: Backlogs = [("b".to_string(), 2), ("a".to_string(), 1)]
            .into_iter()
            .collect();
        assert_eq!(collected, values);
    }
}
