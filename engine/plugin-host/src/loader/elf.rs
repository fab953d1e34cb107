//! Checking a file before `dlopen`: mapping a truncated or corrupt library
//! kills the process (SIGBUS when a segment reaches past the end of the file),
//! and opening any library runs its initializers. So a file is opened only if
//! it is a whole ELF shared library for this machine that exports the loadgen
//! root module; everything else is refused in one line.

use std::fs::File;
use std::path::Path;

use object::read::ReadCache;
use object::{Object, ObjectKind, ObjectSection, ObjectSegment, SectionKind};

/// The symbol `export_plugin!` defines (abi_stable's root module loader).
const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

/// Why a file is not a library loadgen may open.
#[derive(Debug, PartialEq, Eq)]
pub enum NotLoadable {
    /// Not a library at all, or one for another machine: the reason.
    NotALibrary(String),
    /// A library whose contents end before its headers say they do.
    Damaged(String),
    /// A whole library that does not export the loadgen root module.
    NoRootModule,
}

/// Check `path` without loading it.
pub fn check(path: &Path) -> Result<(), NotLoadable> {
    let file = File::open(path).map_err(|e| NotLoadable::NotALibrary(e.to_string()))?;
    let len = file
        .metadata()
        .map_err(|e| NotLoadable::NotALibrary(e.to_string()))?
        .len();
    let cache = ReadCache::new(file);
    let elf = object::File::parse(&cache).map_err(|e| {
        if len >= 64 && is_elf(&cache) {
            NotLoadable::Damaged(format!(
                "truncated or corrupt: its ELF headers do not parse ({e})"
            ))
        } else {
            NotLoadable::NotALibrary("not an ELF shared library".into())
        }
    })?;
    if elf.kind() != ObjectKind::Dynamic {
        return Err(NotLoadable::NotALibrary(
            "an ELF file, but not a shared library".into(),
        ));
    }
    if elf.architecture() != host_architecture() {
        return Err(NotLoadable::NotALibrary(format!(
            "built for {:?}, this machine is {:?}",
            elf.architecture(),
            host_architecture()
        )));
    }
    for segment in elf.segments() {
        let (offset, size) = segment.file_range();
        ensure_within("a segment", offset, size, len)?;
    }
    for section in elf.sections() {
        if section.kind() == SectionKind::UninitializedData {
            continue;
        }
        if let Some((offset, size)) = section.file_range() {
            ensure_within("a section", offset, size, len)?;
        }
    }
    let exports_root = elf
        .exports()
        .map_err(|e| {
            NotLoadable::Damaged(format!(
                "truncated or corrupt: its symbol table does not parse ({e})"
            ))
        })?
        .iter()
        .any(|e| e.name() == ROOT_MODULE_SYMBOL.as_bytes());
    if exports_root {
        Ok(())
    } else {
        Err(NotLoadable::NoRootModule)
    }
}

fn is_elf(cache: &ReadCache<File>) -> bool {
    use object::ReadRef;
    cache
        .read_bytes_at(0, 4)
        .is_ok_and(|magic| magic == b"\x7fELF")
}

fn ensure_within(what: &str, offset: u64, size: u64, len: u64) -> Result<(), NotLoadable> {
    match offset.checked_add(size) {
        Some(end) if end <= len => Ok(()),
        _ => Err(NotLoadable::Damaged(format!(
            "truncated or corrupt: {what} ends at byte {} but the file has {len}",
            offset.saturating_add(size)
        ))),
    }
}

fn host_architecture() -> object::Architecture {
    match std::env::consts::ARCH {
        "x86_64" => object::Architecture::X86_64,
        "aarch64" => object::Architecture::Aarch64,
        "x86" => object::Architecture::I386,
        "arm" => object::Architecture::Arm,
        "riscv64" => object::Architecture::Riscv64,
        _ => object::Architecture::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real library of this build (the test binary's own directory holds none;
    /// the workspace's plugins are built beside it under target/).
    fn a_real_plugin() -> Option<std::path::PathBuf> {
        let dir = std::env::current_exe()
            .ok()?
            .parent()?
            .parent()?
            .to_path_buf();
        let path = dir.join("libloadgen_plugin_echo.so");
        path.is_file().then_some(path)
    }

    #[test]
    fn files_that_are_not_libraries_are_told_apart_from_damaged_ones() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("text.so");
        std::fs::write(&text, "not an ELF file").unwrap();
        assert_eq!(
            check(&text),
            Err(NotLoadable::NotALibrary("not an ELF shared library".into()))
        );
        let Some(real) = a_real_plugin() else {
            eprintln!("skipped: build the workspace first (cargo build --workspace)");
            return;
        };
        assert_eq!(check(&real), Ok(()));
        let bytes = std::fs::read(&real).unwrap();
        for keep in [100, bytes.len() / 2, bytes.len() - 1] {
            let cut = dir.path().join(format!("cut{keep}.so"));
            std::fs::write(&cut, &bytes[..keep]).unwrap();
            assert!(
                matches!(check(&cut), Err(NotLoadable::Damaged(_))),
                "{keep} bytes: {:?}",
                check(&cut)
            );
        }
    }
}
