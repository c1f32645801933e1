//! The README cannot rot: its staff API walk-through runs here, command for
//! command, against portal-server, and its embedding excerpt is checked
//! against the example that CI compiles.
//!
//! Walk-through blocks are the fenced `sh` blocks preceded by
//! `<!-- walkthrough -->`. They run in order in one `bash -euo pipefail`
//! session (as a reader pastes them into one terminal), with `PORTAL` and
//! `TOKEN` set, against portal-server (`build_app` + `App::serve`) on port 0
//! with a temporary SQLite database and mail directory. The fenced `json` or
//! `text` block right after a walk-through block is what it prints: `json`
//! is compared as JSON values, `text` line by line; in both, `…` stands for
//! any value (JSON) or any run of characters (text).
//!
//! Needs `curl` and `jq` (`apt-get install curl jq`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use clap::Parser as _;
use portal_server::app::build_app;
use portal_server::cli::ServerConfig;
use serde_json::Value;

/// The staff token the walk-through's `$TOKEN` holds.
const STAFF_TOKEN: &str = "readme-walkthrough-staff-token";
/// How long the whole walk-through may take.
const WALKTHROUGH_TIMEOUT: Duration = Duration::from_secs(120);
/// Stands for any value (JSON) or any run of characters (text).
const ANY: &str = "…";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).expect("README.md is readable")
}

/// A fenced block of the README.
#[derive(Debug)]
struct Fenced {
    /// The info string (`sh`, `json`, `rust`, ...).
    info: String,
    body: String,
    /// 1-based line of the opening fence.
    line: usize,
}

/// The fenced block starting at or after `lines[*at]` (blank lines skipped),
/// if the next non-blank line opens one; advances `at` past it.
fn next_fenced(lines: &[&str], at: &mut usize) -> Option<Fenced> {
    let mut i = *at;
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    let info = lines.get(i)?.trim().strip_prefix("```")?.trim().to_owned();
    let start = i;
    let mut body = String::new();
    i += 1;
    while i < lines.len() && lines[i].trim() != "```" {
        body.push_str(lines[i]);
        body.push('\n');
        i += 1;
    }
    assert!(
        i < lines.len(),
        "README.md:{}: unclosed code block",
        start + 1
    );
    *at = i + 1;
    Some(Fenced {
        info,
        body,
        line: start + 1,
    })
}

/// One walk-through step: the commands and, if given, what they print.
#[derive(Debug)]
struct Step {
    script: Fenced,
    expected: Option<Fenced>,
}

/// Calls `on_block` for every fenced block right after a line `marked`
/// recognises, with what the marker carries and the line index after the
/// block (to read on from). A marker without a block fails: `README.md:N:
/// {needs}`.
fn after_markers<'a>(
    lines: &[&'a str],
    marked: impl Fn(&'a str) -> Option<&'a str>,
    needs: &str,
    mut on_block: impl FnMut(&'a str, Fenced, &mut usize),
) {
    let mut i = 0;
    while i < lines.len() {
        let Some(carried) = marked(lines[i]) else {
            i += 1;
            continue;
        };
        let marker = i + 1;
        i += 1;
        let block =
            next_fenced(lines, &mut i).unwrap_or_else(|| panic!("README.md:{marker}: {needs}"));
        on_block(carried, block, &mut i);
    }
}

fn walkthrough_steps(readme: &str) -> Vec<Step> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut steps = Vec::new();
    let marked = |line: &str| (line.trim() == "<!-- walkthrough -->").then_some("");
    let needs = "a walkthrough marker must precede a ```sh block";
    after_markers(&lines, marked, needs, |_, script, i| {
        assert_eq!(
            script.info, "sh",
            "README.md:{}: walk-through blocks are ```sh",
            script.line
        );
        let mut after = *i;
        let expected = match next_fenced(&lines, &mut after) {
            Some(block) if block.info == "json" || block.info == "text" => {
                *i = after;
                Some(block)
            }
            _ => None,
        };
        steps.push(Step { script, expected });
    });
    steps
}

/// The PATH of an `<!-- excerpt: PATH -->` line.
fn excerpt_path(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix("<!-- excerpt:")
        .and_then(|rest| rest.strip_suffix("-->"))
}

/// The fenced blocks preceded by `<!-- excerpt: PATH -->`.
fn excerpts(readme: &str) -> Vec<(String, Fenced)> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut found = Vec::new();
    let needs = "an excerpt marker must precede a code block";
    after_markers(&lines, excerpt_path, needs, |path, block, _| {
        found.push((path.trim().to_owned(), block));
    });
    found
}

