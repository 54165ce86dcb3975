//! The results file of a batch: one synced line per scenario, and what an earlier
//! run already wrote (`--resume`).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cli::scenarios::FileFormat;
use crate::cli::CliError;
use crate::pb;

/// Header of a CSV results file.
const CSV_HEADER: &str = "scenario_id,status,revenue,spend,contribution,margin,error\n";

/// Ids already answered in an earlier run's output. Refuses an existing non-empty
/// output without `--resume`; with it, cuts a last line a killed run left half
/// written, so that the file stays one whole result per line.
pub(super) fn previous_ids(
    path: &Path,
    format: FileFormat,
    resume: bool,
) -> Result<HashSet<String>, CliError> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(source) => {
            return Err(CliError::Read {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let read_error = |source| CliError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(read_error)?;
    if text.is_empty() {
        return Ok(HashSet::new());
    }
    if !resume {
        return Err(CliError::Usage(format!(
            "{} already has results; pass --resume to continue that run, or choose \
             another --out",
            path.display()
        )));
    }
    let whole = text.rfind('\n').map_or(0, |end| end + 1);
    if whole < text.len() {
        tracing::warn!(path = %path.display(), "dropping a half-written last line");
        file.set_len(whole as u64).map_err(read_error)?;
        file.seek(SeekFrom::End(0)).map_err(read_error)?;
        text.truncate(whole);
    }
    let mut ids = HashSet::new();
    match format {
        FileFormat::Jsonl => {
            for line in text.lines().filter(|line| !line.trim().is_empty()) {
                let result: pb::ScenarioResult = serde_json::from_str(line).map_err(|error| {
                    CliError::Usage(format!("{} is not a results file: {error}", path.display()))
                })?;
                ids.insert(result.scenario_id);
            }
        }
        FileFormat::Csv => {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            for record in reader.records() {
                let record = record.map_err(|error| {
                    CliError::Usage(format!("{} is not a results file: {error}", path.display()))
                })?;
                if let Some(id) = record.get(0) {
                    ids.insert(id.to_string());
                }
            }
        }
    }
    Ok(ids)
}

/// How long written results may wait for a sync to disk. Each line is written
/// (handed to the operating system) as its result arrives, which a killed process
/// cannot lose; the sync only guards against the machine itself going down, and
/// one sync per line capped a batch at a few thousand results a second.
const SYNC_INTERVAL: Duration = Duration::from_millis(100);

/// The results file, appended one line at a time, synced at least every
/// [`SYNC_INTERVAL`] and when the batch ends.
pub(super) struct Output {
    file: File,
    format: FileFormat,
    path: PathBuf,
    /// When the file was last synced.
    synced: Instant,
}

impl Output {
    pub(super) fn open(path: &Path, format: FileFormat) -> Result<Output, CliError> {
        let fail = |error: std::io::Error| {
            CliError::Failed(format!("cannot write {}: {error}", path.display()))
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(fail)?;
        if format == FileFormat::Csv && file.metadata().map_err(fail)?.len() == 0 {
            file.write_all(CSV_HEADER.as_bytes()).map_err(fail)?;
            file.sync_data().map_err(fail)?;
        }
        Ok(Output {
            file,
            format,
            path: path.to_path_buf(),
            synced: Instant::now(),
        })
    }

    /// Appends one result (a kill of this process cannot lose it once written),
    /// syncing the file when the last sync is [`SYNC_INTERVAL`] old.
    pub(super) fn write(&mut self, result: &pb::ScenarioResult) -> Result<(), CliError> {
        let line = match self.format {
            FileFormat::Jsonl => {
                let mut line = serde_json::to_string(result).map_err(|error| {
                    CliError::Failed(format!("cannot encode a result: {error}"))
                })?;
                line.push('\n');
                line
            }
            FileFormat::Csv => csv_line(result)?,
        };
        self.file
            .write_all(line.as_bytes())
            .map_err(|error| self.failed(&error))?;
        if self.synced.elapsed() >= SYNC_INTERVAL {
            self.sync()?;
        }
        Ok(())
    }

    /// Syncs every result written so far to disk.
    pub(super) fn sync(&mut self) -> Result<(), CliError> {
        self.file.sync_data().map_err(|error| self.failed(&error))?;
        self.synced = Instant::now();
        Ok(())
    }

    fn failed(&self, error: &std::io::Error) -> CliError {
        CliError::Failed(format!("cannot write {}: {error}", self.path.display()))
    }
}

impl Drop for Output {
    /// A batch cut short by an error still syncs what it wrote (the error it
    /// returns is the one reported).
    fn drop(&mut self) {
        let _ = self.file.sync_data();
    }
}

/// One CSV row: money columns empty without a plan, error as `CODE: message`.
fn csv_line(result: &pb::ScenarioResult) -> Result<String, CliError> {
    let status = status_name(result);
    let totals = result.totals.clone().unwrap_or_default();
    let solved = matches!(
        pb::SolveStatus::try_from(result.status),
        Ok(pb::SolveStatus::Optimal | pb::SolveStatus::TimeLimit)
    ) && result.error.is_none();
    let money = |value: f64| {
        if solved {
            value.to_string()
        } else {
            String::new()
        }
    };
    let error = result
        .error
        .as_ref()
        .map(|error| format!("{}: {}", error.code, error.message))
        .unwrap_or_default();
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer
        .write_record([
            result.scenario_id.clone(),
            status,
            money(totals.revenue),
            money(totals.spend),
            money(totals.contribution),
            money(totals.margin),
            error,
        ])
        .map_err(|error| CliError::Failed(format!("cannot encode a result: {error}")))?;
    let bytes = writer
        .into_inner()
        .map_err(|error| CliError::Failed(format!("cannot encode a result: {error}")))?;
    String::from_utf8(bytes)
        .map_err(|error| CliError::Failed(format!("cannot encode a result: {error}")))
}

/// `OPTIMAL`, `INFEASIBLE`, …, or `ERROR` for a scenario that could not be solved.
fn status_name(result: &pb::ScenarioResult) -> String {
    if result.error.is_some() {
        return "ERROR".into();
    }
    pb::SolveStatus::try_from(result.status).map_or("ERROR".into(), |status| {
        status
            .as_str_name()
            .trim_start_matches("SOLVE_STATUS_")
            .to_string()
    })
}
