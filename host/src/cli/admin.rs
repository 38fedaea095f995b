//! `wasmconnect connectors ...` and `wasmconnect plugins ...`: the Kafka Connect REST API
//! from the command line, as tables by default and as JSON with `--json`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use reqwest::Method;
use serde_json::{Value, json};

use super::live::Line;
use super::{Client, encode};

#[derive(clap::Subcommand, Debug)]
pub enum ConnectorsCommand {
    /// Every connector with its type, state and task states.
    List,
    /// A connector's config, tasks and type.
    Get { name: String },
    /// Creates a connector from a JSON file: {"name":"...","config":{...}} as for POST /connectors.
    Create {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// A connector's config.
    Config { name: String },
    /// A connector's state and its tasks' states and progress, with the trace of a failure.
    Status {
        name: String,
        /// Show it again every this many seconds, a live view until interrupted.
        #[arg(long, value_name = "SECONDS")]
        watch: Option<u64>,
    },
    /// Pauses the tasks; they keep their configs and resume where they were.
    Pause { name: String },
    /// Resumes a paused or stopped connector.
    Resume { name: String },
    /// Stops the connector: its tasks shut down and their configs are removed.
    Stop { name: String },
    /// Restarts the connector; with --include-tasks its tasks too, with --only-failed only failed ones.
    Restart {
        name: String,
        #[arg(long)]
        include_tasks: bool,
        #[arg(long)]
        only_failed: bool,
    },
    /// Deletes the connector (its committed offsets stay).
    Delete { name: String },
    /// The committed offsets of a connector.
    Offsets { name: String },
}

#[derive(clap::Subcommand, Debug)]
pub enum PluginsCommand {
    /// The installed connector plugins.
    List,
    /// The components of the plugin path the worker could not load, and why.
    Errors,
    /// Validates a connector config (a JSON file of the config map) against a plugin.
    Validate {
        class: String,
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
}

impl Client {
    pub async fn connectors(&self, command: ConnectorsCommand, as_json: bool, out: &mut impl Write) -> anyhow::Result<()> {
        use ConnectorsCommand as C;
        let path = |name: &str, rest: &str| format!("/connectors/{}{rest}", encode(name));
        match command {
            C::List => {
                let all: Value = self.call(Method::GET, "/connectors?expand=status", None).await?;
                if as_json {
                    return print_json(out, &all);
                }
                let mut rows = vec![vec!["NAME".to_owned(), "TYPE".to_owned(), "STATE".to_owned(), "TASKS".to_owned()]];
                for (name, details) in all.as_object().into_iter().flatten() {
                    let status = &details["status"];
                    let tasks: Vec<String> = status["tasks"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|t| format!("{}:{}", t["id"], t["state"].as_str().unwrap_or("?")))
                        .collect();
                    rows.push(vec![name.clone(), text(&status["type"]), text(&status["connector"]["state"]), tasks.join(" ")]);
                }
                print_table(out, &rows)
            }
            C::Get { name } => self.show(Method::GET, &path(&name, ""), None, out).await,
            C::Config { name } => self.show(Method::GET, &path(&name, "/config"), None, out).await,
            C::Offsets { name } => self.show(Method::GET, &path(&name, "/offsets"), None, out).await,
            C::Create { file } => {
                let body = read_json(&file)?;
                self.show(Method::POST, "/connectors", Some(&body), out).await
            }
            C::Status { name, watch } => {
                let terminal = std::io::stdout().is_terminal();
                if let (Some(seconds), true, false) = (watch, terminal, as_json) {
                    return self.watch_live(&path(&name, "/status"), seconds).await;
                }
                // A terminal is cleared before each view, so the view stays in place.
                let clear = watch.is_some() && terminal;
                loop {
                    let status: Value = self.call(Method::GET, &path(&name, "/status"), None).await?;
                    if clear {
                        write!(out, "\x1b[2J\x1b[H")?;
                    }
                    if as_json {
                        print_json(out, &status)?;
                    } else {
                        print_status(out, &status)?;
                    }
                    let Some(seconds) = watch else { return Ok(()) };
                    out.flush()?;
                    tokio::time::sleep(Duration::from_secs(seconds.max(1))).await;
                    if !clear {
                        writeln!(out)?;
                    }
                }
            }
            C::Pause { name } => self.act(Method::PUT, &path(&name, "/pause"), &format!("paused {name}"), out).await,
            C::Resume { name } => self.act(Method::PUT, &path(&name, "/resume"), &format!("resumed {name}"), out).await,
            C::Stop { name } => self.act(Method::PUT, &path(&name, "/stop"), &format!("stopped {name}"), out).await,
            C::Delete { name } => self.act(Method::DELETE, &path(&name, ""), &format!("deleted {name}"), out).await,
            C::Restart { name, include_tasks, only_failed } => {
                let query = format!("/restart?includeTasks={include_tasks}&onlyFailed={only_failed}");
                self.act(Method::POST, &path(&name, &query), &format!("restarted {name}"), out).await
            }
        }
    }

