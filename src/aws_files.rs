//! Changing the AWS shared config and credentials files without losing anything: one property
//! of one profile changes and every other byte stays as it was (comments, order, spacing, line
//! endings); the write is atomic (temp file + rename), under a lock against a concurrent
//! ses-doctor, and the previous file is kept next to it as `<name>.ses-doctor.bak`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Which of the two files: their section headers differ (`[profile x]` vs `[x]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Config,
    Credentials,
}

/// Whether a header line (`[profile mailer]`, `[mailer]`, `[default]`) opens `profile`'s section.
fn header_names(line: &str, kind: FileKind, profile: &str) -> Option<bool> {
    let trimmed = line.trim();
    let inner = trimmed.strip_prefix('[')?;
    let inner = &inner[..inner.find(']')?];
    let words: Vec<&str> = inner.split_whitespace().collect();
    Some(match (kind, words.as_slice()) {
        (FileKind::Config, ["profile", name]) => *name == profile,
        (FileKind::Config, [name]) => *name == "default" && profile == "default",
        (FileKind::Credentials, [name]) => *name == profile,
        _ => false,
    })
}

/// The key of a top-level property line (`region = eu-west-1`), if it is one. Indented lines
/// are sub-properties or continuations and never match.
fn property_key(line: &str) -> Option<&str> {
    if line.starts_with([' ', '\t']) || line.trim_start().starts_with(['#', ';', '[']) {
        return None;
    }
    let (key, _) = line.split_once('=')?;
    Some(key.trim())
}

/// Splits text into lines that keep their line endings, so joining them gives the text back.
fn lines_with_endings(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The value of `key` in `profile`'s section, as the file has it.
pub fn get_property<'a>(
    text: &'a str,
    kind: FileKind,
    profile: &str,
    key: &str,
) -> Option<&'a str> {
    let mut inside = false;
    for line in lines_with_endings(text) {
        if let Some(opens) = header_names(line, kind, profile) {
            inside = opens;
            continue;
        }
        if inside && property_key(line) == Some(key) {
            let value = line.split_once('=')?.1;
            return Some(value.trim_end_matches(['\r', '\n']).trim());
        }
    }
    None
}

/// `text` with `key = value` set in `profile`'s section: the existing line's value replaced in
/// place, or a line added at the end of the section, or a new section appended.
pub fn set_property(text: &str, kind: FileKind, profile: &str, key: &str, value: &str) -> String {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines = lines_with_endings(text);
    let mut section: Option<(usize, usize)> = None; // header index, index after last content line
    let mut inside = false;
    for (i, line) in lines.iter().enumerate() {
        if let Some(opens) = header_names(line, kind, profile) {
            inside = opens;
            if opens && section.is_none() {
                section = Some((i, i + 1));
            }
            continue;
        }
        if inside {
            if property_key(line) == Some(key) {
                // Keep the key, the spacing around '=' and the line ending; change the value.
                let (before, after) = line.split_once('=').expect("a property line has '='");
                let spacing: String = after
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .collect();
                let ending = &line[line.trim_end_matches(['\r', '\n']).len()..];
                let mut out: String = lines[..i].concat();
                out.push_str(&format!("{before}={spacing}{value}{ending}"));
                out.push_str(&lines[i + 1..].concat());
                return out;
            }
            if !line.trim().is_empty() {
                if let Some((header, _)) = section {
                    section = Some((header, i + 1));
                }
            }
        }
    }
    let new_line = format!("{key} = {value}{eol}");
    match section {
        Some((_, insert_at)) => {
            let mut out: String = lines[..insert_at].concat();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push_str(eol);
            }
            out.push_str(&new_line);
            out.push_str(&lines[insert_at..].concat());
            out
        }
        None => {
            let mut out = text.to_owned();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push_str(eol);
            }
            if !out.is_empty() {
                out.push_str(eol);
            }
            let header = match (kind, profile) {
                (FileKind::Config, "default") => "[default]".to_owned(),
                (FileKind::Config, p) => format!("[profile {p}]"),
                (FileKind::Credentials, p) => format!("[{p}]"),
            };
            out.push_str(&format!("{header}{eol}{new_line}"));
            out
        }
    }
}

/// `text` without the `key` line(s) of `profile`'s section (e.g. a stale `aws_session_token`
/// that would break a new long-term key).
pub fn remove_property(text: &str, kind: FileKind, profile: &str, key: &str) -> String {
    let mut inside = false;
    let mut out = String::with_capacity(text.len());
    for line in lines_with_endings(text) {
        if let Some(opens) = header_names(line, kind, profile) {
            inside = opens;
        } else if inside && property_key(line) == Some(key) {
            continue;
        }
        out.push_str(line);
    }
    out
}

/// The backup kept next to `path` by [`update`].
pub fn backup_path(path: &Path) -> PathBuf {
    sibling(path, ".ses-doctor.bak")
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// What [`update`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Updated {
    Unchanged,
    Written { backup: Option<PathBuf> },
}

