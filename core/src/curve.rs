//! CURVE keys: generate a keypair, write it as two files, read a key back from a file or an
//! environment variable.
//!
//! A key is 32 bytes. On disk and in the environment it is the 40-character Z85 text libzmq uses
//! (`zmq_z85_encode`), optionally followed by a newline; a key file may also hold the 32 raw bytes, as
//! `ZMQ_CURVE_*KEY` accepts both. Every read error names the option the key came from, so a bad
//! `secret_key_file` or `LOGFUNNEL_CURVE_SERVERKEY` says which one and why.
//!
//! ```no_run
//! use logfunnel_core::curve::{read_public_key, KeyPair, KeySource};
//! let pair = KeyPair::generate().unwrap();
//! pair.write_files("collector.key".as_ref(), "collector.key_secret".as_ref()).unwrap();
//! let source = KeySource::File("collector.key".into());
//! assert_eq!(read_public_key("server_key_file", &source).unwrap(), pair.public);
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Length of a CURVE key in bytes.
pub const KEY_BYTES: usize = 32;
/// Length of a CURVE key in Z85 text.
pub const Z85_KEY_CHARS: usize = 40;

/// Z85's alphabet (ZeroMQ RFC 32): the character for each value 0..85.
const Z85_ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// A CURVE public key: safe to share, shown as Z85.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; KEY_BYTES]);

/// A CURVE secret key. Its `Debug` hides the bytes, so it never ends up in a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_BYTES]);

/// A matching public and secret key.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The half a peer lists (client allowlist) or configures (server key).
    pub public: PublicKey,
    /// The half that stays on this host, in a file only its owner can read.
    pub secret: SecretKey,
}

/// Where a key is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A file holding the Z85 text (or the 32 raw bytes).
    File(PathBuf),
    /// An environment variable holding the Z85 text.
    Env(String),
}

impl KeySource {
    /// How bindings and config files spell a source: `env:NAME` for an environment variable,
    /// anything else a file path.
    pub fn parse(spec: &str) -> KeySource {
        match spec.strip_prefix("env:") {
            Some(var) => KeySource::Env(var.to_string()),
            None => KeySource::File(PathBuf::from(spec)),
        }
    }
}

/// Why a key could not be read, generated or written. Read errors name the option the key came from.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file does not exist.
    #[error("{option}: key file {} does not exist", path.display())]
    FileMissing {
        /// The option that named the file.
        option: String,
        /// The file.
        path: PathBuf,
    },
    /// The key file exists but cannot be read.
    #[error("{option}: cannot read key file {}: {source}", path.display())]
    FileUnreadable {
        /// The option that named the file.
        option: String,
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The environment variable is not set.
    #[error("{option}: environment variable {var} is not set")]
    EnvMissing {
        /// The option that named the variable.
        option: String,
        /// The variable.
        var: String,
    },
    /// The text read is not a key.
    #[error("{option}: {origin} is not a CURVE key: {problem}")]
    Invalid {
        /// The option the key came from.
        option: String,
        /// `key file PATH` or `environment variable NAME`.
        origin: String,
        /// What is wrong with it.
        problem: KeyProblem,
    },
    /// libzmq could not generate a keypair (built without CURVE).
    #[error("cannot generate a CURVE keypair: {0}")]
    Generate(#[source] zmq::Error),
    /// A key file to be written exists already: keys are never overwritten.
    #[error("refusing to overwrite the existing key file {}", path.display())]
    WouldOverwrite {
        /// The existing file.
        path: PathBuf,
    },
    /// A key file could not be written.
    #[error("cannot write key file {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
}

/// What is wrong with a key's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    /// Neither 40 Z85 characters nor 32 raw bytes.
    #[error("{len} bytes long, expected 40 Z85 characters or 32 raw bytes")]
    WrongLength {
        /// The length found (after trimming surrounding whitespace from text).
        len: usize,
    },
    /// 40 characters, but not all of them are Z85.
    #[error("byte {byte:#04x} at position {position} is not a Z85 character")]
    NotZ85 {
        /// The offending byte.
        byte: u8,
        /// Its index in the key text.
        position: usize,
    },
    /// 40 Z85 characters, but a group of five encodes a value above 2^32 - 1.
    #[error("characters {position}..{} encode a value too large for Z85", position + 5)]
    Z85Overflow {
        /// Index of the group's first character.
        position: usize,
    },
}

impl PublicKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        PublicKey(bytes)
    }

    /// Parses 40 Z85 characters or 32 raw bytes (surrounding whitespace of text is ignored).
    pub fn parse(text: &[u8]) -> Result<Self, KeyProblem> {
        parse_key(text).map(PublicKey)
    }

    /// The 32 bytes, as `ZMQ_CURVE_PUBLICKEY`/`ZMQ_CURVE_SERVERKEY` take them.
    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    /// The 40-character Z85 text.
    pub fn to_z85(&self) -> String {
        z85_encode(&self.0)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_z85())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_z85())
    }
}