/// Whether `actual` matches `expected`, where the string `…` matches any value.
fn json_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(any), _) if any == ANY => true,
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|av| json_matches(v, av)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| json_matches(e, a))
        }
        _ => expected == actual,
    }
}

/// Whether a line matches a pattern line where `…` is any run of characters.
fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split(ANY);
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (n, part) in parts.iter().enumerate() {
        if n + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

fn json_stream(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect()
}

/// Checks what a step printed against what the README says it prints.
fn check_output(expected: &Fenced, actual: &str) -> Result<(), String> {
    let ok = match expected.info.as_str() {
        "json" => {
            let want = json_stream(&expected.body)
                .map_err(|e| format!("the README's expected JSON does not parse: {e}"))?;
            let got = json_stream(actual)
                .map_err(|e| format!("the output is not JSON ({e}):\n{actual}"))?;
            want.len() == got.len() && want.iter().zip(&got).all(|(w, g)| json_matches(w, g))
        }
        _ => {
            let want: Vec<&str> = expected.body.trim_end().lines().collect();
            let got: Vec<&str> = actual.trim_end().lines().collect();
            want.len() == got.len()
                && want
                    .iter()
                    .zip(&got)
                    .all(|(w, g)| line_matches(w.trim_end(), g.trim_end()))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "printed\n{}\nwhere the README says\n{}",
            actual.trim_end(),
            expected.body.trim_end()
        ))
    }
}

fn require_tool(tool: &str) {
    let found = std::process::Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "the README walk-through needs `{tool}`: install it (apt-get install curl jq)"
    );
}

fn start_marker(n: usize) -> String {
    format!("@@readme-step {n}@@")
}

fn end_marker(n: usize) -> String {
    format!("@@readme-step-end {n}@@")
}

/// One bash session running every step, with markers around each step's output.
fn session_script(steps: &[Step]) -> String {
    let mut script = String::from("set -euo pipefail\n");
    for (n, step) in steps.iter().enumerate() {
        script.push_str(&format!("printf '%s\\n' '{}'\n", start_marker(n)));
        script.push_str(&step.script.body);
        script.push_str(&format!("\nprintf '\\n%s\\n' '{}'\n", end_marker(n)));
    }
    script
}

