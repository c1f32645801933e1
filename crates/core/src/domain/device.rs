//! Operating system and browser from a User-Agent, for notices. Behind one
//! small function so the parser (woothee) can be swapped.

/// What a User-Agent says, as people read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    /// e.g. "Windows 10", "Mac OSX", "Android".
    pub os: Option<String>,
    /// e.g. "Chrome 120.0.0.0", "Firefox 121.0".
    pub browser: Option<String>,
}

/// Parses a User-Agent header; unknown parts are `None`.
///
/// ```
/// let d = portal_access_core::domain::device::parse_user_agent(
///     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
/// assert_eq!(d.os.as_deref(), Some("Windows 10"));
/// assert_eq!(d.browser.as_deref(), Some("Chrome 120.0.0.0"));
/// ```
pub fn parse_user_agent(user_agent: &str) -> Device {
    let Some(result) = woothee::parser::Parser::new().parse(user_agent) else {
        return Device::default();
    };
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    let os = known(result.os).then(|| result.os.to_string());
    let browser = known(result.name).then(|| {
        if known(result.version) {
            format!("{} {}", result.name, result.version)
        } else {
            result.name.to_string()
        }
    });
    Device { os, browser }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firefox_on_linux_is_recognised() {
        let d = parse_user_agent(
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        );
        assert_eq!(d.os.as_deref(), Some("Linux"));
        assert_eq!(d.browser.as_deref(), Some("Firefox 121.0"));
    }

    #[test]
    fn gibberish_gives_nothing() {
        assert_eq!(parse_user_agent("curl-ish/0"), Device::default());
    }
}
