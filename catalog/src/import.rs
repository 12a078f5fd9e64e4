//! Reading the CSV files registrars hand over: courses (`code,title,term[,auto_publish]`)
//! and enrolments (`course_code,term,email,role[,name]`). A header row names the columns, in
//! any order; extra columns are refused so a misnamed one is not silently ignored. Each data
//! row becomes a typed record or a rejection that says what is wrong with it and on which
//! line; applying the records to the catalog is the API's part.

use lectern_wire::admin::RejectedRow as Rejection;
use lectern_wire::api::{AgeBand, CourseRole};

/// The largest file the import endpoints read.
pub const MAX_CSV_BYTES: usize = 16 * 1024 * 1024;

/// A course row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRecord {
    pub line: u64,
    pub code: String,
    pub title: String,
    pub term: String,
    pub auto_publish: Option<bool>,
}

/// An enrolment row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentRecord {
    pub line: u64,
    pub course_code: String,
    pub term: String,
    pub email: String,
    pub role: CourseRole,
    /// For a person without an account: the account is made, waiting for an invitation.
    pub name: Option<String>,
    /// For a person without an account: their age band (`adult` when blank).
    pub age_band: AgeBand,
}

/// A file that cannot be read at all (as opposed to single bad rows).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("the file is empty: the first line must name the columns ({0})")]
    Empty(&'static str),
    #[error("the header must name the columns {expected}; {problem}")]
    Header {
        expected: &'static str,
        problem: String,
    },
    #[error("the file is not UTF-8 text (line {line}): save it as CSV UTF-8")]
    NotUtf8 { line: u64 },
}

/// The columns of a file, by name.
struct Columns {
    names: Vec<String>,
}

impl Columns {
    fn read(
        header: &csv::StringRecord,
        required: &[&str],
        optional: &[&str],
        expected: &'static str,
    ) -> Result<Columns, ImportError> {
        let names: Vec<String> = header
            .iter()
            .map(|n| n.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let problem = |problem: String| ImportError::Header { expected, problem };
        for name in &names {
            if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
                return Err(problem(format!("{name:?} is not one of them")));
            }
            if names.iter().filter(|n| *n == name).count() > 1 {
                return Err(problem(format!("{name:?} appears twice")));
            }
        }
        if let Some(missing) = required.iter().find(|r| !names.iter().any(|n| n == *r)) {
            return Err(problem(format!("{missing:?} is missing")));
        }
        Ok(Columns { names })
    }

    /// The trimmed value of `name` in `row` (empty when the column is absent).
    fn get<'r>(&self, row: &'r csv::StringRecord, name: &str) -> &'r str {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| row.get(i))
            .map_or("", str::trim)
    }
}

/// Rows and rejections of a file.
pub struct Parsed<T> {
    pub records: Vec<T>,
    pub rejected: Vec<Rejection>,
}

/// Reads every row of `body` with `read_row`, which checks one row.
fn parse<T>(
    body: &[u8],
    required: &[&str],
    optional: &[&str],
    expected: &'static str,
    read_row: impl Fn(&Columns, &csv::StringRecord, u64) -> Result<T, String>,
) -> Result<Parsed<T>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut rows = reader.records();
    let header = match rows.next() {
        None => return Err(ImportError::Empty(expected)),
        Some(Ok(header)) => header,
        Some(Err(e)) => return Err(csv_error(&e, 1, expected)),
    };
    let columns = Columns::read(&header, required, optional, expected)?;
    let mut parsed = Parsed {
        records: Vec::new(),
        rejected: Vec::new(),
    };
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                if let ImportError::NotUtf8 { line } = csv_error(&e, line, expected) {
                    return Err(ImportError::NotUtf8 { line });
                }
                parsed.rejected.push(Rejection {
                    line,
                    reason: format!("not valid CSV: {e}"),
                });
                continue;
            }
        };
        let line = row.position().map_or(0, csv::Position::line);
        if row.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if row.len() != columns.names.len() {
            parsed.rejected.push(Rejection {
                line,
                reason: format!(
                    "has {} fields, the header names {}",
                    row.len(),
                    columns.names.len()
                ),
            });
            continue;
        }
        match read_row(&columns, &row, line) {
            Ok(record) => parsed.records.push(record),
            Err(reason) => parsed.rejected.push(Rejection { line, reason }),
        }
    }
    Ok(parsed)
}

fn csv_error(e: &csv::Error, line: u64, expected: &'static str) -> ImportError {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => ImportError::NotUtf8 { line },
        _ => ImportError::Header {
            expected,
            problem: format!("line {line} is not valid CSV: {e}"),
        },
    }
}

/// A text field people type: not blank, not too long, no control characters.
fn text(what: &str, value: &str, max: usize) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if value.chars().count() > max {
        return Err(format!("{what} is longer than {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} contains control characters"));
    }
    Ok(value.to_owned())
}

const COURSE_COLUMNS: &str = "code,title,term (and optionally auto_publish)";

