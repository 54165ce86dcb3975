//! Compiles `proto/` into Rust at build time with protox (pure Rust, no system
//! `protoc`): prost messages, tonic client and server, pbjson serde impls (proto3 JSON
//! mapping) and the encoded descriptor set that gRPC reflection serves.

use std::{env, fs, path::PathBuf};

const PROTOS: &[&str] = &["tradeoff/v1/planner.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(PROTOS)?;
    let descriptor_bytes = compiler.encode_file_descriptor_set();
    fs::write(out_dir.join("tradeoff_descriptor.bin"), &descriptor_bytes)?;

    tonic_prost_build::configure()
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        // Ordered maps: overrides apply, and violations are listed, in key order.
        .btree_map(".tradeoff.v1.ScenarioOverrides")
        .compile_fds(compiler.file_descriptor_set())?;

    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        .emit_fields()
        .btree_map([".tradeoff.v1.ScenarioOverrides"])
        .build(&[".tradeoff.v1"])?;
    Ok(())
}