    pub async fn plugins(&self, command: PluginsCommand, as_json: bool, out: &mut impl Write) -> anyhow::Result<()> {
        match command {
            PluginsCommand::List => {
                let plugins: Value = self.call(Method::GET, "/connector-plugins", None).await?;
                if as_json {
                    return print_json(out, &plugins);
                }
                let mut rows = vec![vec!["CLASS".to_owned(), "TYPE".to_owned(), "VERSION".to_owned()]];
                for p in plugins.as_array().into_iter().flatten() {
                    rows.push(vec![text(&p["class"]), text(&p["type"]), text(&p["version"])]);
                }
                print_table(out, &rows)
            }
            PluginsCommand::Errors => {
                let failures: Value = self.call(Method::GET, "/connector-plugins/errors", None).await?;
                if as_json {
                    return print_json(out, &failures);
                }
                let failures = failures.as_array().cloned().unwrap_or_default();
                if failures.is_empty() {
                    return writeln!(out, "every component on the plugin path loaded").map_err(Into::into);
                }
                for failure in failures {
                    writeln!(out, "{}\n  {}", text(&failure["path"]), text(&failure["error"]))?;
                }
                Ok(())
            }
            PluginsCommand::Validate { class, file } => {
                let config = read_json(&file)?;
                let path = format!("/connector-plugins/{}/config/validate", encode(&class));
                let result: Value = self.call(Method::PUT, &path, Some(&config)).await?;
                if as_json {
                    return print_json(out, &result);
                }
                writeln!(out, "{} error(s)", result["error_count"])?;
                for entry in result["configs"].as_array().into_iter().flatten() {
                    for error in entry["value"]["errors"].as_array().into_iter().flatten() {
                        writeln!(out, "{}: {}", text(&entry["value"]["name"]), text(error))?;
                    }
                }
                Ok(())
            }
        }
    }

    /// The status redrawn in place every `seconds` until interrupted, with a progress bar
    /// for each source task that reports how much it has still to read.
    async fn watch_live(&self, path: &str, seconds: u64) -> anyhow::Result<()> {
        let mut view = super::live::LiveView::new();
        loop {
            let status: Value = self.call(Method::GET, path, None).await?;
            view.show(live_lines(&status));
            tokio::time::sleep(Duration::from_secs(seconds.max(1))).await;
        }
    }

    async fn show(&self, method: Method, path: &str, body: Option<&Value>, out: &mut impl Write) -> anyhow::Result<()> {
        let answer: Value = self.call(method, path, body).await?;
        print_json(out, &answer)
    }

