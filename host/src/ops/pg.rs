//! PostgreSQL's own tools, `pg_dump` and `pg_restore`, run as child
//! processes. The password of `DATABASE_URL` goes to them in `PGPASSWORD`,
//! not on their command line (which every local user can read).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context};

/// Where the tools are: a directory given with `--pg-bin`, or `PATH`.
#[derive(Clone, Debug, Default)]
pub struct PgTools {
    pub bin_dir: Option<PathBuf>,
}

impl PgTools {
    fn program(&self, name: &str) -> PathBuf {
        match &self.bin_dir {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        }
    }

    /// Runs `name args…` against `database_url`; the error names the tool,
    /// says how to get it when it is missing, and carries its stderr.
    pub async fn run(
        &self,
        name: &'static str,
        args: Vec<OsString>,
        database_url: Option<&str>,
    ) -> anyhow::Result<String> {
        let program = self.program(name);
        let mut command = Command::new(&program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = database_url {
            let (url, password) = libpq_url(url)?;
            command.arg(format!("--dbname={url}"));
            if let Some(password) = password {
                command.env("PGPASSWORD", password);
            }
        }
        let where_ = match &self.bin_dir {
            Some(dir) => format!("in {} (--pg-bin)", dir.display()),
            None => "on PATH".to_string(),
        };
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .context("waiting for a PostgreSQL tool")?;
        let output = match output {
            Ok(output) => output,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
                "{name} was not found {where_}: install the PostgreSQL client tools of the database server's major version (Debian: apt-get install postgresql-client-<major>) or pass --pg-bin DIR"
            ),
            Err(err) => {
                return Err(anyhow!(err)).with_context(|| format!("running {}", program.display()))
            }
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!(
                "{name} failed ({}): {}",
                output.status,
                stderr
                    .trim()
                    .lines()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `pg_dump --format=custom` of the database into `target`.
    pub async fn dump(&self, database_url: &str, target: &Path) -> anyhow::Result<()> {
        // Uncompressed: the archive is compressed as a whole.
        let args: Vec<OsString> = vec![
            "--format=custom".into(),
            "--compress=0".into(),
            "--no-password".into(),
            os("--file=", target),
        ];
        self.run("pg_dump", args, Some(database_url)).await?;
        Ok(())
    }

    /// `pg_restore --list`: the dump is readable by this `pg_restore`
    /// (a dump from a newer `pg_dump` is refused here, before anything changes).
    pub async fn check_dump(&self, dump: &Path) -> anyhow::Result<()> {
        self.run("pg_restore", vec!["--list".into(), dump.into()], None)
            .await?;
        Ok(())
    }

    /// Replaces the database's objects by the dump's, in one transaction:
    /// when anything fails, the database is as it was.
    pub async fn restore(&self, database_url: &str, dump: &Path) -> anyhow::Result<()> {
        let args: Vec<OsString> = vec![
            "--clean".into(),
            "--if-exists".into(),
            "--no-owner".into(),
            "--no-privileges".into(),
            "--single-transaction".into(),
            "--exit-on-error".into(),
            "--no-password".into(),
            dump.into(),
        ];
        self.run("pg_restore", args, Some(database_url)).await?;
        Ok(())
    }
}

fn os(prefix: &str, path: &Path) -> OsString {
    let mut value = OsString::from(prefix);
    value.push(path);
    value
}

/// `DATABASE_URL` as libpq takes it: without its password (returned
/// apart) and without the database driver's own URL parameters, which libpq refuses.
fn libpq_url(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("DATABASE_URL is not a URL")?;
    let password = parsed.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    let _ = parsed.set_password(None);
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, _)| key != "statement-cache-capacity")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok((parsed.to_string(), password))
}

#[cfg(test)]
mod tests {
    use super::libpq_url;

    #[test]
    fn the_password_leaves_the_url() {
        let (url, password) =
            libpq_url("postgres://beacon:p%40ss@db.example:5432/beacon?sslmode=require&statement-cache-capacity=0")
                .expect("url");
        assert_eq!(
            url,
            "postgres://beacon@db.example:5432/beacon?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("p@ss"));
        let (url, password) = libpq_url("postgres://postgres@127.0.0.1:5432/t").expect("url");
        assert_eq!(url, "postgres://postgres@127.0.0.1:5432/t");
        assert_eq!(password, None);
    }
}
