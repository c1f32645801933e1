//! Headless Chromium through chromedriver (WebDriver), driven with fantoccini.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use super::{free_port, repo_root, Result};

const INSTALL: &str =
    "install chromium and chromium-driver (apt-get install chromium chromium-driver)";

/// A browser session; chromedriver (and with it Chromium) is killed on drop.
pub struct Browser {
    pub client: Client,
    _driver: Child,
    _profile: tempfile::TempDir,
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium
    /// with a fresh profile.
    pub async fn start() -> Result<Self> {
        Self::launch(None).await
    }

    /// The same, Chromium asking for pages in `languages` (its
    /// `Accept-Language`, e.g. `es-US,es`).
    pub async fn start_speaking(languages: &str) -> Result<Self> {
        Self::launch(Some(languages)).await
    }

    async fn launch(languages: Option<&str>) -> Result<Self> {
        // Both rustls providers are compiled in (fantoccini asks for
        // aws-lc-rs, lettre and reqwest for ring): name one for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let driver_bin = std::env::var_os("CHROMEDRIVER")
            .map(PathBuf::from)
            .or_else(|| find(&["chromedriver"]))
            .ok_or_else(|| format!("chromedriver not found: {INSTALL}"))?;
        let chromium = std::env::var_os("CHROMIUM")
            .map(PathBuf::from)
            .or_else(|| find(&["chromium", "chromium-browser", "google-chrome"]))
            .ok_or_else(|| format!("chromium not found: {INSTALL}"))?;
        let port = free_port()?;
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}; {INSTALL}", driver_bin.display()))?;
        let profile = tempfile::tempdir()?;
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--window-size=900,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        let mut capabilities = capabilities;
        if let Some(languages) = languages {
            let options = &mut capabilities["goog:chromeOptions"];
            options["prefs"] = json!({ "intl.accept_languages": languages });
            if let Some(args) = options["args"].as_array_mut() {
                let primary = languages.split(',').next().unwrap_or(languages);
                args.push(json!(format!("--lang={primary}")));
            }
        }
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("a JSON object literal"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()?
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) if Instant::now() > deadline => {
                    return Err(format!(
                        "no WebDriver session from chromedriver at {url} within 30 s ({error}); {INSTALL}"
                    )
                    .into())
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Ok(Self {
            client,
            _driver: driver,
            _profile: profile,
        })
    }

    /// Opens `url`.
    pub async fn open(&self, url: &str) -> Result<()> {
        self.client.goto(url).await?;
        Ok(())
    }

    /// Waits until the page's `<h1>` says `title` and returns the page's
    /// visible text (of `<main>`).
    pub async fn expect_page(&self, title: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let h1 = match self.client.find(Locator::Css("h1")).await {
                Ok(h1) => h1.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if h1.trim() == title {
                // The page may still be replaced under us (a redirect after
                // a form): read it again until its text holds still.
                if let Ok(text) = self.text_of("main").await {
                    return Ok(text);
                }
            }
            if Instant::now() > deadline {
                let url = self.client.current_url().await?;
                let body = self.text_of("body").await?;
                return Err(
                    format!("expected the page {title:?}, got {h1:?} at {url}:\n{body}").into(),
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `value` into the field `#id` (cleared first).
    pub async fn fill(&self, id: &str, value: &str) -> Result<()> {
        let field = self.client.find(Locator::Id(id)).await?;
        field.clear().await?;
        field.send_keys(value).await?;
        Ok(())
    }

    /// Types each `(id, value)` into its field, in order.
    pub async fn fill_form(&self, fields: &[(&str, &str)]) -> Result<()> {
        for (id, value) in fields {
            self.fill(id, value).await?;
        }
        Ok(())
    }

    /// Clicks the form's primary submit button.
    pub async fn submit(&self) -> Result<()> {
        self.click("button[type=submit].primary").await
    }

    /// The visible text of the element at `css`.
    pub async fn text_of(&self, css: &str) -> Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    /// Clicks the element at `css`; a button or a link loads the next
    /// page, and the call returns once the old one is gone (so a page of the
    /// same title is never mistaken for the next).
    pub async fn click(&self, css: &str) -> Result<()> {
        let element = self.client.find(Locator::Css(css)).await?;
        self.click_element(element).await
    }

    /// Clicks the link whose text is `text` (see [`click`](Self::click)).
    pub async fn click_link(&self, text: &str) -> Result<()> {
        let element = self.client.find(Locator::LinkText(text)).await?;
        self.click_element(element).await
    }

    async fn click_element(&self, element: fantoccini::elements::Element) -> Result<()> {
        let navigates = matches!(element.tag_name().await?.as_str(), "button" | "a");
        let before = self.client.find(Locator::Css("html")).await?;
        element.click().await?;
        if !navigates {
            return Ok(());
        }
        // The old document's root goes stale once the next page replaced it.
        let deadline = Instant::now() + Duration::from_secs(15);
        while before.tag_name().await.is_ok() {
            if Instant::now() > deadline {
                return Err("the page stayed the same 15 s after the click".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// The path and query of the current page.
    pub async fn path(&self) -> Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Saves a PNG of the page as `docs/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<()> {
        let png = self.client.screenshot().await?;
        let dir = repo_root().join("docs/screenshots");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.png")), png)?;
        Ok(())
    }

    /// Ends the WebDriver session (closes Chromium).
    pub async fn close(self) -> Result<()> {
        self.client.close().await?;
        Ok(())
    }
}
