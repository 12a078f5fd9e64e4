//! Layered settings: the type's defaults, then a TOML file, then environment variables with a
//! prefix (`__` between nested keys). A wrong type names its key.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

/// Settings that could not be read or are wrong; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Parse(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// `T::default()`, then `file` if given (it must exist), then `<env_prefix>*` variables.
///
/// The `verbatim` keys (dotted, e.g. `token`, `storage.secret_access_key`) are read from the
/// environment as plain strings: otherwise a secret made of digits would be read as a number
/// and lose its leading zeros, or fail to load as a string at all.
pub fn load_settings<T>(
    file: Option<&Path>,
    env_prefix: &str,
    verbatim: &[&str],
) -> Result<T, SettingsError>
where
    T: Default + Serialize + DeserializeOwned,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(file) = file {
        figment = figment.merge(Toml::file_exact(file));
    }
    let names: Vec<(String, &str)> = verbatim
        .iter()
        .map(|key| (key.replace('.', "__"), *key))
        .collect();
    let skipped: Vec<String> = names.iter().map(|(name, _)| name.clone()).collect();
    let env = Env::prefixed(env_prefix)
        .filter(move |name| {
            !skipped
                .iter()
                .any(|s| name.as_str().eq_ignore_ascii_case(s))
        })
        .split("__");
    figment = figment.merge(env);
    for (name, key) in names {
        if let Ok(value) = std::env::var(format!("{env_prefix}{}", name.to_uppercase())) {
            figment = figment.merge((key, value));
        }
    }
    Ok(figment.extract().map_err(Box::new)?)
}

/// Checks that the setting `key` lies in `range`; the message names both.
pub fn check_range<T>(
    key: &'static str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<(), SettingsError>
where
    T: PartialOrd + std::fmt::Display,
{
    if range.contains(&value) {
        return Ok(());
    }
    Err(SettingsError::Invalid {
        key,
        message: format!(
            "must be between {} and {}, not {value}",
            range.start(),
            range.end()
        ),
    })
}

/// Checks the two settings every client of the catalog needs: where it is, and the token.
pub fn check_catalog_access(catalog_url: &str, token: &str) -> Result<(), SettingsError> {
    if token.is_empty() {
        return Err(SettingsError::Invalid {
            key: "token",
            message: "is empty; set the API token the catalog's admins issued".into(),
        });
    }
    if !catalog_url.starts_with("http://") && !catalog_url.starts_with("https://") {
        return Err(SettingsError::Invalid {
            key: "catalog_url",
            message: "must start with http:// or https://".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct Example {
        name: String,
        count: u32,
    }

    #[test]
    fn a_verbatim_key_keeps_a_secret_of_digits_as_written() {
        // Only this test sets this prefix, so tests running in parallel do not see it.
        std::env::set_var("LECTERN_SETTINGS_VERBATIM_NAME", "00123");
        std::env::set_var("LECTERN_SETTINGS_VERBATIM_COUNT", "7");
        let loaded: Example = load_settings(None, "LECTERN_SETTINGS_VERBATIM_", &["name"]).unwrap();
        assert_eq!(
            loaded,
            Example {
                name: "00123".into(),
                count: 7
            }
        );
    }

    #[test]
    fn a_value_out_of_range_names_its_key_and_the_range() {
        assert!(check_range("n", 5u32, 1..=10).is_ok());
        let err = check_range("n", 0u32, 1..=10).unwrap_err().to_string();
        assert!(
            err.contains("`n`") && err.contains("between 1 and 10, not 0"),
            "{err}"
        );
    }

    #[test]
    fn catalog_access_needs_a_token_and_an_http_url() {
        assert!(check_catalog_access("http://x", "t").is_ok());
        assert!(check_catalog_access("http://x", "")
            .unwrap_err()
            .to_string()
            .contains("`token`"));
        assert!(check_catalog_access("ftp://x", "t")
            .unwrap_err()
            .to_string()
            .contains("`catalog_url`"));
    }

    #[test]
    fn the_file_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("e.toml");
        std::fs::write(&file, "count = 3\n").unwrap();
        let loaded: Example = load_settings(Some(&file), "LECTERN_SETTINGS_TEST_", &[]).unwrap();
        assert_eq!(
            loaded,
            Example {
                name: String::new(),
                count: 3
            }
        );
    }

    #[test]
    fn a_wrong_type_names_its_key_and_a_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("e.toml");
        std::fs::write(&file, "count = \"many\"\n").unwrap();
        let err = load_settings::<Example>(Some(&file), "LECTERN_SETTINGS_TEST_", &[]).unwrap_err();
        assert!(err.to_string().contains("count"), "{err}");
        assert!(load_settings::<Example>(
            Some(&dir.path().join("none.toml")),
            "LECTERN_SETTINGS_TEST_",
            &[]
        )
        .is_err());
    }
}
