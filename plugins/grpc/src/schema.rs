//! The service's descriptors: compiled from `.proto` files (protox), read
//! from a protoset, or asked of the server (`reflection.rs`); and the called
//! method looked up in them, naming what exists when it is not there.

use std::path::{Path, PathBuf};

use prost::Message as _;
use prost_reflect::{DescriptorPool, MethodDescriptor};

use crate::config::CallName;

/// `.proto` files compiled the way protoc would, imports looked up in
/// `includes` then in each file's own directory (well-known types built in).
/// A file that does not compile is one line: `file:line:col: what`.
pub fn compile(files: &[PathBuf], includes: &[PathBuf]) -> Result<DescriptorPool, String> {
    let mut paths: Vec<PathBuf> = includes.to_vec();
    for file in files {
        if !file.is_file() {
            return Err(format!(
                "option 'proto': cannot read '{}': no such file",
                file.display()
            ));
        }
        let dir = file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !paths.iter().any(|p| p == dir) {
            paths.push(dir.to_path_buf());
        }
    }
    let one_line = |e: protox::Error| {
        // Debug is protoc's form, `file.proto:3:5: message`; Display lacks the place.
        let text = format!("{e:?}").replace('\n', " ");
        format!("option 'proto': {text}")
    };
    let mut compiler = protox::Compiler::new(paths).map_err(one_line)?;
    compiler.include_imports(true);
    compiler.open_files(files).map_err(one_line)?;
    Ok(compiler.descriptor_pool())
}

/// A serialized `FileDescriptorSet` (`protoc --include_imports --descriptor_set_out`).
pub fn read_protoset(path: &Path) -> Result<DescriptorPool, String> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| format!("option 'protoset': cannot read '{shown}': {e}"))?;
    let set = prost_types::FileDescriptorSet::decode(bytes.as_slice())
        .map_err(|e| format!("option 'protoset': '{shown}' is not a FileDescriptorSet ({e})"))?;
    // Over the well-known types, so a set made without --include_imports
    // that uses them still loads.
    let mut pool = DescriptorPool::global();
    pool.add_file_descriptor_set(set).map_err(|e| {
        let text = format!("{e}").replace('\n', " ");
        format!("option 'protoset': '{shown}' does not load: {text}")
    })?;
    Ok(pool)
}

/// The method `call` names, or one line saying which services (or which of
/// the service's methods) exist.
pub fn find_method(pool: &DescriptorPool, call: &CallName) -> Result<MethodDescriptor, String> {
    let Some(service) = pool.get_service_by_name(&call.service) else {
        return Err(no_such_service(
            &call.service,
            pool.services().map(|s| s.full_name().to_string()),
        ));
    };
    let found = service.methods().find(|m| m.name() == call.method);
    found.ok_or_else(|| {
        let methods: Vec<String> = service.methods().map(|m| m.name().to_string()).collect();
        format!(
            "option 'call': service '{}' has no method '{}'; its methods: {}",
            call.service,
            call.method,
            listed(methods)
        )
    })
}

/// `no service 'x'; services: a, b` (reflection's own service left out).
pub fn no_such_service(service: &str, existing: impl Iterator<Item = String>) -> String {
    let existing: Vec<String> = existing
        .filter(|s| !s.starts_with("grpc.reflection."))
        .collect();
    format!(
        "option 'call': no service '{service}'; services: {}",
        listed(existing)
    )
}

fn listed(mut names: Vec<String>) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names.sort();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn scratch(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("grpc-schema-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const ITEMS: &str = r#"syntax = "proto3";
package shop.v1;
import "google/protobuf/empty.proto";
import "common.proto";
service Items {
  rpc GetItem(GetItemRequest) returns (Item);
  rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty);
}
message GetItemRequest { int64 id = 1; }
"#;
    const COMMON: &str =
        "syntax = \"proto3\";\npackage shop.v1;\nmessage Item { int64 id = 1; string name = 2; }\n";

    fn call(service: &str, method: &str) -> CallName {
        CallName {
            service: service.into(),
            method: method.into(),
        }
    }

    #[test]
    fn a_proto_with_imports_compiles_and_its_methods_are_found() {
        let dir = scratch("ok");
        let items = write(&dir, "items.proto", ITEMS);
        write(&dir, "common.proto", COMMON);
        let pool = compile(&[items], &[]).unwrap();
        let method = find_method(&pool, &call("shop.v1.Items", "GetItem")).unwrap();
        assert_eq!(method.input().name(), "GetItemRequest");
        assert_eq!(method.output().full_name(), "shop.v1.Item");

        let err = find_method(&pool, &call("shop.v1.Item", "GetItem")).unwrap_err();
        assert_eq!(
            err,
            "option 'call': no service 'shop.v1.Item'; services: shop.v1.Items"
        );
        let err = find_method(&pool, &call("shop.v1.Items", "Get")).unwrap_err();
        assert_eq!(
            err,
            "option 'call': service 'shop.v1.Items' has no method 'Get'; its methods: GetItem, Ping"
        );
    }

    #[test]
    fn a_proto_that_does_not_compile_is_named_with_its_place() {
        let dir = scratch("bad");
        let syntax = write(
            &dir,
            "syntax.proto",
            "syntax = \"proto3\";\nmessage A {\n  int64 id = ;\n}\n",
        );
        let err = compile(&[syntax], &[]).unwrap_err();
        assert!(err.starts_with("option 'proto': "), "{err}");
        assert!(err.contains("syntax.proto:3:"), "{err}");
        assert!(!err.contains('\n'));

        let unknown = write(
            &dir,
            "unknown.proto",
            "syntax = \"proto3\";\nmessage A {\n  Missing m = 1;\n}\n",
        );
        let err = compile(&[unknown], &[]).unwrap_err();
        assert!(err.contains("unknown.proto:3:"), "{err}");
        assert!(err.contains("Missing"), "{err}");

        let missing_import = write(
            &dir,
            "imp.proto",
            "syntax = \"proto3\";\nimport \"nowhere.proto\";\n",
        );
        let err = compile(&[missing_import], &[]).unwrap_err();
        assert!(
            err.contains("imp.proto:2:") && err.contains("nowhere.proto"),
            "{err}"
        );

        let err = compile(&[dir.join("absent.proto")], &[]).unwrap_err();
        assert!(
            err.contains("cannot read") && err.contains("absent.proto"),
            "{err}"
        );
    }

    #[test]
    fn a_protoset_loads_and_garbage_is_refused() {
        let dir = scratch("set");
        let items = write(&dir, "items.proto", ITEMS);
        write(&dir, "common.proto", COMMON);
        let set = protox::compile([&items], [&dir]).unwrap();
        let path = dir.join("items.pb");
        std::fs::write(&path, set.encode_to_vec()).unwrap();
        let pool = read_protoset(&path).unwrap();
        find_method(&pool, &call("shop.v1.Items", "Ping")).unwrap();

        let garbage = write(&dir, "garbage.pb", "this is not protobuf");
        let err = read_protoset(&garbage).unwrap_err();
        assert!(err.starts_with("option 'protoset': '"), "{err}");
        let err = read_protoset(&dir.join("absent.pb")).unwrap_err();
        assert!(err.contains("cannot read"), "{err}");
    }
}
