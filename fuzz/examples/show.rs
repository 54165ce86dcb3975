//! Prints fuzzer inputs in a form a regression test can use:
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example show -- TARGET FILE...
//!
//! `request` and `plan_structured` inputs as the call and its request in proto3
//! JSON; `plan_json` inputs as their text. With `--save DIR` (before TARGET),
//! `plan_structured` inputs are also written to DIR as the bytes the `request`
//! target reads, a form that stays readable when the structured layout changes
//! (`fuzz/regressions/request/`).

use std::path::{Path, PathBuf};

use tradeoff_fuzz::{describe, StructuredInput};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).peekable();
    let save: Option<PathBuf> = if args.peek().is_some_and(|arg| arg == "--save") {
        args.next();
        Some(args.next().ok_or("--save needs a directory")?.into())
    } else {
        None
    };
    let target = args
        .next()
        .ok_or("usage: show [--save DIR] TARGET FILE...")?;
    for file in args {
        let bytes = std::fs::read(&file)?;
        println!("== {file}");
        match target.as_str() {
            "request" => println!("{}", describe(&bytes)),
            "plan_structured" => match StructuredInput::from_bytes(&bytes) {
                Ok(input) => {
                    let request = input.request();
                    println!("{}", describe(&request));
                    if let Some(dir) = &save {
                        let name = Path::new(&file).file_name().ok_or("no file name")?;
                        std::fs::create_dir_all(dir)?;
                        std::fs::write(dir.join(name), request)?;
                    }
                }
                Err(error) => println!("not an input: {error}"),
            },
            "plan_json" => println!("{}", String::from_utf8_lossy(&bytes)),
            other => return Err(format!("unknown target {other}").into()),
        }
    }
    Ok(())
}
