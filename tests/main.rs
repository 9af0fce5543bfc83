//! keydesk's one integration-test binary. Store scenarios run the same body on SQLite and on
//! PostgreSQL (`both_backends!`); PostgreSQL comes from `DATABASE_URL` (scripts/test provides one).

mod support;

mod cli;
mod desk;
mod docs;
mod documents;
mod e2e;
mod import;
mod intake;
mod layering;
mod member;
mod notify;
mod race;
mod reader;
mod renewal_store;
mod report;
mod routes;
mod sla;
mod sm2_token;
mod store_story;
mod token;
