//! The terminal around prompts: pending keystrokes are dropped before each question (so a stray
//! Enter can never answer the next one), and an interrupted run gives the terminal back as it
//! found it (echo on after a hidden prompt, cursor visible after a list).

use std::io::IsTerminal;
use std::sync::OnceLock;

#[cfg(unix)]
static SAVED: OnceLock<libc::termios> = OnceLock::new();

/// Remembers the terminal's settings at start-up (when stdin is a terminal).
pub fn save() {
    #[cfg(unix)]
    if std::io::stdin().is_terminal() {
        // SAFETY: tcgetattr writes a termios for fd 0 into memory we own.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(0, &mut t) } == 0 {
            let _ = SAVED.set(t);
        }
    }
}

/// Puts the terminal back as it was at start-up, and shows the cursor.
pub fn restore() {
    #[cfg(unix)]
    if let Some(t) = SAVED.get() {
        // SAFETY: restores settings read from the same fd by `save`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, t);
        }
    }
    if std::io::stderr().is_terminal() {
        let _ = console::Term::stderr().show_cursor();
    }
}

/// Drops keystrokes typed before the question was asked.
pub fn flush_input() {
    #[cfg(unix)]
    if std::io::stdin().is_terminal() {
        // SAFETY: discards pending input on fd 0; no memory is involved.
        unsafe {
            libc::tcflush(0, libc::TCIFLUSH);
        }
    }
}
