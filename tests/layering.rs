//! The layering stays true: each area of `src/` may use only the areas below it. Read from the
//! source (every `crate::area` path outside comments), so a new import that breaks a layer fails here
//! with the file and line.

use std::path::{Path, PathBuf};

/// The areas a file under `src/<area>` may name, besides its own; `None` means any.
fn allowed(area: &str) -> Option<&'static [&'static str]> {
    Some(match area {
        "domain" => &[],
        "sla" => &[],
        "clock" => &["sla"],
        "store" => &["domain", "sla"],
        // The report's figures and its file forms: over the clocks' plain data, no store, no use cases.
        "report" => &["sla"],
        // Adapters: plain data from the domain, no use cases, no faces.
        "token" | "ca" | "docs" | "outbound" => &["domain", "ca", "clock", "docs", "outbound", "token"],
        // Use cases: the domain, the adapters and the services; never a face.
        "ops" | "services" | "worker" | "provision" | "demo" | "synthetic" => &[
            "domain",
            "sla",
            "report",
            "store",
            "clock",
            "ca",
            "docs",
            "outbound",
            "token",
            "services",
            "ops",
            "provision",
            "demo",
            "synthetic",
            "worker",
        ],
        // The faces (the desk, the member endpoint, the SF route receiver): over the use cases; only the
        // composition root (`cli`) may name another face.
        "desk" | "member" | "route_push" => {
            &["domain", "sla", "store", "clock", "ca", "docs", "outbound", "token", "services", "ops", "worker"]
        }
        "cli" | "main" | "lib" | "exit" => return None,
        _ => &[],
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The areas a line names through `crate::area` or `crate::{area, …}`.
fn named_areas(line: &str) -> Vec<String> {
    let mut areas = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            areas.extend(inner.split(',').map(|p| p.trim().split("::").next().unwrap_or("").to_string()));
        } else {
            areas.push(rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect());
        }
    }
    areas.retain(|a| !a.is_empty() && a != "self");
    areas
}

#[test]
fn each_area_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut breaks = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let area = relative.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
        let Some(allowed) = allowed(&area) else { continue };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for named in named_areas(code) {
                if named != area && !allowed.contains(&named.as_str()) {
                    breaks.push(format!(
                        "src/{}:{}: `{area}` uses `crate::{named}`: {}",
                        relative.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(breaks.is_empty(), "layering broken:\n{}", breaks.join("\n"));
}

#[test]
fn the_layering_check_reads_both_path_forms() {
    assert_eq!(named_areas("use crate::store::{Actor, Store};"), ["store"]);
    assert_eq!(named_areas("use crate::{domain::Order, ops};"), ["domain", "ops"]);
    assert_eq!(named_areas("let x = crate::desk::run(); crate::cli::go()"), ["desk", "cli"]);
}
