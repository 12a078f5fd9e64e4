//! What a password must be, decided in one place for activation, sign-up and anything later
//! that sets one. The rules follow NIST SP 800-63B: a minimum length, a maximum that only
//! bounds the work of hashing, no composition rules (they make passwords harder to remember,
//! not to guess), and a refusal of the passwords attackers try first: the most commonly used
//! ones and the person's own email address or name.
//!
//! Lengths count characters (Unicode scalar values), not bytes: "ééééééé" is 7, not 14.
//! Spaces count like any character, so passphrases are welcome.

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 8;
/// The longest password accepted, in characters: argon2 hashes whatever it is given, and
/// nobody types more.
pub const MAX_CHARS: usize = 256;

/// A name part shorter than this is not checked against the password: "al" inside a long
/// passphrase says nothing about it.
const MIN_PERSONAL_CHARS: usize = 3;

/// Why a password was refused. The message says what to do, for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must be at least {MIN_CHARS} characters long; it has {0}")]
    TooShort(usize),
    #[error("the password must be at most {MAX_CHARS} characters long; it has {0}")]
    TooLong(usize),
    #[error(
        "the password is one of the most commonly used passwords, which attackers try first: \
         choose another"
    )]
    Common,
    #[error("the password must not be your email address or your name")]
    Personal,
}

/// Checks `password` for the person with `email` and `name`.
pub fn check(password: &str, email: &str, name: &str) -> Result<(), WeakPassword> {
    let chars = password.chars().count();
    if chars > MAX_CHARS {
        return Err(WeakPassword::TooLong(chars));
    }
    if chars < MIN_CHARS {
        return Err(WeakPassword::TooShort(chars));
    }
    if is_personal(password, email, name) {
        return Err(WeakPassword::Personal);
    }
    if is_common(password) {
        return Err(WeakPassword::Common);
    }
    Ok(())
}

/// True for a password on the list of the most used ones, in any case ("PASSWORD1" is as
/// weak as "password1").
fn is_common(password: &str) -> bool {
    use passwords::analyzer::is_common_password;
    is_common_password(password) || is_common_password(password.to_lowercase())
}

/// Lower case letters and digits only: how the personal check compares.
fn letters_and_digits(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// True when the password is the person's email address, its local part, their name or a
/// part of it, alone or followed only by digits and punctuation ("alice2024!").
fn is_personal(password: &str, email: &str, name: &str) -> bool {
    let password = letters_and_digits(password);
    let local_part = email.split('@').next().unwrap_or_default();
    let mut candidates = vec![
        letters_and_digits(email),
        letters_and_digits(local_part),
        letters_and_digits(name),
    ];
    candidates.extend(name.split_whitespace().map(letters_and_digits));
    candidates
        .iter()
        .filter(|c| c.chars().count() >= MIN_PERSONAL_CHARS)
        .any(|candidate| {
            password
                .strip_prefix(candidate.as_str())
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "alice.smith@example.edu";
    const NAME: &str = "Alice Smith";

    fn check_alice(password: &str) -> Result<(), WeakPassword> {
        check(password, EMAIL, NAME)
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(check_alice("ééééééé"), Err(WeakPassword::TooShort(7)));
        assert_eq!(check_alice("ééé ééé é"), Ok(()));
        assert_eq!(check_alice(""), Err(WeakPassword::TooShort(0)));
        let long = "ä".repeat(MAX_CHARS + 1);
        assert_eq!(
            check_alice(&long),
            Err(WeakPassword::TooLong(MAX_CHARS + 1))
        );
        assert_eq!(check_alice(&"ä".repeat(MAX_CHARS)), Ok(()));
    }

    #[test]
    fn there_are_no_composition_rules() {
        for fine in [
            "correct horse battery staple",
            "lowercaseonlybutlong",
            "zebra lantern quietly",
        ] {
            assert_eq!(check_alice(fine), Ok(()), "{fine}");
        }
    }

    #[test]
    fn the_most_common_passwords_are_refused_in_any_case() {
        for common in [
            "password",
            "12345678",
            "iloveyou",
            "PASSWORD1",
            "qwertyuiop",
        ] {
            assert_eq!(check_alice(common), Err(WeakPassword::Common), "{common}");
        }
    }

    #[test]
    fn the_persons_email_and_name_are_refused_also_with_digits_after_them() {
        for personal in [
            "alice.smith@example.edu",
            "Alice.Smith",
            "alice smith",
            "AliceSmith2024!",
            "smith1234",
            "alicesmith",
        ] {
            assert_eq!(
                check_alice(personal),
                Err(WeakPassword::Personal),
                "{personal}"
            );
        }
        // Other words around the name are a different password.
        assert_eq!(check_alice("alice in a purple wonderland"), Ok(()));
    }

    #[test]
    fn messages_say_why() {
        let message = WeakPassword::TooShort(5).to_string();
        assert!(message.contains("at least 8"), "{message}");
        assert!(WeakPassword::Common.to_string().contains("commonly used"));
        assert!(WeakPassword::Personal.to_string().contains("email"));
    }
}
