//! The shared config and credentials files: located as the SDKs locate them, read once, checked
//! for what would make the SDKs misread them silently, then parsed by the Rust SDK's own parser.
//! Every later read (the credential providers, the read-back after a fix) goes through the same
//! paths, so ses-doctor never reads one file and writes another.

use crate::aws_files::{self, FileKind};
use crate::credentials::Environment;
use crate::exit::{error_chain, Failure};
use aws_config::profile::ProfileSet;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use std::borrow::Cow;
use std::io;
use std::path::PathBuf;

/// One of the two files as read at start-up.
#[derive(Clone, Debug)]
pub struct SharedFile {
    pub kind: FileKind,
    /// Where the SDKs read it (`~` expanded), for reading and writing alike.
    pub path: PathBuf,
    /// `None` when the file does not exist (the SDKs then read it as empty).
    pub text: Option<String>,
}

/// A credentials file's text holds every secret in it: wiped when dropped.
impl Drop for SharedFile {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        if let Some(text) = &mut self.text {
            text.zeroize();
        }
    }
}

impl SharedFile {
    pub fn text(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    pub fn sections(&self) -> Vec<aws_files::Section> {
        aws_files::sections(self.text(), self.kind)
    }

    fn sdk_kind(&self) -> EnvConfigFileKind {
        match self.kind {
            FileKind::Config => EnvConfigFileKind::Config,
            FileKind::Credentials => EnvConfigFileKind::Credentials,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SharedFiles {
    pub config: SharedFile,
    pub credentials: SharedFile,
}

impl SharedFiles {
    /// Reads both files. A file the SDKs would misread without a word, or refuse with a message
    /// that hides the cause (not a regular file, not UTF-8, a byte order mark, an indented section
    /// header), is bad input: exit 2 with the file and the problem.
    pub fn read(env: &Environment) -> Result<Self, Failure> {
        Ok(SharedFiles {
            config: read_one(env.config_file(), FileKind::Config)?,
            credentials: read_one(env.credentials_file(), FileKind::Credentials)?,
        })
    }

    pub fn get(&self, kind: FileKind) -> &SharedFile {
        match kind {
            FileKind::Config => &self.config,
            FileKind::Credentials => &self.credentials,
        }
    }

    /// The files' contents for the SDK: its providers read exactly what ses-doctor read.
    pub fn env_config_files(&self) -> EnvConfigFiles {
        let mut builder = EnvConfigFiles::builder();
        for file in [&self.config, &self.credentials] {
            builder = builder.with_contents(file.sdk_kind(), file.text());
        }
        builder.build()
    }

    /// The profiles, as the Rust SDK parses them. A file it refuses is bad input (exit 2).
    pub async fn profiles(&self, selected: Option<&str>) -> Result<ProfileSet, Failure> {
        use aws_types::os_shim_internal::{Env, Fs};
        let load = |files: EnvConfigFiles| async move {
            aws_config::profile::load(
                &Fs::real(),
                &Env::real(),
                &files,
                selected.map(|s| Cow::Owned(s.to_owned())),
            )
            .await
        };
        match load(self.env_config_files()).await {
            Ok(set) => Ok(set),
            Err(e) => {
                // Parse each file alone to name the one at fault.
                for file in [&self.config, &self.credentials] {
                    let alone = EnvConfigFiles::builder()
                        .with_contents(file.sdk_kind(), file.text())
                        .build();
                    if let Err(e) = load(alone).await {
                        // The parser names the contents' path, which is empty here: say it.
                        let why = error_chain(&e)
                            .replace(
                                "could not parse profile file: error parsing  on line ",
                                "line ",
                            )
                            .replace(":\n  ", ": ");
                        return Err(Failure::usage(format!(
                            "{}: the AWS SDKs cannot parse it: {why}",
                            file.path.display(),
                        )));
                    }
                }
                Err(Failure::usage(format!(
                    "cannot read the AWS config files ({} / {}): {}",
                    self.config.path.display(),
                    self.credentials.path.display(),
                    error_chain(&e)
                )))
            }
        }
    }
}

/// The Rust SDK's reading of file texts given as they are (config first, the credentials file's
/// values winning), or `None` when it refuses them. For the checks that compare an edit with the
/// SDK's own parser (unit and property tests, the fuzz targets, the end-to-end harness). The
/// parser does no I/O with contents given; this runs it on a one-thread runtime, so it must not be
/// called from inside another runtime.
pub fn sdk_reading(files: &[(FileKind, &str)]) -> Option<ProfileSet> {
    thread_local! {
        static RUNTIME: Option<tokio::runtime::Runtime> =
            tokio::runtime::Builder::new_current_thread().build().ok();
    }
    let mut builder = EnvConfigFiles::builder();
    for (kind, text) in files {
        let kind = match kind {
            FileKind::Config => EnvConfigFileKind::Config,
            FileKind::Credentials => EnvConfigFileKind::Credentials,
        };
        builder = builder.with_contents(kind, *text);
    }
    if files.is_empty() {
        builder = builder.with_contents(EnvConfigFileKind::Config, "");
    }
    let files = builder.build();
    RUNTIME.with(|rt| {
        rt.as_ref()?
            .block_on(aws_config::profile::load(
                &aws_types::os_shim_internal::Fs::from_slice(&[]),
                &aws_types::os_shim_internal::Env::from_slice(&[]),
                &files,
                None,
            ))
            .ok()
    })
}

fn read_one(path: PathBuf, kind: FileKind) -> Result<SharedFile, Failure> {
    let bad = |what: String| Failure::usage(format!("{}: {what}", path.display()));
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(SharedFile {
                kind,
                path,
                text: None,
            })
        }
        Err(e) => return Err(bad(format!("cannot be read: {e}"))),
    };
    if !meta.is_file() {
        // Reading a FIFO would wait forever; a directory or device is no config file.
        return Err(bad(format!(
            "is {}, not a regular file; the AWS SDKs cannot read their settings from it",
            file_type_name(&meta)
        )));
    }
    let bytes = std::fs::read(&path).map_err(|e| bad(format!("cannot be read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        bad(format!(
            "byte 0x{:02X} on line {line} is not UTF-8; the Rust SDK then reads the whole file as \
             empty and botocore refuses it. Save the file as UTF-8",
            bytes[at]
        ))
    })?;
    if text.starts_with('\u{FEFF}') {
        return Err(bad(
            "starts with a byte order mark (bytes EF BB BF, as some Windows editors save UTF-8), \
             which the AWS SDKs read as part of the first line: the Rust SDK refuses the file and \
             botocore finds no section header in it. Save the file as UTF-8 without a BOM"
                .to_owned(),
        ));
    }
    if let Some(line) = indented_header(&text) {
        return Err(bad(format!(
            "line {line}: the section header is indented, so the AWS SDKs read it as part of the \
             value above it and the profile does not exist for them. Remove the spaces before '['"
        )));
    }
    Ok(SharedFile {
        kind,
        path,
        text: Some(text),
    })
}

/// The line number of a `  [profile x]` header, if any.
fn indented_header(text: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let trimmed = line.trim_start_matches([' ', '\t']);
            trimmed.len() != line.len()
                && trimmed.starts_with('[')
                && trimmed.trim_end().ends_with(']')
        })
        .map(|i| i + 1)
}

/// What a path is, in words, for a message saying it is not what was expected.
pub fn file_type_name(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else if meta.is_file() {
        "a file"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indented_headers_are_found() {
        assert_eq!(indented_header("[a]\nk = v\n  [profile b]\n"), Some(3));
        assert_eq!(indented_header("[a]\ns3 =\n  max = 1\n"), None);
        assert_eq!(indented_header("[a]\n"), None);
    }
}
