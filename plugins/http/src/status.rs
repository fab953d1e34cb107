//! Which answers count as success (`expect_status`), and the failure reason
//! of one that does not.

use std::str::FromStr;

use http::StatusCode;
use loadgen_plugin_api::sdk::Reason;

/// The statuses the user expects: exact codes and whole classes (`2xx`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectStatus {
    codes: Vec<u16>,
    /// Leading digits of accepted classes: `2` for `2xx`.
    classes: Vec<u16>,
}

/// Why an op failed. Each is also a counter of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Connect,
    Status4xx,
    Status5xx,
    StatusOther,
    Body,
    /// Any other client error (a protocol error mid-request).
    Request,
}

impl Failure {
    /// In the order of `Info::error_reasons` (the index is `Sample::reason`).
    pub const ALL: [Failure; 6] = [
        Failure::Connect,
        Failure::Status4xx,
        Failure::Status5xx,
        Failure::StatusOther,
        Failure::Body,
        Failure::Request,
    ];

    /// The error reason of `Info::error_reasons`, in the order of [`Failure::ALL`].
    pub const fn reason(self) -> Reason {
        match self {
            Failure::Connect => Reason::new(0, "connect"),
            Failure::Status4xx => Reason::new(1, "status_4xx"),
            Failure::Status5xx => Reason::new(2, "status_5xx"),
            Failure::StatusOther => Reason::new(3, "status_other"),
            Failure::Body => Reason::new(4, "body"),
            Failure::Request => Reason::new(5, "request"),
        }
    }

    pub fn reasons() -> Vec<Reason> {
        Failure::ALL.iter().map(|f| f.reason()).collect()
    }
}

impl FromStr for ExpectStatus {
    type Err = String;

    fn from_str(raw: &str) -> Result<ExpectStatus, String> {
        ExpectStatus::parse(raw)
    }
}

impl ExpectStatus {
    /// `2xx`, `200,204`, `2xx,304` …
    pub fn parse(raw: &str) -> Result<ExpectStatus, String> {
        let mut expect = ExpectStatus {
            codes: Vec::new(),
            classes: Vec::new(),
        };
        for part in raw.split(',').map(str::trim) {
            let bad = || {
                format!(
                    "option 'expect_status': '{part}' is not a status code (200) or class (2xx)"
                )
            };
            if let Some(class) = part.strip_suffix("xx") {
                let digit: u16 = class.parse().map_err(|_| bad())?;
                if !(1..=5).contains(&digit) {
                    return Err(bad());
                }
                expect.classes.push(digit);
            } else {
                let code: u16 = part.parse().map_err(|_| bad())?;
                StatusCode::from_u16(code).map_err(|_| bad())?;
                expect.codes.push(code);
            }
        }
        Ok(expect)
    }

    /// `None` when `status` is expected, else why the op failed.
    pub fn check(&self, status: StatusCode) -> Option<Failure> {
        let code = status.as_u16();
        if self.codes.contains(&code) || self.classes.contains(&(code / 100)) {
            return None;
        }
        Some(match code / 100 {
            4 => Failure::Status4xx,
            5 => Failure::Status5xx,
            _ => Failure::StatusOther,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_judged_against_the_expectation() {
        let table: &[(&str, u16, Option<Failure>)] = &[
            ("2xx", 200, None),
            ("2xx", 204, None),
            ("2xx", 301, Some(Failure::StatusOther)),
            ("2xx", 404, Some(Failure::Status4xx)),
            ("2xx", 429, Some(Failure::Status4xx)),
            ("2xx", 503, Some(Failure::Status5xx)),
            ("200,204", 201, Some(Failure::StatusOther)),
            ("200, 204", 204, None),
            ("2xx,404", 404, None),
            ("5xx", 500, None),
        ];
        for (raw, code, want) in table {
            let expect = ExpectStatus::parse(raw).unwrap();
            let got = expect.check(StatusCode::from_u16(*code).unwrap());
            assert_eq!(got, *want, "{raw} vs {code}");
        }
    }

    #[test]
    fn bad_expectations_are_refused() {
        for raw in ["", "ok", "2x", "9xx", "99", "200,,204"] {
            let err = ExpectStatus::parse(raw).unwrap_err();
            assert!(
                err.ends_with("is not a status code (200) or class (2xx)"),
                "{raw}: {err}"
            );
        }
    }

    #[test]
    fn reason_indices_follow_the_declared_order() {
        for (i, f) in Failure::ALL.iter().enumerate() {
            assert_eq!(f.reason().index() as usize, i);
        }
    }
}
