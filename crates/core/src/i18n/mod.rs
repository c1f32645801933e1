//! Languages (SPEC.md section 11): the words pages show are Fluent
//! messages (`crates/core/locales/<language>/*.ftl`), English and Spanish
//! shipped. A host adds a language, or overrides any message, from a
//! directory of the same shape ([`Locales::with_dir`]), checked when it is
//! loaded: a file that is not valid Fluent, or that defines a message
//! English does not have (a typo), refuses to load with a message that
//! names the file and the key.
//!
//! A message missing from a language falls back to English; the shipped
//! languages have exactly English's keys (a test fails otherwise).
//!
//! ```
//! use portal_access_core::i18n::Locales;
//!
//! let locales = Locales::builtin();
//! assert_eq!(locales.negotiate("es-MX,es;q=0.9,en;q=0.5"), "es");
//! assert_eq!(locales.negotiate("de-DE"), "en");
//! assert_eq!(locales.message("es", "console-sign-in", &[]), "Iniciar sesión");
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use time::OffsetDateTime;
use unic_langid::LanguageIdentifier;

pub use jiff::tz::TimeZone;
pub use templates::add_language_functions;

mod templates;

/// A time zone name the tz database does not know.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a time zone of the tz database (e.g. `America/Chicago`, `UTC`)")]
pub struct UnknownTimeZone(pub String);

/// The time zone of an IANA name (`America/Chicago`), from the tz database
/// compiled in.
pub fn time_zone(name: &str) -> Result<TimeZone, UnknownTimeZone> {
    TimeZone::get(name.trim()).map_err(|_| UnknownTimeZone(name.to_owned()))
}

/// The language every other falls back to.
pub const DEFAULT_LANGUAGE: &str = "en";

/// `(language, file, source)` of each shipped file, from `locales/`.
macro_rules! shipped {
    ($(($tag:literal, $file:literal)),* $(,)?) => {
        &[$(($tag, $file, include_str!(concat!("../../locales/", $tag, "/", $file)))),*]
    };
}

/// The shipped messages: (language, file, source).
const BUILTIN: &[(&str, &str, &str)] = shipped![
    ("en", "console.ftl"),
    ("en", "mail.ftl"),
    ("en", "language.ftl"),
    ("en", "portal.ftl"),
    ("es", "console.ftl"),
    ("es", "mail.ftl"),
    ("es", "language.ftl"),
    ("es", "portal.ftl"),
];

/// A locale file or directory that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LocaleError {
    /// The file is not valid Fluent.
    #[error("{file}: not valid Fluent: {errors}")]
    Syntax {
        /// Which file.
        file: String,
        /// The parser's complaints.
        errors: String,
    },
    /// The file defines a message English does not have.
    #[error("{file}: {key:?} is not a message of the portal (English has no such key; a typo?)")]
    UnknownKey {
        /// Which file.
        file: String,
        /// The key.
        key: String,
    },
    /// A sub-directory's name is not a language tag.
    #[error("{dir}: {name:?} is not a language tag (e.g. `es`, `pt-BR`)")]
    NotALanguage {
        /// The directory of locales.
        dir: PathBuf,
        /// The sub-directory's name.
        name: String,
    },
    /// The directory or a file cannot be read.
    #[error("cannot read {path}")]
    Io {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One language: its sources (shipped first, then the host's) and the
/// bundle built from them.
struct Language {
    sources: Vec<(String, String)>,
    bundle: FluentBundle<FluentResource>,
    keys: BTreeSet<String>,
}

impl Language {
    fn build(tag: &str, sources: Vec<(String, String)>) -> Result<Self, LocaleError> {
        let id: LanguageIdentifier = tag.parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        bundle.set_use_isolating(false);
        let mut keys = BTreeSet::new();
        for (file, source) in &sources {
            let resource = parse(file, source)?;
            keys.extend(keys_of(&resource));
            bundle.add_resource_overriding(resource);
        }
        Ok(Self {
            sources,
            bundle,
            keys,
        })
    }
}

fn parse(file: &str, source: &str) -> Result<FluentResource, LocaleError> {
    FluentResource::try_new(source.to_owned()).map_err(|(_, errors)| LocaleError::Syntax {
        file: file.to_owned(),
        errors: errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; "),
    })
}

fn keys_of(resource: &FluentResource) -> impl Iterator<Item = String> + '_ {
    resource.entries().filter_map(|entry| match entry {
        fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
        fluent_syntax::ast::Entry::Term(_)
        | fluent_syntax::ast::Entry::Comment(_)
        | fluent_syntax::ast::Entry::GroupComment(_)
        | fluent_syntax::ast::Entry::ResourceComment(_)
        | fluent_syntax::ast::Entry::Junk { .. } => None,
    })
}

/// The languages pages and mail speak.
pub struct Locales {
    languages: BTreeMap<String, Language>,
}

impl std::fmt::Debug for Locales {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.languages.keys()).finish()
    }
}

