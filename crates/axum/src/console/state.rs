//! The console's state (the portal's, its sign-ins, its templates, its
//! options) and its paths.

use std::sync::Arc;

use super::options::ConsoleOptions;
use super::templates::ConsoleTemplates;
use crate::state::PortalHttp;

/// Where the console's pages are.
pub const CONSOLE_PATH: &str = "/staff/console";

/// The console's state: the portal's, its sign-ins, its templates.
#[derive(Clone)]
pub(crate) struct Console {
    pub(crate) http: PortalHttp,
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) templates: ConsoleTemplates,
    pub(crate) options: ConsoleOptions,
}

impl Console {
    pub(crate) fn http(&self) -> &PortalHttp {
        &self.http
    }

    pub(crate) fn templates(&self) -> &ConsoleTemplates {
        &self.inner.templates
    }

    pub(crate) fn options(&self) -> &ConsoleOptions {
        &self.inner.options
    }
}

/// A console path: `CONSOLE_PATH` + `page`.
pub(crate) fn at(page: &str) -> String {
    format!("{CONSOLE_PATH}{page}")
}