    async fn act(&self, method: Method, path: &str, done: &str, out: &mut impl Write) -> anyhow::Result<()> {
        let _: Value = self.call(method, path, Some(&json!(null))).await?;
        writeln!(out, "{done}")?;
        Ok(())
    }
}

fn read_json(file: &PathBuf) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", file.display()))
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

fn print_json(out: &mut impl Write, value: &Value) -> anyhow::Result<()> {
    writeln!(out, "{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// Columns padded to their widest cell, two spaces apart; on a terminal, states in colour.
fn print_table(out: &mut impl Write, rows: &[Vec<String>]) -> anyhow::Result<()> {
    for line in table_lines(rows, std::io::stdout().is_terminal()) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn table_lines(rows: &[Vec<String>], colour: bool) -> Vec<String> {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| paint(cell, format!("{cell:<w$}"), colour)).collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

/// A padded cell in the colour of the state it names: green running, red failed, yellow
/// paused or stopped, cyan in between.
fn paint(cell: &str, padded: String, colour: bool) -> String {
    let code = match cell {
        "RUNNING" => "32",
        "FAILED" => "31",
        "PAUSED" | "STOPPED" => "33",
        "UNASSIGNED" | "RESTARTING" => "36",
        _ => return padded,
    };
    if colour { format!("\x1b[{code}m{padded}\x1b[0m") } else { padded }
}

/// The status as a table: each task's state, worker and progress, then any traces.
fn print_status(out: &mut impl Write, status: &Value) -> anyhow::Result<()> {
    print_table(out, &status_rows(status))?;
    for trace in traces(status) {
        writeln!(out, "\n{trace}")?;
    }
    Ok(())
}

/// The traces of a failed connector or of failed tasks.
fn traces(status: &Value) -> impl Iterator<Item = &str> {
    std::iter::once(&status["connector"]).chain(status["tasks"].as_array().into_iter().flatten()).filter_map(|s| s["trace"].as_str())
}

/// The live view: the status table, a bar for each task that reports records still to read
/// (records read against read plus still to read), and the first line of each trace, which
/// says what went wrong and what to do.
fn live_lines(status: &Value) -> Vec<Line> {
    let mut lines: Vec<Line> = table_lines(&status_rows(status), true).into_iter().map(Line::Text).collect();
    // A sink's lag is its consumer group's, not a snapshot: the LAG column shows it.
    let source_tasks = status["tasks"].as_array().into_iter().flatten().filter(|_| status["type"] == "source");
    for task in source_tasks {
        let progress = &task["progress"];
        let Some(lag) = progress["lag"].as_u64() else { continue };
        let count = |key: &str| progress[key].as_u64().unwrap_or(0);
        let (read, written) = (count("records_read"), count("records_written"));
        lines.push(Line::Bar { label: format!("task {}", task["id"]), done: read, total: read + lag, note: format!("{written} written, {lag} still to read") });
    }
    for trace in traces(status) {
        lines.push(Line::Text(String::new()));
        lines.push(Line::Text(trace.lines().next().unwrap_or_default().to_owned()));
    }
    lines
}

fn status_rows(status: &Value) -> Vec<Vec<String>> {
    let header = ["WHAT", "STATE", "WORKER", "READ", "WRITTEN", "LAG"].map(str::to_owned).to_vec();
    let mut rows = vec![header];
    let blank = || vec![String::new(); 3];
    rows.push([vec!["connector".to_owned(), text(&status["connector"]["state"]), text(&status["connector"]["worker_id"])], blank()].concat());
    for task in status["tasks"].as_array().into_iter().flatten() {
        let progress = &task["progress"];
        let count = |key: &str| progress.get(key).map_or(String::new(), |v| v.to_string());
        rows.push(vec![
            format!("task {}", task["id"]),
            text(&task["state"]),
            text(&task["worker_id"]),
            count("records_read"),
            count("records_written"),
            count("lag"),
        ]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_coloured_only_for_a_terminal() {
        assert_eq!(paint("FAILED", "FAILED  ".into(), true), "\x1b[31mFAILED  \x1b[0m");
        assert_eq!(paint("RUNNING", "RUNNING".into(), true), "\x1b[32mRUNNING\x1b[0m");
        assert_eq!(paint("PAUSED", "PAUSED".into(), false), "PAUSED");
        assert_eq!(paint("my-connector", "my-connector".into(), true), "my-connector");
    }

    #[test]
    fn the_live_view_has_a_bar_for_each_source_task_still_reading() {
        let status = json!({"type": "source", "connector": {"state": "RUNNING", "worker_id": "w"}, "tasks": [
            {"id": 0, "state": "RUNNING", "worker_id": "w", "progress": {"records_read": 250, "records_written": 200, "lag": 750}},
            {"id": 1, "state": "FAILED", "worker_id": "w", "trace": "Do this.\nthe details", "progress": {"records_read": 5, "records_written": 5}},
        ]});
        let lines = live_lines(&status);
        let bars: Vec<&Line> = lines.iter().filter(|l| matches!(l, Line::Bar { .. })).collect();
        let bar = Line::Bar { label: "task 0".into(), done: 250, total: 1000, note: "200 written, 750 still to read".into() };
        assert_eq!(bars, vec![&bar]);
        assert_eq!(lines.last(), Some(&Line::Text("Do this.".into())), "the first line of the trace");
        assert!(matches!(&lines[0], Line::Text(header) if header.starts_with("WHAT") && header.ends_with("LAG")));

        let mut sink = status.clone();
        sink["type"] = json!("sink");
        assert!(!live_lines(&sink).iter().any(|l| matches!(l, Line::Bar { .. })), "a sink's lag is no snapshot");
    }
}
