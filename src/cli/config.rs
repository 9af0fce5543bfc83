//! Configuration: a TOML file (from `--config`, `$KEYDESK_CONFIG`, `./keydesk.toml`, or none), then
//! environment overrides `KEYDESK_<SECTION>__<KEY>`, then validation. Unknown keys and bad values are
//! errors that name the key and where it came from. `config.example.toml` documents every key with its
//! default, and a test keeps it in step with [`Config::default`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::renewal::RenewalRules;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub desk: crate::desk::DeskSettings,
    pub renewal: RenewalRules,
    pub sla: crate::sla::SlaSettings,
    pub member: crate::member::MemberSettings,
    pub token: crate::token::TokenSettings,
    pub ca: crate::ca::CaSettings,
    /// `[font]`: the CJK font labels and invoices are drawn with.
    pub font: crate::docs::FontSettings,
    /// `[label]`: the sender and stock of the return label.
    pub label: crate::docs::LabelSettings,
    /// `[invoice]`: the seller and the service line of the e-invoice.
    pub invoice: crate::docs::InvoiceSettings,
    /// `[printer.label]`, `[printer.invoice]`: where labels and invoices print.
    pub printer: crate::outbound::printer::PrintersSettings,
    /// `[courier]`: how return shipments are booked.
    pub courier: crate::outbound::courier::CourierSettings,
    /// `[routes]`: the SF route push receiver and the route polling fallback.
    pub routes: crate::route_push::RouteSettings,
    /// `[report]`: where the manager's report is written, and when the worker writes last week's.
    pub report: crate::report::ReportSettings,
    /// `[notify]`: notices to members by SMS and e-mail, and their templates.
    pub notify: crate::outbound::notify::NotifySettings,
}

/// `[token]`: how the desk reaches the member's key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://…`; unset means `keydesk.db` in the platform data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
    /// Run pending migrations when a command opens the database.
    pub migrate_on_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings { url: None, max_connections: 8, connect_timeout_secs: 5, migrate_on_start: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// Folder for log files; unset means `logs/` in the platform data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// A `tracing` filter, e.g. `info` or `keydesk=debug,sqlx=warn`.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { dir: None, level: "info".into() }
    }
}

/// Where the configuration came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Defaults,
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigSource::File(p) => write!(f, "{}", p.display()),
            ConfigSource::Defaults => f.write_str("built-in defaults"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("{source_name}: key `{key}`: {message}")]
    Value { source_name: String, key: String, message: String },
}

pub const ENV_PREFIX: &str = "KEYDESK_";

/// The keys that hold secrets (never printed).
pub const SECRET_KEYS: [&str; 3] = ["courier.check_word", "notify.sms.access_key_secret", "notify.email.password"];

