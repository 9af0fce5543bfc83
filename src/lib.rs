pub fn placeholder() {}

pub mod sla;