/// Reads a course file.
pub fn courses(body: &[u8]) -> Result<Parsed<CourseRecord>, ImportError> {
    parse(
        body,
        &["code", "title", "term"],
        &["auto_publish"],
        COURSE_COLUMNS,
        |columns, row, line| {
            let auto_publish = match columns
                .get(row, "auto_publish")
                .to_ascii_lowercase()
                .as_str()
            {
                "" => None,
                "true" | "yes" | "1" => Some(true),
                "false" | "no" | "0" => Some(false),
                other => return Err(format!("auto_publish is {other:?}: write true or false")),
            };
            Ok(CourseRecord {
                line,
                code: text("code", columns.get(row, "code"), 32)?,
                title: text("title", columns.get(row, "title"), 200)?,
                term: text("term", columns.get(row, "term"), 64)?,
                auto_publish,
            })
        },
    )
}

const ENROLMENT_COLUMNS: &str = "course_code,term,email,role (and optionally name and age_band)";

/// Reads an enrolment file.
pub fn enrolments(body: &[u8]) -> Result<Parsed<EnrolmentRecord>, ImportError> {
    parse(
        body,
        &["course_code", "term", "email", "role"],
        &["name", "age_band"],
        ENROLMENT_COLUMNS,
        |columns, row, line| {
            let email = text("email", columns.get(row, "email"), 254)?;
            if !plausible_email(&email) {
                return Err(format!("email {email:?} is not an email address"));
            }
            let role = match columns
                .get(row, "role")
                .to_ascii_lowercase()
                .replace([' ', '-'], "_")
                .as_str()
            {
                "student" => CourseRole::Student,
                "teaching_assistant" | "ta" => CourseRole::TeachingAssistant,
                "instructor" => CourseRole::Instructor,
                other => {
                    return Err(format!(
                        "role is {other:?}: write student, teaching_assistant or instructor"
                    ))
                }
            };
            let name = match columns.get(row, "name") {
                "" => None,
                name => Some(text("name", name, 200)?),
            };
            let age_band = match columns.get(row, "age_band").to_ascii_lowercase().as_str() {
                "" | "adult" => AgeBand::Adult,
                "under_13" => AgeBand::Under13,
                "13_to_17" => AgeBand::From13To17,
                other => {
                    return Err(format!(
                        "age_band is {other:?}: write under_13, 13_to_17 or adult"
                    ))
                }
            };
            Ok(EnrolmentRecord {
                line,
                course_code: text("course_code", columns.get(row, "course_code"), 32)?,
                term: text("term", columns.get(row, "term"), 64)?,
                email,
                role,
                name,
                age_band,
            })
        },
    )
}

/// One `@` with something on both sides and a dot in the domain: enough to catch a column
/// mix-up; the invitation proves the address.
pub fn plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn courses_are_read_by_column_name_in_any_order() {
        let parsed =
            courses(b"\xef\xbb\xbfTerm, Code,title\n2026 Autumn,LEC101,Intro\n\n").unwrap();
        assert!(parsed.rejected.is_empty());
        assert_eq!(
            parsed.records,
            [CourseRecord {
                line: 2,
                code: "LEC101".into(),
                title: "Intro".into(),
                term: "2026 Autumn".into(),
                auto_publish: None,
            }]
        );
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_the_rest_are_read() {
        let file = "course_code,term,email,role,name\n\
                    LEC101,2026 Autumn,sam@uni.test,student,Sam\n\
                    LEC101,2026 Autumn,not-an-email,student,\n\
                    LEC101,2026 Autumn,ta@uni.test,TA,\n\
                    LEC101,2026 Autumn,x@uni.test,dean,\n\
                    LEC101,2026 Autumn,y@uni.test\n\
                    ,2026 Autumn,z@uni.test,student,\n";
        let parsed = enrolments(file.as_bytes()).unwrap();
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[1].role, CourseRole::TeachingAssistant);
        let lines: Vec<(u64, &str)> = parsed
            .rejected
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (3, "email \"not-an-email\" is not an email address"),
                (
                    5,
                    "role is \"dean\": write student, teaching_assistant or instructor"
                ),
                (6, "has 3 fields, the header names 5"),
                (7, "course_code is empty"),
            ]
        );
    }

    #[test]
    fn a_bad_header_or_an_empty_file_refuses_the_whole_file() {
        assert!(matches!(courses(b""), Err(ImportError::Empty(_))));
        let error = courses(b"code,title\nA,B\n").err().unwrap().to_string();
        assert!(error.contains("\"term\" is missing"), "{error}");
        let error = courses(b"code,title,term,colour\n")
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("\"colour\" is not one of them"), "{error}");
        let error = enrolments(b"course_code,term,email,role\nA,B,\xff@x.y,student\n")
            .err()
            .unwrap();
        assert_eq!(error, ImportError::NotUtf8 { line: 2 });
    }

    #[test]
    fn quoted_fields_may_hold_commas() {
        let parsed = courses(b"code,title,term\nLEC1,\"Signals, Systems\",2026\n").unwrap();
        assert_eq!(parsed.records[0].title, "Signals, Systems");
    }
}
