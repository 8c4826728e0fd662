//! Where the API URL, the key and the tenant come from: flags, then the environment
//! (`HOOKRELAY_API`, `HOOKRELAY_KEY`, `HOOKRELAY_TENANT`), then a named profile of
//! `<config dir>/hookrelay/config.toml`, then the built-in default (the local stack's URL).
//! The resolution is pure ([`resolve`]); reading the file and the environment is at the edge.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exit::{CliError, CliResult};

/// The local stack's API (`scripts/up` with its default port).
pub const DEFAULT_API: &str = "http://127.0.0.1:9000/lambda-url/ingest";
pub const DEFAULT_PROFILE: &str = "default";

/// The config file: named profiles and which one applies when none is named.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// Where one value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    Profile(String),
    FileDefault,
    Default,
    Unset,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Flag(name) => write!(f, "flag {name}"),
            Self::Env(name) => write!(f, "environment {name}"),
            Self::Profile(name) => write!(f, "profile `{name}`"),
            Self::FileDefault => f.write_str("config file default_profile"),
            Self::Default => f.write_str("built-in default"),
            Self::Unset => f.write_str("not set"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: Option<String>,
    pub source: Source,
}

/// The resolved settings, each with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub profile: Setting,
    pub api: Setting,
    pub key: Setting,
    pub tenant: Setting,
    pub file: PathBuf,
    pub file_found: bool,
}

/// What the flags said (`None` = not given).
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub profile: Option<String>,
    pub api: Option<String>,
    pub key: Option<String>,
    pub tenant: Option<String>,
}

/// The environment variables read, by name (a function so tests need not touch the process's).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Flags, then the environment, then the profile, then the default.
pub fn resolve(
    flags: &Flags,
    env: Env<'_>,
    file: &ConfigFile,
    path: &Path,
    found: bool,
) -> Settings {
    let profile = pick(&[
        (flags.profile.clone(), Source::Flag("--profile")),
        (env("HOOKRELAY_PROFILE"), Source::Env("HOOKRELAY_PROFILE")),
        (file.default_profile.clone(), Source::FileDefault),
        (Some(DEFAULT_PROFILE.to_owned()), Source::Default),
    ]);
    let name = profile.value.clone().unwrap_or_default();
    let chosen = file.profiles.get(&name).cloned().unwrap_or_default();
    let from_profile = |v: Option<String>| (v, Source::Profile(name.clone()));
    let api = pick(&[
        (flags.api.clone(), Source::Flag("--api")),
        (env("HOOKRELAY_API"), Source::Env("HOOKRELAY_API")),
        from_profile(chosen.api),
        (Some(DEFAULT_API.to_owned()), Source::Default),
    ]);
    let key = pick(&[
        (flags.key.clone(), Source::Flag("--key")),
        (env("HOOKRELAY_KEY"), Source::Env("HOOKRELAY_KEY")),
        from_profile(chosen.key),
    ]);
    let tenant = pick(&[
        (flags.tenant.clone(), Source::Flag("--tenant")),
        (env("HOOKRELAY_TENANT"), Source::Env("HOOKRELAY_TENANT")),
        from_profile(chosen.tenant),
    ]);
    Settings {
        profile,
        api,
        key,
        tenant,
        file: path.to_owned(),
        file_found: found,
    }
}

fn pick(candidates: &[(Option<String>, Source)]) -> Setting {
    candidates
        .iter()
        .find_map(|(value, source)| {
            value
                .as_ref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| Setting {
                    value: Some(v.trim().to_owned()),
                    source: source.clone(),
                })
        })
        .unwrap_or(Setting {
            value: None,
            source: Source::Unset,
        })
}

/// A key as `hookrelay config` shows it: the first and last four characters of a long key,
/// nothing of a short one.
pub fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() >= 20 {
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail} ({} characters)", chars.len())
    } else {
        format!("•••• ({} characters)", chars.len())
    }
}