impl Config {
    /// Finds and loads the configuration the way the README describes, with the process environment.
    pub fn load(explicit: Option<&Path>) -> Result<(Config, ConfigSource), ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(|| env.iter().find(|(k, _)| k == "KEYDESK_CONFIG").map(|(_, v)| PathBuf::from(v)))
            .or_else(|| Some(PathBuf::from("keydesk.toml")).filter(|p| p.is_file()));
        Config::load_from(path.as_deref(), &env)
    }

    /// Loads from an optional file and an explicit environment (tests pass their own).
    pub fn load_from(path: Option<&Path>, env: &[(String, String)]) -> Result<(Config, ConfigSource), ConfigError> {
        let (mut table, source) = match path {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|source| ConfigError::Read { path: p.to_path_buf(), source })?;
                // Parse straight from the text first: its errors carry line numbers and the key.
                toml::from_str::<Config>(&text)
                    .map_err(|e| ConfigError::File { path: p.to_path_buf(), message: e.to_string() })?;
                let table: toml::Table = toml::from_str(&text)
                    .map_err(|e| ConfigError::File { path: p.to_path_buf(), message: e.to_string() })?;
                (table, ConfigSource::File(p.to_path_buf()))
            }
            None => (toml::Table::new(), ConfigSource::Defaults),
        };
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        let mut overrides: Vec<&(String, String)> =
            env.iter().filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.contains("__")).collect();
        overrides.sort();
        for (var, value) in overrides {
            apply_env_override(&mut table, &defaults, var, value)?;
        }
        let config: Config = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| ConfigError::File {
            path: PathBuf::from(source.to_string()),
            message: e.message().to_string(),
        })?;
        config.validate(&source)?;
        Ok((config, source))
    }

    fn validate(&self, source: &ConfigSource) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| ConfigError::Value {
            source_name: source.to_string(),
            key: key.into(),
            message: message.into(),
        };
        if self.database.url.as_deref().is_some_and(|url| !is_database_url(url)) {
            return Err(bad("database.url", "must start with sqlite:, postgres:// or postgresql://"));
        }
        if self.database.max_connections == 0 {
            return Err(bad("database.max_connections", "must be at least 1"));
        }
        if self.database.connect_timeout_secs == 0 {
            return Err(bad("database.connect_timeout_secs", "must be at least 1"));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(bad("log.level", "is not a valid tracing filter (e.g. \"info\" or \"keydesk=debug\")"));
        }
        if self.desk.name.trim().is_empty() {
            return Err(bad("desk.name", "must not be empty"));
        }
        if let Err(e) = crate::desk::keymap::Keymap::new(&self.desk.keys) {
            return Err(bad("desk.keys", &e));
        }
        if let Err((key, message)) = self.routes.check() {
            return Err(bad(key, &message));
        }
        if self.member.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(bad("member.listen", "must be an address and port, e.g. \"127.0.0.1:8080\""));
        }
        if self.member.database_url.as_deref().is_some_and(|url| !is_database_url(url)) {
            return Err(bad("member.database_url", "must start with sqlite:, postgres:// or postgresql://"));
        }
        if self.member.pg_role.is_empty() || !self.member.pg_role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(bad("member.pg_role", "must be a plain role name (letters, digits, _)"));
        }
        for (key, value) in [
            ("member.max_connections", u64::from(self.member.max_connections)),
            ("member.max_open_connections", u64::from(self.member.max_open_connections)),
            ("member.max_body_bytes", self.member.max_body_bytes as u64),
            ("member.max_uri_bytes", self.member.max_uri_bytes as u64),
            ("member.request_timeout_ms", self.member.request_timeout_ms),
            ("member.header_read_timeout_ms", self.member.header_read_timeout_ms),
            ("member.failures_per_order", u64::from(self.member.failures_per_order)),
            ("member.failures_per_client", u64::from(self.member.failures_per_client)),
            ("member.failure_window_secs", self.member.failure_window_secs),
            ("member.limiter_capacity", self.member.limiter_capacity as u64),
        ] {
            if value == 0 {
                return Err(bad(key, "must be at least 1"));
            }
        }
        if self.token.keygen_typical_secs == 0 {
            return Err(bad("token.keygen_typical_secs", "must be at least 1"));
        }
        if self.token.worker_timeout_secs == 0 {
            return Err(bad("token.worker_timeout_secs", "must be at least 1"));
        }
        if let Some(v) = self.token.vendors.iter().find(|v| v.prefix_bytes().is_none_or(|p| p.is_empty())) {
            return Err(bad(
                "token.vendors.atr_prefix",
                &format!("vendor {:?}: must be hex bytes like \"3B 9F 95\"", v.name),
            ));
        }
        if self.ca.backend == crate::ca::CaBackend::Command && self.ca.command.is_empty() {
            return Err(bad("ca.command", "must name the program when ca.backend = \"command\""));
        }
        if self.renewal.window_days == 0 || self.renewal.window_days > 366 {
            return Err(bad("renewal.window_days", "must be between 1 and 366"));
        }
        self.sla.validate().map_err(|e| bad("sla", &e.to_string()))?;
        self.report.schedule().map_err(|e| bad("report.weekly", &e))?;
        self.notify.validate().map_err(|(key, message)| bad(&key, &message))?;
        Ok(())
    }

    /// The configuration as `keydesk config show` prints it: every secret that is set shown as `***`.
    pub fn shown(&self) -> toml::Table {
        let mut table = toml::Table::try_from(self).unwrap_or_default();
        for path in SECRET_KEYS {
            let keys: Vec<&str> = path.split('.').collect();
            let (last, parents) = keys.split_last().expect("a secret key has a name");
            let node = parents.iter().try_fold(&mut table, |t, k| t.get_mut(*k).and_then(toml::Value::as_table_mut));
            if let Some(value) = node.and_then(|t| t.get_mut(*last)) {
                if value.as_str().is_some_and(|v| !v.is_empty()) {
                    *value = toml::Value::String("***".into());
                }
            }
        }
        table
    }

    /// The database URL, with the platform data directory filled in when none is configured.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", data_dir().join("keydesk.db").display()),
        }
    }

    /// The database URL the member endpoint uses: its own login when configured.
    pub fn member_database_url(&self) -> String {
        self.member.database_url.clone().unwrap_or_else(|| self.database_url())
    }

    pub fn log_dir(&self) -> PathBuf {
        self.log.dir.clone().unwrap_or_else(|| data_dir().join("logs"))
    }

    /// Where reports are written: `report.export_dir`, else `reports/` in the platform data directory.
    pub fn report_dir(&self) -> PathBuf {
        self.report.export_dir.clone().unwrap_or_else(|| data_dir().join("reports"))
    }
}

