//! Reading a counter from Prometheus/OpenMetrics text.

use anyhow::Context as _;

use crate::http;

/// The value of the sample `name{labels}` in `text`. Labels must match
/// exactly (order included), as the testbed renders them.
pub fn counter(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let rendered: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    let series = if labels.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", rendered.join(","))
    };
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series.as_str())?
            .strip_prefix(' ')?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

/// Scrapes `url` and reads one counter from it.
pub async fn scrape_counter(url: &str, name: &str, labels: &[(&str, &str)]) -> anyhow::Result<f64> {
    let (status, body) = http::get(url).await?;
    anyhow::ensure!(status == 200, "GET {url}: status {status}");
    counter(&body, name, labels)
        .with_context(|| format!("{name}{labels:?} not in the scrape of {url}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_labelled_samples() {
        let text =
            "# TYPE a counter\na_total{service=\"x\"} 3\na_total{service=\"y\"} 4.5\nb 1\n# EOF\n";
        assert_eq!(counter(text, "a_total", &[("service", "y")]), Some(4.5));
        assert_eq!(counter(text, "b", &[]), Some(1.0));
        assert_eq!(counter(text, "a_total", &[("service", "z")]), None);
    }
}