impl SecretKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        SecretKey(bytes)
    }

    /// Parses 40 Z85 characters or 32 raw bytes (surrounding whitespace of text is ignored).
    pub fn parse(text: &[u8]) -> Result<Self, KeyProblem> {
        parse_key(text).map(SecretKey)
    }

    /// The 32 bytes, as `ZMQ_CURVE_SECRETKEY` takes them.
    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    /// The 40-character Z85 text.
    pub fn to_z85(&self) -> String {
        z85_encode(&self.0)
    }

    /// The public key that belongs to this secret key, so a sender needs only its secret key file.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        let secret = std::ffi::CString::new(self.to_z85()).expect("Z85 has no NUL");
        let mut public = [0 as libc::c_char; Z85_KEY_CHARS + 1];
        // SAFETY: both buffers are NUL-terminated and sized as zmq_curve_public requires (41 bytes).
        let rc = unsafe { zmq_sys::zmq_curve_public(public.as_mut_ptr(), secret.as_ptr()) };
        if rc != 0 {
            let error = zmq::Error::from_raw(unsafe { zmq_sys::zmq_errno() });
            return Err(KeyError::Generate(error));
        }
        let public: Vec<u8> = public[..Z85_KEY_CHARS].iter().map(|&c| c as u8).collect();
        Ok(PublicKey(
            z85_decode(&public).expect("libzmq writes valid Z85"),
        ))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl KeyPair {
    /// A new random keypair from libzmq (libsodium's random source).
    pub fn generate() -> Result<Self, KeyError> {
        let pair = zmq::CurveKeyPair::new().map_err(KeyError::Generate)?;
        Ok(KeyPair {
            public: PublicKey(pair.public_key),
            secret: SecretKey(pair.secret_key),
        })
    }

    /// Writes the public key (Z85, mode 0644) and the secret key (Z85, mode 0600) as two new files.
    /// Refuses if either exists, and writes neither then.
    pub fn write_files(&self, public_path: &Path, secret_path: &Path) -> Result<(), KeyError> {
        for path in [public_path, secret_path] {
            if path.symlink_metadata().is_ok() {
                return Err(KeyError::WouldOverwrite {
                    path: path.to_path_buf(),
                });
            }
        }
        write_new_file(secret_path, 0o600, &self.secret.to_z85())?;
        if let Err(error) = write_new_file(public_path, 0o644, &self.public.to_z85()) {
            // Leave no half of a pair behind: the secret key alone is useless and confusing.
            let _ = std::fs::remove_file(secret_path);
            return Err(error);
        }
        Ok(())
    }
}

/// Makes `socket` a CURVE client of the server whose public key is `server`, authenticating as
/// `client`. Call it before `connect`: libzmq applies security options to later connections only.
pub fn configure_client(
    socket: &zmq::Socket,
    server: &PublicKey,
    client: &KeyPair,
) -> Result<(), zmq::Error> {
    socket.set_curve_serverkey(server.as_bytes())?;
    socket.set_curve_publickey(client.public.as_bytes())?;
    socket.set_curve_secretkey(client.secret.as_bytes())
}

/// Reads and parses a public key; errors name `option`.
pub fn read_public_key(option: &str, source: &KeySource) -> Result<PublicKey, KeyError> {
    read_key(option, source).map(PublicKey)
}

/// Reads and parses a secret key; errors name `option`.
pub fn read_secret_key(option: &str, source: &KeySource) -> Result<SecretKey, KeyError> {
    read_key(option, source).map(SecretKey)
}

fn read_key(option: &str, source: &KeySource) -> Result<[u8; KEY_BYTES], KeyError> {
    let (text, origin) = match source {
        KeySource::File(path) => {
            let text = std::fs::read(path).map_err(|source| {
                if source.kind() == io::ErrorKind::NotFound {
                    KeyError::FileMissing {
                        option: option.to_owned(),
                        path: path.clone(),
                    }
                } else {
                    KeyError::FileUnreadable {
                        option: option.to_owned(),
                        path: path.clone(),
                        source,
                    }
                }
            })?;
            (text, format!("key file {}", path.display()))
        }
        KeySource::Env(var) => {
            let value = std::env::var_os(var).ok_or_else(|| KeyError::EnvMissing {
                option: option.to_owned(),
                var: var.clone(),
            })?;
            let text = OsStr::as_bytes(&value).to_vec();
            (text, format!("environment variable {var}"))
        }
    };
    parse_key(&text).map_err(|problem| KeyError::Invalid {
        option: option.to_owned(),
        origin,
        problem,
    })
}