impl Default for Locales {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Locales {
    /// English and Spanish, as shipped.
    #[allow(
        clippy::expect_used,
        reason = "the shipped files are compiled in and parsed by `the_shipped_locales_parse`"
    )]
    pub fn builtin() -> Self {
        let mut sources: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (tag, file, source) in BUILTIN {
            sources
                .entry((*tag).to_owned())
                .or_default()
                .push((format!("{tag}/{file}"), (*source).to_owned()));
        }
        let languages = sources
            .into_iter()
            .map(|(tag, sources)| {
                let language = Language::build(&tag, sources).expect("the shipped locales parse");
                (tag, language)
            })
            .collect();
        Self { languages }
    }

    /// Adds the host's messages from `dir`: one sub-directory per language
    /// tag (`es`, `pt-BR`), each with `*.ftl` files. A shipped language's
    /// messages are overridden one by one; a new tag is a new language
    /// (what it lacks falls back to English). Refused: a file that is not
    /// valid Fluent, a key English lacks, a sub-directory that is not a
    /// language tag.
    pub fn with_dir(mut self, dir: &Path) -> Result<Self, LocaleError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| LocaleError::Io { path, source }
        };
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .collect::<Result<_, _>>()
            .map_err(io(dir))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let tag = name
                .parse::<LanguageIdentifier>()
                .map_err(|_| LocaleError::NotALanguage {
                    dir: dir.to_owned(),
                    name: name.clone(),
                })?
                .to_string();
            let mut files: Vec<_> = std::fs::read_dir(&path)
                .map_err(io(&path))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(io(&path))?
                .into_iter()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
                .collect();
            files.sort();
            let mut sources = self
                .languages
                .remove(&tag)
                .map(|l| l.sources)
                .unwrap_or_default();
            for file in files {
                let source = std::fs::read_to_string(&file).map_err(io(&file))?;
                let shown = file.display().to_string();
                let resource = parse(&shown, &source)?;
                if let Some(key) = keys_of(&resource).find(|k| !self.english_has(k)) {
                    return Err(LocaleError::UnknownKey { file: shown, key });
                }
                sources.push((shown, source));
            }
            let language = Language::build(&tag, sources)?;
            self.languages.insert(tag, language);
        }
        Ok(self)
    }

    fn english_has(&self, key: &str) -> bool {
        self.languages
            .get(DEFAULT_LANGUAGE)
            .is_some_and(|en| en.keys.contains(key))
    }

    /// The language tags available.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.keys().map(String::as_str)
    }

    /// The available language of `tag` (`es-MX` → `es`), if any.
    pub fn supported(&self, tag: &str) -> Option<&str> {
        let tag = tag.trim();
        if tag.is_empty() {
            return None;
        }
        if let Some((known, _)) = self
            .languages
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(tag))
        {
            return Some(known);
        }
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        self.languages
            .keys()
            .find(|known| known.eq_ignore_ascii_case(primary))
            .map(String::as_str)
    }

    /// The [`Language`] of `tag` if these locales speak it (`es-MX` →
    /// `es`); `None` for a tag they do not have.
    pub fn language(&self, tag: &str) -> Option<crate::Language> {
        self.supported(tag).map(crate::Language::stored)
    }

    /// The best language for an `Accept-Language` header (by its `q`
    /// weights), else English.
    pub fn negotiate(&self, accept_language: &str) -> &str {
        let mut wanted: Vec<(f32, &str)> = accept_language
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0 && tag != "*").then_some((q, tag))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
        wanted
            .into_iter()
            .find_map(|(_, tag)| self.supported(tag))
            .unwrap_or(DEFAULT_LANGUAGE)
    }

    /// The message `key` in `language` with `args`, else in English, else
    /// the key itself (never an error in front of a client).
    pub fn message(&self, language: &str, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        for tag in [language, DEFAULT_LANGUAGE] {
            let Some(language) = self.languages.get(tag) else {
                continue;
            };
            let Some(pattern) = language.bundle.get_message(key).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = language
                .bundle
                .format_pattern(pattern, Some(&fluent_args), &mut errors);
            if !errors.is_empty() {
                tracing::warn!(
                    language = tag,
                    key,
                    ?errors,
                    "a message did not format cleanly"
                );
            }
            return text.into_owned();
        }
        tracing::warn!(language, key, "no such message");
        key.to_owned()
    }

    /// `at` as `language` writes a date and time, in the time zone `tz`
    /// (the message `datetime`, with the month's name from `month-N`):
    /// `Dec 5, 2026, 8:04 AM CST`, `5 dic 2026, 8:04 CST`.
    pub fn when(&self, language: &str, at: OffsetDateTime, tz: &jiff::tz::TimeZone) -> String {
        let Ok(instant) = jiff::Timestamp::from_second(at.unix_timestamp()) else {
            return at.to_string();
        };
        let zoned = instant.to_zoned(tz.clone());
        let hour = zoned.hour();
        let month = self.message(language, &format!("month-{}", zoned.month()), &[]);
        let args: [(&str, FluentValue<'_>); 8] = [
            ("month", month.into()),
            ("day", zoned.day().to_string().into()),
            ("year", zoned.year().to_string().into()),
            (
                "hour12",
                (if hour % 12 == 0 { 12 } else { hour % 12 })
                    .to_string()
                    .into(),
            ),
            ("hour24", hour.to_string().into()),
            ("minute", format!("{:02}", zoned.minute()).into()),
            ("ampm", if hour < 12 { "AM" } else { "PM" }.into()),
            ("zone", zoned.strftime("%Z").to_string().into()),
        ];
        self.message(language, "datetime", &args)
    }

    /// The keys `language` has that English lacks, and those it lacks that
    /// English has: what the parity test and a host's check look at.
    pub fn differences(&self, language: &str) -> (Vec<String>, Vec<String>) {
        let empty = BTreeSet::new();
        let english = self
            .languages
            .get(DEFAULT_LANGUAGE)
            .map_or(&empty, |l| &l.keys);
        let other = self.languages.get(language).map_or(&empty, |l| &l.keys);
        (
            other.difference(english).cloned().collect(),
            english.difference(other).cloned().collect(),
        )
    }
}

#[cfg(test)]
mod tests;
