//! The results file of a batch: one synced line per scenario, and what an earlier
//! run already wrote (`--resume`).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cli::scenarios::FileFormat;
use crate::cli::CliError;
use crate::pb;

/// Header of a CSV results file.
const CSV_HEADER: &str = "scenario_id,status,revenue,spend,contribution,margin,error\n";

/// Ids already answered in an earlier run's output. Refuses an existing non-empty
/// output without `--resume`; with it, cuts a last line a killed run left half
/// written, so that the file stays one whole result per line. The file is read
/// as it goes (a run of a million scenarios leaves hundreds of megabytes): only
/// the ids are kept.
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
    let length = file.metadata().map_err(read_error)?.len();
    if length == 0 {
        return Ok(HashSet::new());
    }
    if !resume {
        return Err(CliError::Usage(format!(
            "{} already has results; pass --resume to continue that run, or choose \
             another --out",
            path.display()
        )));
    }
    let whole = end_of_last_line(&mut file, length).map_err(read_error)?;
    if whole < length {
        tracing::warn!(path = %path.display(), "dropping a half-written last line");
        file.set_len(whole).map_err(read_error)?;
    }
    file.seek(SeekFrom::Start(0)).map_err(read_error)?;
    let not_results = |error: &dyn std::fmt::Display| {
        CliError::Usage(format!("{} is not a results file: {error}", path.display()))
    };
    let mut ids = HashSet::new();
    let reader = BufReader::new(&mut file);
    match format {
        FileFormat::Jsonl => {
            /// The one field of a result line that `--resume` needs.
            #[derive(serde::Deserialize)]
            struct Answered {
                #[serde(rename = "scenarioId", default)]
                scenario_id: String,
            }
            for line in reader.lines() {
                let line = line.map_err(read_error)?;
                if line.trim().is_empty() {
                    continue;
                }
                let answered: Answered =
                    serde_json::from_str(&line).map_err(|error| not_results(&error))?;
                ids.insert(answered.scenario_id);
            }
        }
        FileFormat::Csv => {
            let mut reader = csv::Reader::from_reader(reader);
            for record in reader.records() {
                let record = record.map_err(|error| not_results(&error))?;
                if let Some(id) = record.get(0) {
                    ids.insert(id.to_string());
                }
            }
        }
    }
    file.seek(SeekFrom::End(0)).map_err(read_error)?;
    Ok(ids)
}

/// Where the last whole line of `file` (`length` bytes) ends: just after its
/// last newline (0 when it has none), found by reading back from the end.
fn end_of_last_line(file: &mut File, length: u64) -> std::io::Result<u64> {
    const CHUNK: u64 = 64 * 1024;
    let mut buffer = vec![0u8; CHUNK as usize];
    let mut end = length;
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let chunk = &mut buffer[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(at) = chunk.iter().rposition(|&byte| byte == b'\n') {
            return Ok(start + at as u64 + 1);
        }
        end = start;
    }
    Ok(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_reads_the_ids_and_cuts_a_half_written_line() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("results.jsonl");
        // Two whole results (one refused for an empty id, which proto3 JSON
        // leaves out) and half of a third.
        let text = "{\"scenarioId\":\"a\",\"status\":\"SOLVE_STATUS_OPTIMAL\"}\n\
                    {\"errorCode\":\"INVALID_ARGUMENT\"}\n\
                    {\"scenarioId\":\"c\",\"sta";
        std::fs::write(&path, text).expect("written");
        let ids = previous_ids(&path, FileFormat::Jsonl, true).expect("read");
        let expected: HashSet<String> = ["a".to_string(), String::new()].into();
        assert_eq!(ids, expected);
        let kept = std::fs::read_to_string(&path).expect("read back");
        assert_eq!(kept, text[..text.rfind('\n').expect("a newline") + 1]);
        // Without --resume an existing output is refused.
        assert!(previous_ids(&path, FileFormat::Jsonl, false).is_err());
    }

    #[test]
    fn the_last_line_is_found_across_chunks() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("results.csv");
        // A 100,000-byte tail without a newline after the header: the newline
        // is two 64 KiB chunks back from the end.
        let mut text = String::from(CSV_HEADER);
        text.push_str(&"x".repeat(100_000));
        std::fs::write(&path, &text).expect("written");
        let mut file = File::open(&path).expect("opened");
        let length = text.len() as u64;
        assert_eq!(
            end_of_last_line(&mut file, length).expect("read"),
            CSV_HEADER.len() as u64
        );
        // No newline at all: nothing is whole.
        std::fs::write(&path, "abc").expect("written");
        let mut file = File::open(&path).expect("opened");
        assert_eq!(end_of_last_line(&mut file, 3).expect("read"), 0);
    }
}