/// 32 bytes are taken as the raw key; anything else must be 40 Z85 characters once surrounding
/// whitespace (a trailing newline) is trimmed.
fn parse_key(text: &[u8]) -> Result<[u8; KEY_BYTES], KeyProblem> {
    if let Ok(raw) = <[u8; KEY_BYTES]>::try_from(text) {
        return Ok(raw);
    }
    let text = text.trim_ascii();
    if text.len() != Z85_KEY_CHARS {
        return Err(KeyProblem::WrongLength { len: text.len() });
    }
    z85_decode(text)
}

fn write_new_file(path: &Path, mode: u32, z85: &str) -> Result<(), KeyError> {
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)?;
        file.write_all(format!("{z85}\n").as_bytes())?;
        file.sync_all()
    };
    write().map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            KeyError::WouldOverwrite {
                path: path.to_path_buf(),
            }
        } else {
            KeyError::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Z85-encodes a key: each 4 bytes, big-endian, become 5 base-85 digits.
fn z85_encode(bytes: &[u8; KEY_BYTES]) -> String {
    let mut text = String::with_capacity(Z85_KEY_CHARS);
    for group in bytes.chunks_exact(4) {
        let mut value = u32::from_be_bytes(group.try_into().expect("chunks of 4"));
        let mut digits = [0u8; 5];
        for digit in digits.iter_mut().rev() {
            *digit = Z85_ALPHABET[(value % 85) as usize];
            value /= 85;
        }
        text.extend(digits.iter().map(|&d| d as char));
    }
    text
}

/// Decodes 40 Z85 characters, rejecting characters outside the alphabet and groups above u32.
fn z85_decode(text: &[u8]) -> Result<[u8; KEY_BYTES], KeyProblem> {
    debug_assert_eq!(text.len(), Z85_KEY_CHARS);
    let mut key = [0u8; KEY_BYTES];
    for (index, (group, out)) in text
        .chunks_exact(5)
        .zip(key.chunks_exact_mut(4))
        .enumerate()
    {
        let mut value: u64 = 0;
        for (offset, &byte) in group.iter().enumerate() {
            let digit = Z85_ALPHABET
                .iter()
                .position(|&c| c == byte)
                .ok_or(KeyProblem::NotZ85 {
                    byte,
                    position: index * 5 + offset,
                })?;
            value = value * 85 + digit as u64;
        }
        let value = u32::try_from(value).map_err(|_| KeyProblem::Z85Overflow {
            position: index * 5,
        })?;
        out.copy_from_slice(&value.to_be_bytes());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sample_key() -> [u8; KEY_BYTES] {
        std::array::from_fn(|i| (i * 7 + 3) as u8)
    }

    #[test]
    fn z85_matches_libzmq_in_both_directions() {
        let key = sample_key();
        let ours = z85_encode(&key);
        assert_eq!(ours, zmq::z85_encode(&key).unwrap());
        assert_eq!(z85_decode(ours.as_bytes()).unwrap(), key);
        // RFC 32's example: 8 bytes -> "HelloWorld", checked through a full 32-byte key.
        let mut hello = [0u8; KEY_BYTES];
        hello[..8].copy_from_slice(&[0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]);
        assert!(z85_encode(&hello).starts_with("HelloWorld"));
    }

    #[test]
    fn generated_pair_writes_two_files_with_the_right_modes() {
        let dir = tempfile::tempdir().unwrap();
        let (public_path, secret_path) = (dir.path().join("k.pub"), dir.path().join("k.secret"));
        let pair = KeyPair::generate().unwrap();
        pair.write_files(&public_path, &secret_path).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&secret_path), 0o600);
        assert_eq!(mode(&public_path), 0o644 & !umask());
        assert_eq!(
            std::fs::read_to_string(&public_path).unwrap(),
            format!("{}\n", pair.public.to_z85())
        );
        let public = read_public_key("p", &KeySource::File(public_path)).unwrap();
        let secret = read_secret_key("s", &KeySource::File(secret_path)).unwrap();
        assert_eq!(public, pair.public);
        assert_eq!(secret, pair.secret);
        assert_eq!(secret.public_key().unwrap(), pair.public);
    }

    fn umask() -> u32 {
        // SAFETY: umask has no failure mode; it is set back at once.
        let old = unsafe { libc::umask(0o022) };
        unsafe { libc::umask(old) };
        old as u32
    }

    #[test]
    fn write_refuses_to_overwrite_either_file_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (public_path, secret_path) = (dir.path().join("k.pub"), dir.path().join("k.secret"));
        let pair = KeyPair::generate().unwrap();
        std::fs::write(&public_path, "old").unwrap();
        let error = pair.write_files(&public_path, &secret_path).unwrap_err();
        assert!(matches!(error, KeyError::WouldOverwrite { ref path } if *path == public_path));
        assert!(!secret_path.exists());
        assert_eq!(std::fs::read_to_string(&public_path).unwrap(), "old");

        std::fs::remove_file(&public_path).unwrap();
        std::fs::write(&secret_path, "old").unwrap();
        let error = pair.write_files(&public_path, &secret_path).unwrap_err();
        assert!(matches!(error, KeyError::WouldOverwrite { ref path } if *path == secret_path));
        assert!(!public_path.exists());
        assert_eq!(std::fs::read_to_string(&secret_path).unwrap(), "old");
    }

    #[test]
    fn accepts_raw_bytes_and_z85_with_surrounding_whitespace() {
        let key = sample_key();
        assert_eq!(parse_key(&key).unwrap(), key);
        let text = format!("  {}\r\n", z85_encode(&key));
        assert_eq!(parse_key(text.as_bytes()).unwrap(), key);
    }

    #[test]
    fn missing_file_names_the_option_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.key");
        let error = read_secret_key("secret_key_file", &KeySource::File(path.clone())).unwrap_err();
        assert!(
            matches!(error, KeyError::FileMissing { ref option, path: ref p }
            if option == "secret_key_file" && *p == path)
        );
        let message = error.to_string();
        assert!(message.starts_with("secret_key_file: "), "{message}");
        assert!(message.contains("does not exist"), "{message}");
    }

    #[test]
    fn unreadable_file_names_the_option() {
        // A directory cannot be read as a file, whoever runs the test (root reads mode-000 files).
        let dir = tempfile::tempdir().unwrap();
        let error = read_public_key("server_key_file", &KeySource::File(dir.path().into()));
        let error = error.unwrap_err();
        assert!(matches!(error, KeyError::FileUnreadable { ref option, .. }
            if option == "server_key_file"));
        assert!(error
            .to_string()
            .starts_with("server_key_file: cannot read key file"));
    }

    #[test]
    fn wrong_length_is_reported_with_the_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.key");
        std::fs::write(&path, "abc\n").unwrap();
        let error = read_public_key("allow_dir", &KeySource::File(path.clone())).unwrap_err();
        match &error {
            KeyError::Invalid {
                option,
                origin,
                problem,
            } => {
                assert_eq!(option, "allow_dir");
                assert_eq!(origin, &format!("key file {}", path.display()));
                assert_eq!(problem, &KeyProblem::WrongLength { len: 3 });
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert!(error.to_string().contains("3 bytes long"), "{error}");
    }

    #[test]
    fn non_z85_character_is_reported_with_its_position() {
        let mut text = z85_encode(&sample_key()).into_bytes();
        text[17] = b'"';
        assert_eq!(
            parse_key(&text).unwrap_err(),
            KeyProblem::NotZ85 {
                byte: b'"',
                position: 17
            }
        );
    }

    #[test]
    fn z85_group_above_u32_is_rejected() {
        // "#####" is 85^5 - 1, above 2^32 - 1.
        let text = format!("#####{}", &z85_encode(&sample_key())[5..]);
        assert_eq!(
            parse_key(text.as_bytes()).unwrap_err(),
            KeyProblem::Z85Overflow { position: 0 }
        );
    }

    #[test]
    fn environment_variable_is_read_and_its_absence_named() {
        // Variable names unique to this test: the test binary's threads share one environment.
        let set = "LOGFUNNEL_TEST_CURVE_KEY_SET";
        let unset = "LOGFUNNEL_TEST_CURVE_KEY_UNSET";
        let bad = "LOGFUNNEL_TEST_CURVE_KEY_BAD";
        let key = sample_key();
        // SAFETY (edition 2021: safe fn): no other test touches these variables.
        std::env::set_var(set, z85_encode(&key));
        std::env::set_var(bad, "not a key");
        let read = read_public_key("server_key", &KeySource::Env(set.into())).unwrap();
        assert_eq!(read.as_bytes(), &key);

        let error = read_public_key("server_key", &KeySource::Env(unset.into())).unwrap_err();
        assert!(matches!(error, KeyError::EnvMissing { ref option, ref var }
            if option == "server_key" && var == unset));
        assert_eq!(
            error.to_string(),
            format!("server_key: environment variable {unset} is not set")
        );

        let error = read_secret_key("secret_key", &KeySource::Env(bad.into())).unwrap_err();
        assert!(
            matches!(error, KeyError::Invalid { ref origin, problem: KeyProblem::WrongLength { len: 9 }, .. }
            if *origin == format!("environment variable {bad}"))
        );
    }

    #[test]
    fn secret_key_debug_hides_the_key() {
        let secret = SecretKey::from_bytes(sample_key());
        assert_eq!(format!("{secret:?}"), "SecretKey(..)");
    }
}
