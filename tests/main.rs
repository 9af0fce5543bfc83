//! keydesk's one integration-test binary. Store scenarios run the same body on SQLite and on
//! PostgreSQL (`both_backends!`); PostgreSQL comes from `DATABASE_URL` (scripts/test provides one).

mod support;

mod cli;
mod desk;
mod import;
mod intake;
mod member;
mod race;
mod sla;
mod reader;
mod renewal_store;
mod store_story;
mod token;
