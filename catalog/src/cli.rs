//! The operators' commands beside serving: `lectern-catalog institute create "Name"
//! --admin-email E --admin-name N`. Each opens and migrates the configured database itself,
//! does one thing and returns what to print; `main` only parses and prints.

use chrono::Utc;

use crate::accounts::{self, CreateInstituteError};
use crate::config::Config;
use crate::store::{Store, StoreError};

/// A command instead of serving.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Institutes, the organisations that run Lectern for their people.
    #[command(subcommand)]
    Institute(InstituteCommand),
}

/// `lectern-catalog institute …`.
#[derive(Debug, clap::Subcommand)]
pub enum InstituteCommand {
    /// Creates an institute and invites its first admin; prints the admin's single-use
    /// activation link (Lectern sends no mail: pass it on yourself).
    Create {
        /// The institute's name, unique among the catalog's institutes.
        name: String,
        /// The first admin's email address, which they sign in with.
        #[arg(long, value_name = "EMAIL")]
        admin_email: String,
        /// The first admin's name.
        #[arg(long, value_name = "NAME")]
        admin_name: String,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    CreateInstitute(#[from] CreateInstituteError),
}

/// Runs `command` against the database of `config`; returns the text for the operator.
pub async fn run(command: Command, config: &Config) -> Result<String, CommandError> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    let result = match command {
        Command::Institute(InstituteCommand::Create {
            name,
            admin_email,
            admin_name,
        }) => institute_create(&store, config, &name, &admin_email, &admin_name).await,
    };
    store.close().await;
    result
}

async fn institute_create(
    store: &Store,
    config: &Config,
    name: &str,
    admin_email: &str,
    admin_name: &str,
) -> Result<String, CommandError> {
    let created =
        accounts::create_institute(store, config, name, admin_email, admin_name, Utc::now())
            .await?;
    let expires = created
        .link
        .invitation
        .expires_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut text = format!(
        "Created the institute {name:?} (id {}) and invited its admin {admin_name} <{}> (id {}).\n\
         The admin sets their password once, before {expires}, at:\n\n  {}\n\n",
        created.institute_id,
        admin_email.trim(),
        created.admin_id,
        created.link.url,
    );
    if config.public_origin.is_none() {
        text.push_str(
            "Put the catalog's address in front of that path (set public_origin to get the \
             whole URL).\n",
        );
    }
    text.push_str("Lectern sends no mail: pass the link on to the admin yourself.");
    Ok(text)
}
