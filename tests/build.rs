//! The test gRPC server's code and descriptors from `proto/loadtest.proto`,
//! compiled by protox (pure Rust: no protoc on the build machine): tonic's
//! server, and `loadtest.protoset` (a FileDescriptorSet) for reflection and
//! the `-o protoset` tests.

use std::path::PathBuf;

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/loadtest.proto";
    println!("cargo:rerun-if-changed={proto}");
    let set = protox::compile([proto], ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("loadtest.protoset"), set.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(set)?;
    Ok(())
}
