//! Which answers count as success (`expect_status`), and the failure reason
//! of one that does not.

use http::StatusCode;

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

    pub fn name(self) -> &'static str {
        match self {
            Failure::Connect => "connect",
            Failure::Status4xx => "status_4xx",
            Failure::Status5xx => "status_5xx",
            Failure::StatusOther => "status_other",
            Failure::Body => "body",
            Failure::Request => "request",
        }
    }

    pub fn index(self) -> u16 {
        Failure::ALL.iter().position(|f| *f == self).unwrap_or(0) as u16
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
            assert!(err.starts_with("option 'expect_status'"), "{raw}: {err}");
        }
    }

    #[test]
    fn reason_indices_follow_the_declared_order() {
        for (i, f) in Failure::ALL.iter().enumerate() {
            assert_eq!(f.index() as usize, i);
        }
    }
}
