//! The intent record of a key being created. A run killed between IAM's CreateAccessKey and the
//! save would leave a key whose secret nobody has, holding one of the user's two slots. So before
//! a key is created, ses-doctor writes what it is about to do into a small journal beside the
//! credentials file (mode 0600, never a secret in it), updates it once IAM names the key, and
//! removes it when every target holds the key. A later run that finds the journal completes the
//! job (see `diagnose::access_key::recover`).

use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub version: u32,
    /// The IAM user the key is for.
    pub user: String,
    /// Unix seconds when the run decided to create the key.
    pub started: u64,
    /// The user's keys before: any other key of the user after that is this run's.
    pub keys_before: Vec<String>,
    /// Set once IAM has answered CreateAccessKey.
    pub key_id: Option<String>,
    /// Where the key was going.
    pub profile: Option<String>,
    pub credentials_file: PathBuf,
    pub credentials_out: Option<PathBuf>,
    /// The run that wrote it: a journal of a run still going is not an interrupted one.
    pub pid: u32,
}

pub struct Journal {
    path: PathBuf,
}

impl Journal {
    /// The journal of `user`'s key, beside the credentials file (beside its real target, if it
    /// is a symlink): `<name>.ses-doctor.<user>.journal`. One per user, so that runs for two
    /// users sharing the file do not overwrite each other's.
    pub fn beside(credentials_file: &Path, user: &str) -> Journal {
        let real =
            crate::aws_files::link_target(credentials_file).unwrap_or(credentials_file.into());
        let mut name = real
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(format!(".ses-doctor.{user}.journal"));
        Journal {
            path: real.with_file_name(name),
        }
    }

    /// Every journal beside the credentials file.
    pub fn all_beside(credentials_file: &Path) -> Vec<Journal> {
        let real =
            crate::aws_files::link_target(credentials_file).unwrap_or(credentials_file.into());
        let Some(name) = real.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Vec::new();
        };
        let dir = real
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let prefix = format!("{name}.ses-doctor.");
        let mut found: Vec<PathBuf> = fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name().is_some_and(|n| {
                            let n = n.to_string_lossy();
                            n.starts_with(&prefix) && n.ends_with(".journal")
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found.into_iter().map(|path| Journal { path }).collect()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pending entry, if a run left one. A journal that does not parse is reported, not
    /// ignored: it means a key may be orphaned.
    pub fn read(&self) -> Result<Option<Entry>, String> {
        match fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{}: not a ses-doctor journal ({e})", self.path.display())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }

    /// Writes the entry durably: a temporary file, synced, renamed into place.
    pub fn write(&self, entry: &Entry) -> io::Result<()> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".new");
        let tmp = PathBuf::from(tmp_name);
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(serde_json::to_string_pretty(entry)?.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, &self.path)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    pub fn clear(&self) -> io::Result<()> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Whether another ses-doctor process with this pid is running now (its journal and temporary
/// files are work in progress, not leftovers).
pub fn running(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => comm.trim_end().starts_with("ses-doctor"),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_private_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::beside(&dir.path().join("credentials"), "mailer");
        assert_eq!(journal.read(), Ok(None));
        let entry = Entry {
            version: 1,
            user: "mailer".into(),
            started: 1,
            keys_before: vec!["AKIAOLD".into()],
            key_id: None,
            profile: Some("mailer".into()),
            credentials_file: dir.path().join("credentials"),
            credentials_out: None,
            pid: 1,
        };
        journal.write(&entry).unwrap();
        assert_eq!(
            Journal::all_beside(&dir.path().join("credentials")).len(),
            1
        );
        assert_eq!(journal.read(), Ok(Some(entry)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(journal.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        journal.clear().unwrap();
        assert_eq!(journal.read(), Ok(None));
        fs::write(journal.path(), "{").unwrap();
        assert!(journal.read().is_err());
    }
}
