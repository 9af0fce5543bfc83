//! The `file` backend: writes each PDF into a folder (a PDF "printer", a folder a print server
//! watches, or an archive), atomically — a temporary file in the same folder, flushed to disk, then
//! renamed — so a watcher never sees half a document.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{PrintJob, PrintOutcome, Printer};

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// Writes PDFs into `dir`.
#[derive(Debug, Clone)]
pub struct FilePrinter {
    dir: PathBuf,
}

impl FilePrinter {
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    /// Writes `job` and returns the final path.
    pub fn write(&self, job: &PrintJob<'_>) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let stem: String =
            job.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        // A file name, not a business instant: the wall clock keeps names unique across runs.
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let name = format!("{stamp}-{}-{seq}-{stem}.pdf", std::process::id());
        let final_path = self.dir.join(&name);
        let temp_path = self.dir.join(format!(".{name}.tmp"));
        let result = (|| {
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp_path)?;
            file.write_all(job.pdf)?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&temp_path, &final_path)?;
            // Make the rename itself durable.
            if let Ok(dir) = std::fs::File::open(&self.dir) {
                let _ = dir.sync_all();
            }
            Ok(final_path.clone())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp_path);
        }
        result
    }
}

impl Printer for FilePrinter {
    fn print(&self, job: &PrintJob<'_>) -> PrintOutcome {
        match self.write(job) {
            Ok(path) => PrintOutcome::Printed { job: Some(path.display().to_string()) },
            Err(e) => {
                let text = format!("writing into {}: {e}", self.dir.display());
                match e.kind() {
                    // A full disk or an unmounted share may come back; a permission problem won't.
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                        PrintOutcome::Failed(text)
                    }
                    _ => PrintOutcome::Retryable(text),
                }
            }
        }
    }

    fn describe(&self) -> String {
        format!("folder {}", self.dir.display())
    }
}