/// Read-modify-write of `path` under an exclusive lock, atomically. A new file gets mode 0600
/// (these files hold secrets), an existing one keeps its mode unless `mode` forces one (the
/// credentials file is always made 0600 when a secret is written into it). Missing parent
/// directories are created with mode 0700.
pub fn update(
    path: &Path,
    mode: Option<u32>,
    edit: impl FnOnce(&str) -> String,
) -> io::Result<Updated> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    // The lock is a file of its own: the config file itself is replaced by the rename.
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(sibling(path, ".ses-doctor.lock"))?;
    lock.lock()?;

    let current = match fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let new = edit(current.as_deref().unwrap_or(""));
    if current.as_deref() == Some(new.as_str()) {
        return Ok(Updated::Unchanged);
    }
    let mode = mode.unwrap_or_else(|| existing_mode(path));
    let backup = match &current {
        Some(_) => {
            let backup = backup_path(path);
            write_file(&backup, fs::read(path)?.as_slice(), mode)?;
            Some(backup)
        }
        None => None,
    };
    let tmp = sibling(path, &format!(".ses-doctor.tmp{}", std::process::id()));
    let written = write_file(&tmp, new.as_bytes(), mode).and_then(|_| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // Make the rename itself durable.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(Updated::Written { backup })
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

fn existing_mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            return meta.permissions().mode() & 0o777;
        }
    }
    let _ = path;
    0o600
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# my config\n[default]\nregion = us-east-1\n\n[profile mailer]\noutput=json\nregion=us-west-2   \ns3 =\n  region = not-this\n\n[profile other]\nregion = eu-west-1\n";

    #[test]
    fn replaces_the_value_in_place_and_nothing_else() {
        let out = set_property(CONFIG, FileKind::Config, "mailer", "region", "eu-west-1");
        assert_eq!(
            out,
            CONFIG.replace("region=us-west-2   \n", "region=eu-west-1\n")
        );
        assert_eq!(
            get_property(&out, FileKind::Config, "mailer", "region"),
            Some("eu-west-1")
        );
        assert_eq!(
            get_property(&out, FileKind::Config, "other", "region"),
            Some("eu-west-1")
        );
        assert_eq!(
            get_property(&out, FileKind::Config, "default", "region"),
            Some("us-east-1")
        );
    }

    #[test]
    fn adds_the_key_at_the_end_of_the_section() {
        let text = "[profile a]\noutput = json\n\n[profile b]\nregion = x\n";
        let out = set_property(text, FileKind::Config, "a", "region", "eu-west-1");
        assert_eq!(
            out,
            "[profile a]\noutput = json\nregion = eu-west-1\n\n[profile b]\nregion = x\n"
        );
    }

    #[test]
    fn appends_a_section_and_keeps_crlf() {
        let text = "[profile a]\r\nregion = x";
        let out = set_property(text, FileKind::Config, "new", "region", "eu-west-1");
        assert_eq!(
            out,
            "[profile a]\r\nregion = x\r\n\r\n[profile new]\r\nregion = eu-west-1\r\n"
        );
        let out = set_property("", FileKind::Config, "default", "region", "eu-west-1");
        assert_eq!(out, "[default]\nregion = eu-west-1\n");
        let out = set_property(
            "",
            FileKind::Credentials,
            "mailer",
            "aws_access_key_id",
            "AKIA",
        );
        assert_eq!(out, "[mailer]\naws_access_key_id = AKIA\n");
    }

    #[test]
    fn removes_only_that_profiles_key() {
        let text = "[a]\naws_session_token = x\nk = 1\n[b]\naws_session_token = y\n";
        let out = remove_property(text, FileKind::Credentials, "a", "aws_session_token");
        assert_eq!(out, "[a]\nk = 1\n[b]\naws_session_token = y\n");
    }

    #[test]
    fn concurrent_updates_are_serialised_by_the_lock() {
        // Each writer reads the counter and writes it back plus one; without the lock, writers
        // would overwrite each other's increments.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        update(&path, Some(0o600), |text| {
                            let n: u32 = get_property(text, FileKind::Credentials, "c", "n")
                                .map(|v| v.parse().unwrap())
                                .unwrap_or(0);
                            // Widen the window between read and write.
                            std::thread::yield_now();
                            set_property(
                                text,
                                FileKind::Credentials,
                                "c",
                                "n",
                                &(n + 1).to_string(),
                            )
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            get_property(&text, FileKind::Credentials, "c", "n"),
            Some("200")
        );
    }

    #[test]
    fn headers_of_the_two_files() {
        assert_eq!(
            header_names("[profile  mailer ]", FileKind::Config, "mailer"),
            Some(true)
        );
        assert_eq!(
            header_names("[mailer]", FileKind::Config, "mailer"),
            Some(false)
        );
        assert_eq!(
            header_names("[mailer]", FileKind::Credentials, "mailer"),
            Some(true)
        );
        assert_eq!(header_names("region = x", FileKind::Config, "mailer"), None);
    }

    #[test]
    fn update_is_atomic_keeps_mode_and_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aws").join("config");
        // New file: created with 0600 in a new 0700 directory.
        let r = update(&path, None, |t| {
            set_property(t, FileKind::Config, "a", "region", "x")
        })
        .unwrap();
        assert_eq!(r, Updated::Written { backup: None });
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        let before = fs::read_to_string(&path).unwrap();
        let r = update(&path, None, |t| {
            set_property(t, FileKind::Config, "a", "region", "y")
        })
        .unwrap();
        assert_eq!(
            r,
            Updated::Written {
                backup: Some(backup_path(&path))
            }
        );
        assert_eq!(fs::read_to_string(backup_path(&path)).unwrap(), before);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o640
            );
        }
        let r = update(&path, None, |t| {
            set_property(t, FileKind::Config, "a", "region", "y")
        })
        .unwrap();
        assert_eq!(r, Updated::Unchanged);
        // No temp file is left behind.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    }
}