/// What step `n` printed, if it got that far.
fn step_output(stdout: &str, n: usize) -> Option<&str> {
    let start = stdout.find(&format!("{}\n", start_marker(n)))? + start_marker(n).len() + 1;
    let rest = &stdout[start..];
    let end = rest
        .find(&format!("\n{}", end_marker(n)))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_walkthrough_command_of_the_readme_runs_against_portal_server_and_prints_what_the_readme_says(
) {
    require_tool("curl");
    require_tool("jq");
    let steps = walkthrough_steps(&readme());
    let scripts: String = steps.iter().map(|s| s.script.body.as_str()).collect();
    for endpoint in [
        "-X POST \"$PORTAL/staff/accounts\"",
        "/invitation\"",
        "\"$PORTAL/staff/accounts/$ACCOUNT\"",
        "/password-reset\"",
        "/access\"",
        "/archive\"",
    ] {
        assert!(
            scripts.contains(endpoint),
            "the README walk-through no longer calls {endpoint}"
        );
    }

    // portal-server on port 0, a fresh SQLite database and mail directory.
    let data = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = ServerConfig::try_parse_from([
        "portal-server".to_owned(),
        format!("--listen={addr}"),
        format!(
            "--database-url=sqlite://{}/portal.db",
            data.path().display()
        ),
        format!("--mail-dir={}", data.path().join("mail").display()),
        format!("--staff-token=readme:{STAFF_TOKEN}"),
    ])
    .unwrap();
    let app = build_app(&config).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));

    // Every step, in order, in one bash session.
    let mut child = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(session_script(&steps))
        .env("PORTAL", format!("http://{addr}"))
        .env("TOKEN", STAFF_TOKEN)
        .current_dir(data.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bash runs");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = async {
        use tokio::io::AsyncReadExt as _;
        let (mut out, mut err) = (String::new(), String::new());
        let (mut stdout, mut stderr) = (stdout, stderr);
        let (a, b) = tokio::join!(
            stdout.read_to_string(&mut out),
            stderr.read_to_string(&mut err)
        );
        a.unwrap();
        b.unwrap();
        let status = child.wait().await.unwrap();
        (status, out, err)
    };
    let (status, out, err) = tokio::time::timeout(WALKTHROUGH_TIMEOUT, read)
        .await
        .expect("the README walk-through finished within its time limit");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();

    let mut failures = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let at = step.script.line;
        let Some(printed) = step_output(&out, n) else {
            failures.push(format!(
                "README.md:{at}: the step did not run (an earlier step failed)"
            ));
            break;
        };
        if !out.contains(&end_marker(n)) {
            failures.push(format!(
                "README.md:{at}: the step failed ({status}):\n{}\nprinted:\n{printed}\nstderr:\n{err}",
                step.script.body
            ));
            break;
        }
        if let Some(expected) = &step.expected {
            if let Err(why) = check_output(expected, printed) {
                failures.push(format!("README.md:{at}: {why}"));
            }
        }
    }
    assert!(
        status.success() || !failures.is_empty(),
        "bash failed: {status}\n{err}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_readme_embedding_excerpt_is_code_of_the_example_that_ci_compiles() {
    let found = excerpts(&readme());
    assert!(
        !found.is_empty(),
        "the README has no <!-- excerpt: PATH --> block"
    );
    for (path, block) in found {
        let source = std::fs::read_to_string(repo_root().join(&path))
            .unwrap_or_else(|e| panic!("README.md:{}: cannot read {path}: {e}", block.line));
        let source_lines: Vec<&str> = source.lines().map(str::trim).collect();
        let mut from = 0;
        for line in block.body.lines().map(str::trim) {
            if line.is_empty() || line == "// …" || line == "…" {
                continue;
            }
            match source_lines[from..].iter().position(|l| *l == line) {
                Some(at) => from += at + 1,
                None => panic!(
                    "README.md:{}: the excerpt line `{line}` is not in {path} (in this order)",
                    block.line
                ),
            }
        }
    }
}

#[test]
fn the_readme_names_the_two_commands_and_the_test_command_exists() {
    let readme = readme();
    assert!(readme.contains("cargo run --release -p portal-server"));
    assert!(readme.contains("./scripts/test"));
    let script = repo_root().join("scripts/test");
    assert!(Path::new(&script).is_file(), "scripts/test is missing");
}

#[test]
fn output_patterns_match_what_they_say() {
    assert!(line_matches("204 notice=…", "204 notice=queued"));
    assert!(line_matches("…", "anything"));
    assert!(line_matches("a…c…e", "abcde"));
    assert!(!line_matches("a…c", "abd"));
    assert!(!line_matches("exact", "exactly"));
    let expected: Value = serde_json::json!({"id": ANY, "state": "sent"});
    assert!(json_matches(
        &expected,
        &serde_json::json!({"id": "x", "state": "sent"})
    ));
    assert!(!json_matches(
        &expected,
        &serde_json::json!({"id": "x", "state": "queued"})
    ));
    assert!(!json_matches(&expected, &serde_json::json!({"id": "x"})));
}