/// Whether a URL names a database keydesk can open (the store picks the backend by its scheme).
fn is_database_url(url: &str) -> bool {
    url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The platform data directory (`~/.local/share/keydesk` on Linux).
pub fn data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "keydesk")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Applies `KEYDESK_SECTION__KEY=value` to the table. The value is read as TOML when the key's default is
/// not a string (numbers, booleans, arrays), else taken verbatim, so a PIN-like "0123" stays a string.
fn apply_env_override(
    table: &mut toml::Table,
    defaults: &toml::Table,
    var: &str,
    value: &str,
) -> Result<(), ConfigError> {
    let path: Vec<String> = var[ENV_PREFIX.len()..].split("__").map(str::to_ascii_lowercase).collect();
    if path.iter().any(String::is_empty) {
        return Err(ConfigError::Env { var: var.into(), message: "empty section or key name".into() });
    }
    let known_section = defaults.contains_key(&path[0]);
    if !known_section {
        return Err(ConfigError::Env { var: var.into(), message: format!("unknown section `{}`", path[0]) });
    }
    let default_value = path.iter().try_fold(toml::Value::Table(defaults.clone()), |v, k| v.get(k).cloned());
    let parsed = match default_value {
        Some(toml::Value::String(_)) | None => toml::Value::String(value.to_string()),
        Some(_) => {
            toml::from_str::<toml::Table>(&format!("v = {value}")).ok().and_then(|mut t| t.remove("v")).ok_or_else(
                || ConfigError::Env { var: var.into(), message: format!("{value:?} is not a valid TOML value") },
            )?
        }
    };
    let mut node = &mut *table;
    for key in &path[..path.len() - 1] {
        let entry = node.entry(key.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        node = entry
            .as_table_mut()
            .ok_or_else(|| ConfigError::Env { var: var.into(), message: format!("`{key}` is not a table") })?;
    }
    node.insert(path[path.len() - 1].clone(), parsed);
    // Earlier sources were valid on their own, so an error now belongs to this variable.
    toml::Value::Table(table.clone())
        .try_into::<Config>()
        .map_err(|e| ConfigError::Env { var: var.into(), message: format!("`{}`: {}", path.join("."), e.message()) })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn example_config_matches_the_code() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let example: toml::Value = toml::from_str(&text).unwrap();
        let defaults = toml::Value::try_from(Config::default()).unwrap();
        assert_eq!(example, defaults, "config.example.toml drifted from Config::default()");
        let (loaded, _) = Config::load_from(Some(&path), &[]).unwrap();
        assert_eq!(loaded, Config::default());
    }

    #[test]
    fn environment_overrides_the_file() {
        let f = write("[database]\nurl = \"sqlite://a.db\"\nmax_connections = 3\n");
        let (c, src) = Config::load_from(
            Some(f.path()),
            &env(&[
                ("KEYDESK_DATABASE__URL", "postgres://x/y"),
                ("KEYDESK_LOG__LEVEL", "debug"),
                ("KEYDESK_DESK__NAME", "0123"),
            ]),
        )
        .unwrap();
        assert_eq!(c.database.url.as_deref(), Some("postgres://x/y"));
        assert_eq!(c.database.max_connections, 3);
        assert_eq!(c.log.level, "debug");
        assert_eq!(c.desk.name, "0123", "string keys stay strings");
        assert_eq!(src, ConfigSource::File(f.path().to_path_buf()));
        let (c, _) = Config::load_from(None, &env(&[("KEYDESK_DATABASE__MAX_CONNECTIONS", "12")])).unwrap();
        assert_eq!(c.database.max_connections, 12);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key_and_the_source() {
        let f = write("[database]\nurll = \"x\"\n");
        let e = Config::load_from(Some(f.path()), &[]).unwrap_err().to_string();
        assert!(e.contains("urll") && e.contains(&f.path().display().to_string()), "{e}");

        let f = write("[database]\nmax_connections = \"many\"\n");
        let e = Config::load_from(Some(f.path()), &[]).unwrap_err().to_string();
        assert!(e.contains("max_connections") && e.contains(&f.path().display().to_string()), "{e}");

        let f = write("[database]\nmax_connections = 0\n");
        let e = Config::load_from(Some(f.path()), &[]).unwrap_err().to_string();
        assert!(e.contains("database.max_connections"), "{e}");

        let e =
            Config::load_from(None, &env(&[("KEYDESK_DATABASE__MAX_CONNECTIONS", "many")])).unwrap_err().to_string();
        assert!(e.contains("KEYDESK_DATABASE__MAX_CONNECTIONS"), "{e}");
        let e = Config::load_from(None, &env(&[("KEYDESK_DATABASE__NOPE", "1")])).unwrap_err().to_string();
        assert!(e.contains("KEYDESK_DATABASE__NOPE") && e.contains("nope"), "{e}");
        let e = Config::load_from(None, &env(&[("KEYDESK_NOSECTION__X", "1")])).unwrap_err().to_string();
        assert!(e.contains("nosection"), "{e}");
        let e = Config::load_from(None, &env(&[("KEYDESK_DATABASE__URL", "mysql://x")])).unwrap_err().to_string();
        assert!(e.contains("database.url"), "{e}");
    }

    #[test]
    fn the_longest_atr_prefix_chooses_the_vendor_module() {
        let f = write(
            "[token]\nmodule = \"/default.so\"\n[[token.vendors]]\nname = \"A\"\nmodule = \"/a.so\"\natr_prefix = \"3B 9F\"\n\
             [[token.vendors]]\nname = \"B\"\nmodule = \"/b.so\"\natr_prefix = \"3b:9f:95\"\n",
        );
        let (c, _) = Config::load_from(Some(f.path()), &[]).unwrap();
        assert_eq!(c.token.module_for_atr(&[0x3B, 0x9F, 0x95, 0x81]), (Some("B"), Path::new("/b.so")));
        assert_eq!(c.token.module_for_atr(&[0x3B, 0x9F, 0x11]), (Some("A"), Path::new("/a.so")));
        assert_eq!(c.token.module_for_atr(&[0x3B, 0x00]), (None, Path::new("/default.so")));
        let f = write("[[token.vendors]]\nname = \"X\"\nmodule = \"/x.so\"\natr_prefix = \"zz\"\n");
        let e = Config::load_from(Some(f.path()), &[]).unwrap_err().to_string();
        assert!(e.contains("atr_prefix"), "{e}");
        let e = Config::load_from(None, &env(&[("KEYDESK_CA__BACKEND", "command")])).unwrap_err().to_string();
        assert!(e.contains("ca.command"), "{e}");
    }

    #[test]
    fn config_show_never_prints_a_secret() {
        let (c, _) = Config::load_from(
            None,
            &env(&[
                ("KEYDESK_NOTIFY__SMS__ACCESS_KEY_SECRET", "sms-secret-value"),
                ("KEYDESK_NOTIFY__EMAIL__PASSWORD", "mail-secret-value"),
                ("KEYDESK_COURIER__CHECK_WORD", "check-word-value"),
            ]),
        )
        .unwrap();
        let shown = toml::to_string(&c.shown()).unwrap();
        for secret in ["sms-secret-value", "mail-secret-value", "check-word-value"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(c.notify.sms.access_key_secret.expose(), "sms-secret-value");
        assert!(shown.contains("access_key_secret = \"***\""), "{shown}");
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let e = Config::load_from(Some(Path::new("/nonexistent/keydesk.toml")), &[]).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/keydesk.toml"), "{e}");
    }
}
