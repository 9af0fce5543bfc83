//! Documents and outbound adapters, checked with independent tools (poppler, zbar, qpdf) and real
//! components (ippeveprinter, lp), and the SF client against a mock that checks what SF checks.

mod invoice_pdf;
mod label_pdf;
mod printers;
mod sf_client;
pub(crate) mod support;