/// `HOOKRELAY_CONFIG`, else `<config dir>/hookrelay/config.toml`.
pub fn config_path(env: Env<'_>) -> PathBuf {
    if let Some(path) = env("HOOKRELAY_CONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("hookrelay")
        .join("config.toml")
}

/// The file, or an empty one when it does not exist (`found` = false).
pub fn load(path: &Path) -> CliResult<(ConfigFile, bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map(|file| (file, true))
            .map_err(|e| CliError::usage(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((ConfigFile::default(), false)),
        Err(e) => Err(CliError::failed(format!("{}: {e}", path.display()))),
    }
}

/// Writes the file, readable by its owner only (it holds keys).
pub fn save(path: &Path, file: &ConfigFile) -> CliResult {
    let text = toml::to_string_pretty(file).map_err(|e| CliError::failed(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::failed(format!("{}: {e}", dir.display())))?;
    }
    let io = |e: std::io::Error| CliError::failed(format!("{}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(io)?;
    std::io::Write::write_all(&mut f, text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn file() -> ConfigFile {
        toml::from_str(
            r#"
            default_profile = "staging"
            [profiles.staging]
            api = "https://staging.example"
            key = "staging-key-0123456789abcdef"
            tenant = "acme"
            [profiles.local]
            api = "http://127.0.0.1:9400"
            "#,
        )
        .unwrap()
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn flags_beat_environment_beat_profile_beat_default() {
        let path = Path::new("/x/config.toml");
        let env = env_of(&[
            ("HOOKRELAY_API", "http://env"),
            ("HOOKRELAY_KEY", "env-key"),
        ]);
        let flags = Flags {
            api: Some("http://flag".into()),
            ..Flags::default()
        };
        let s = resolve(&flags, &env, &file(), path, true);
        assert_eq!(s.api.value.as_deref(), Some("http://flag"));
        assert_eq!(s.api.source, Source::Flag("--api"));
        assert_eq!(s.key.value.as_deref(), Some("env-key"));
        assert_eq!(s.key.source, Source::Env("HOOKRELAY_KEY"));
        assert_eq!(s.tenant.value.as_deref(), Some("acme"));
        assert_eq!(s.tenant.source, Source::Profile("staging".into()));
        assert_eq!(s.profile.source, Source::FileDefault);

        let none = env_of(&[]);
        let s = resolve(
            &Flags::default(),
            &none,
            &ConfigFile::default(),
            path,
            false,
        );
        assert_eq!(s.api.value.as_deref(), Some(DEFAULT_API));
        assert_eq!(s.api.source, Source::Default);
        assert_eq!(
            s.key,
            Setting {
                value: None,
                source: Source::Unset
            }
        );
        assert_eq!(s.profile.value.as_deref(), Some("default"));
    }

    #[test]
    fn the_profile_is_chosen_by_flag_then_environment() {
        let path = Path::new("/x");
        let env = env_of(&[("HOOKRELAY_PROFILE", "local")]);
        let s = resolve(&Flags::default(), &env, &file(), path, true);
        assert_eq!(s.api.value.as_deref(), Some("http://127.0.0.1:9400"));
        assert_eq!(s.key.source, Source::Unset, "the local profile has no key");
        let flags = Flags {
            profile: Some("staging".into()),
            ..Flags::default()
        };
        let s = resolve(&flags, &env, &file(), path, true);
        assert_eq!(s.api.value.as_deref(), Some("https://staging.example"));
        assert_eq!(s.profile.source, Source::Flag("--profile"));
    }

    #[test]
    fn empty_values_do_not_count() {
        let env = env_of(&[("HOOKRELAY_KEY", "  ")]);
        let s = resolve(&Flags::default(), &env, &file(), Path::new("/x"), true);
        assert_eq!(s.key.source, Source::Profile("staging".into()));
    }

    #[test]
    fn masking_never_shows_a_short_key_and_only_the_ends_of_a_long_one() {
        assert_eq!(mask("local-admin-key"), "•••• (15 characters)");
        let long = "hr_live_0123456789abcdefghij";
        let shown = mask(long);
        assert_eq!(shown, "hr_l…ghij (28 characters)");
        assert!(!shown.contains("0123456789"));
    }

    #[test]
    fn save_then_load_round_trips_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hookrelay/config.toml");
        save(&path, &file()).unwrap();
        assert_eq!(load(&path).unwrap(), (file(), true));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            load(&dir.path().join("none.toml")).unwrap(),
            (ConfigFile::default(), false)
        );
    }
}
