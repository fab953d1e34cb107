//! Each step's whole histograms, kept in the JSON so a run can be re-analysed
//! (any percentile) or merged with another later: HdrHistogram V2
//! serialization, base64, values in nanoseconds — the format the HdrHistogram
//! libraries of every language read.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// One series' histograms over a step's hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepHistogram {
    pub series: String,
    /// Latency from the intended send, ns, HdrHistogram V2 in base64.
    pub latency: String,
    /// Latency from the actual send (service time), ns, V2 in base64.
    pub service: String,
}

/// A histogram as base64 of its V2 serialization.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .expect("serializing into memory cannot fail");
    STANDARD.encode(bytes)
}

/// A histogram as base64 of its V2 + deflate serialization: smaller, for
/// the wire (a distributed run's agents), read by the same [`decode`].
pub fn encode_deflated(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("serializing into memory cannot fail");
    STANDARD.encode(bytes)
}

/// The histogram [`encode`] or [`encode_deflated`] wrote.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram is not HdrHistogram V2: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_every_count() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for v in [1_000_000, 2_000_000, 2_000_000, 250_000_000] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.len(), 4);
        assert!(decode("not base64!").is_err());
        assert!(decode("aGVsbG8=").is_err(), "base64 of something else");
    }
}
