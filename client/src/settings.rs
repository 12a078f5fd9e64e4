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
pub fn load_settings<T>(file: Option<&Path>, env_prefix: &str) -> Result<T, SettingsError>
where
    T: Default + Serialize + DeserializeOwned,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(file) = file {
        figment = figment.merge(Toml::file_exact(file));
    }
    Ok(figment
        .merge(Env::prefixed(env_prefix).split("__"))
        .extract()
        .map_err(Box::new)?)
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
        let loaded: Example = load_settings(Some(&file), "LECTERN_SETTINGS_TEST_").unwrap();
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
        let err = load_settings::<Example>(Some(&file), "LECTERN_SETTINGS_TEST_").unwrap_err();
        assert!(err.to_string().contains("count"), "{err}");
        assert!(load_settings::<Example>(
            Some(&dir.path().join("none.toml")),
            "LECTERN_SETTINGS_TEST_"
        )
        .is_err());
    }
}
