//! Runs the independent PDF and barcode tools. A missing tool fails the test (the project's install
//! script provides them); set KEYDESK_SKIP_MISSING_TOOLS=1 to skip loudly instead.

use std::path::Path;
use std::process::Command;

/// Whether `tool` is on PATH; panics when it is not, unless skipping was asked for.
pub fn require(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var("KEYDESK_SKIP_MISSING_TOOLS").as_deref() == Ok("1") {
        eprintln!("\n!!!!!!!! SKIPPED: `{tool}` is not installed (KEYDESK_SKIP_MISSING_TOOLS=1) !!!!!!!!\n");
        false
    } else {
        panic!("`{tool}` is not installed: run the project's install script (Debian packages poppler-utils zbar-tools qpdf cups-ipp-utils avahi-daemon dbus cups-client fonts-noto-cjk)");
    }
}

/// Runs a command and returns (success, stdout, stderr).
pub fn run(program: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `pdftotext -layout FILE -`.
pub fn pdftotext(pdf: &Path) -> String {
    let path = pdf.to_string_lossy();
    let (ok, out, err) = run("pdftotext", &["-layout", &path, "-"]);
    assert!(ok, "pdftotext failed: {err}");
    out
}

/// The font lines of `pdffonts FILE`.
pub fn pdffonts(pdf: &Path) -> Vec<String> {
    let path = pdf.to_string_lossy();
    let (ok, out, err) = run("pdffonts", &[&path]);
    assert!(ok, "pdffonts failed: {err}");
    out.lines().skip(2).map(str::to_string).collect()
}

/// `qpdf --check FILE` must pass.
pub fn qpdf_check(pdf: &Path) {
    let path = pdf.to_string_lossy();
    let (ok, out, err) = run("qpdf", &["--check", &path]);
    assert!(ok, "qpdf --check failed:\n{out}\n{err}");
}

/// Renders page 1 at `dpi` in 1-bit black and white, as a 203 dpi thermal printer would.
pub fn rasterise_mono(pdf: &Path, dpi: u32) -> std::path::PathBuf {
    let dir = pdf.parent().expect("pdf in a folder");
    let stem = dir.join("page");
    let (ok, _, err) = run(
        "pdftoppm",
        &["-r", &dpi.to_string(), "-mono", "-png", "-singlefile", &pdf.to_string_lossy(), &stem.to_string_lossy()],
    );
    assert!(ok, "pdftoppm failed: {err}");
    dir.join("page.png")
}

/// Decoded symbols of the given zbar symbology (`code128`, `qrcode`) in an image, one per entry.
pub fn zbar(image: &Path, symbology: &str) -> Vec<String> {
    let enable = format!("-S{symbology}.enable");
    let (_, out, _) = run("zbarimg", &["--raw", "-q", "-Sdisable", &enable, &image.to_string_lossy()]);
    out.lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
}
