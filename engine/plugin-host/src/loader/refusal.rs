//! One line from abi_stable's refusal of an incompatible plugin: which
//! versions (the host's plugin-api and the plugin's) and, for a layout
//! mismatch, which type and what differs.

use abi_stable::library::LibraryError;
use loadgen_plugin_api::abi::INTERFACE_VERSION;

/// `plugin-api 0.1.0 (this loadgen loads 0.2.x): …` — the summary of `err`.
pub fn summarize(err: &LibraryError) -> String {
    match err {
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => {
            let newer = if (actual_version.major, actual_version.minor)
                < (expected_version.major, expected_version.minor)
            {
                "the plugin is older: rebuild it against"
            } else {
                "the plugin is newer: use a loadgen built with"
            };
            format!(
                "plugin built against plugin-api {actual_version}, this loadgen loads {}.{}.x; {newer} loadgen-plugin-api {}.{}",
                expected_version.major,
                expected_version.minor,
                expected_version.major,
                expected_version.minor
            )
        }
        other => {
            let text = other.to_string();
            format!(
                "this loadgen uses plugin-api {INTERFACE_VERSION}: {}",
                layout_mismatch(&text)
            )
        }
    }
}

/// Each distinct `Error:` of a layout dump as `Type: error (expected X, found Y)`,
/// the type being the one of the `Compared <this>:` block the error follows.
fn layout_mismatch(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut found: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(error) = line.strip_prefix("Error:") else {
            continue;
        };
        let compared = lines[..i]
            .iter()
            .rposition(|l| l.starts_with("Compared <this>"))
            .unwrap_or(0);
        let ty = lines[compared..i]
            .iter()
            .find_map(|l| l.strip_prefix("type:"))
            .map_or(String::new(), |t| format!("{}: ", t.trim()));
        let value_after = |label: &str| {
            lines[i + 1..]
                .iter()
                .take(6)
                .position(|l| *l == label)
                .and_then(|k| lines.get(i + 2 + k))
                .map(|v| v.to_string())
        };
        let detail = match (value_after("Expected:"), value_after("Found:")) {
            (Some(expected), Some(got)) => format!(" (host: {expected}, plugin: {got})"),
            _ => String::new(),
        };
        let entry = format!("{ty}{}{detail}", error.trim());
        if !found.contains(&entry) {
            found.push(entry);
        }
    }
    if found.is_empty() {
        lines
            .iter()
            .find(|l| !l.is_empty())
            .unwrap_or(&"unknown error")
            .to_string()
    } else {
        found.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi_stable::sabi_types::VersionNumber;

    fn version(minor: u32, patch: u32) -> VersionNumber {
        VersionNumber {
            major: 0,
            minor,
            patch,
        }
    }

    #[test]
    fn a_version_refusal_names_both_versions_and_the_older_side() {
        let refuse = |plugin| LibraryError::IncompatibleVersionNumber {
            library_name: "loadgen_plugin",
            expected_version: version(2, 0),
            actual_version: plugin,
        };
        assert_eq!(
            summarize(&refuse(version(1, 4))),
            "plugin built against plugin-api 0.1.4, this loadgen loads 0.2.x; the plugin is older: rebuild it against loadgen-plugin-api 0.2"
        );
    }

    #[test]
    fn a_layout_dump_becomes_the_type_and_what_differs() {
        let dump = "\nCompared <this>:\n    --- Type Layout ---\n    type:PrefixRef<'a, PluginMod>\n  field_name:describe\n    type:AFunctionPointer\nTo <other>:\n    type:PrefixRef<'a, PluginMod>\n\nError:too many fields\nExpected:\n    2\nFound:\n    3\n\nError:too many fields\n";
        assert_eq!(
            layout_mismatch(dump),
            "PrefixRef<'a, PluginMod>: too many fields (host: 2, plugin: 3); PrefixRef<'a, PluginMod>: too many fields"
        );
    }
}
