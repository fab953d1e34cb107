//! [`NatsServer`]: a private `nats-server -js` on loopback for one test.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::Context as _;
use tempfile::TempDir;

use crate::{http, ports, process, wait};

const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// A `nats-server -js` bound to 127.0.0.1 on free ports, with its own
/// JetStream store in a temp dir. Killed by PID on drop, panics included.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    monitor_port: u16,
    /// Owns the store (`js/`) and the log; deleted on drop, after the kill.
    dir: TempDir,
    /// Mutual TLS ([`Self::start_tls`]).
    tls: Option<NatsTls>,
}

/// The PEM files of a TLS server made at test time with rcgen: a CA of its
/// own, the server's certificate for 127.0.0.1, a client certificate.
#[derive(Clone, Debug)]
pub struct NatsTls {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl NatsTls {
    fn make(dir: &std::path::Path) -> anyhow::Result<NatsTls> {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate()?;
        let ca = ca_params.self_signed(&ca_key)?;
        let server_key = KeyPair::generate()?;
        let server = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])?
            .signed_by(&server_key, &ca, &ca_key)?;
        let client_key = KeyPair::generate()?;
        let client = CertificateParams::new(vec!["loadgen-e2e-client".into()])?.signed_by(
            &client_key,
            &ca,
            &ca_key,
        )?;
        let files = NatsTls {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client-key.pem"),
        };
        std::fs::write(&files.ca, ca.pem())?;
        std::fs::write(&files.server_cert, server.pem())?;
        std::fs::write(&files.server_key, server_key.serialize_pem())?;
        std::fs::write(&files.client_cert, client.pem())?;
        std::fs::write(&files.client_key, client_key.serialize_pem())?;
        Ok(files)
    }

    /// `NATS_CA_FILE`, `NATS_CERT_FILE`, `NATS_KEY_FILE` for loadgen.
    pub fn env(&self) -> [(&'static str, PathBuf); 3] {
        [
            ("NATS_CA_FILE", self.ca.clone()),
            ("NATS_CERT_FILE", self.client_cert.clone()),
            ("NATS_KEY_FILE", self.client_key.clone()),
        ]
    }
}

impl NatsServer {
    /// Starts a server and waits (bounded) until `/healthz` answers ok.
    pub async fn start() -> anyhow::Result<Self> {
        let (port, monitor_port) = ports::free_ports()?;
        let dir = tempfile::Builder::new()
            .prefix("loadgen-e2e-nats-")
            .tempdir()?;
        let mut server = NatsServer {
            child: None,
            port,
            monitor_port,
            dir,
            tls: None,
        };
        server.launch().await?;
        Ok(server)
    }

    /// A server requiring mutual TLS with certificates of a CA made now
    /// ([`Self::tls`]); its URL is `tls://`.
    pub async fn start_tls() -> anyhow::Result<Self> {
        let (port, monitor_port) = ports::free_ports()?;
        let dir = tempfile::Builder::new()
            .prefix("loadgen-e2e-nats-tls-")
            .tempdir()?;
        let tls = NatsTls::make(dir.path())?;
        let mut server = NatsServer {
            child: None,
            port,
            monitor_port,
            dir,
            tls: Some(tls),
        };
        server.launch().await?;
        Ok(server)
    }

    /// The TLS files of a [`Self::start_tls`] server.
    pub fn tls(&self) -> Option<&NatsTls> {
        self.tls.as_ref()
    }

    /// `nats://127.0.0.1:{port}` (`tls://` for a TLS server)
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "tls" } else { "nats" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:{monitor_port}` (append `/jsz`, `/healthz`, …).
    pub fn monitoring_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.monitor_port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The JetStream store directory (kept across [`Self::restart`]).
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("js")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// A plain client connection.
    pub async fn client(&self) -> anyhow::Result<async_nats::Client> {
        let mut options = async_nats::ConnectOptions::new();
        if let Some(tls) = &self.tls {
            options = options
                .add_root_certificates(tls.ca.clone())
                .add_client_certificate(tls.client_cert.clone(), tls.client_key.clone())
                .require_tls(true);
        }
        options
            .connect(self.url())
            .await
            .with_context(|| format!("connecting to {}", self.url()))
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s) and starts it
    /// again on the same port with the same store, as a NATS restart in
    /// production would; clients reconnect on their own.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await;
        self.launch().await
    }

    /// SIGKILL, as a crash would: no goodbye to clients, the store left in
    /// place for [`Self::start_again`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::kill_now(&mut child);
        }
    }

    /// Starts a stopped or killed server again on the same port with the same
    /// store, and waits until it is healthy.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "nats-server is still running");
        self.launch().await
    }

    /// Stops the server, leaving the store in place.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::signal(&mut child, libc::SIGTERM);
            if process::wait_exit(&mut child, Duration::from_secs(5))
                .await
                .is_none()
            {
                process::kill_now(&mut child);
            }
        }
    }

    async fn launch(&mut self) -> anyhow::Result<()> {
        let binary = nats_server_binary()?;
        let mut cmd = Command::new(binary);
        cmd.args(["-js", "-a", "127.0.0.1"])
            .args(["-p", &self.port.to_string()])
            .args(["-m", &self.monitor_port.to_string()])
            .arg("-sd")
            .arg(self.store_dir());
        if let Some(tls) = &self.tls {
            cmd.arg("--tlsverify")
                .arg("--tlscert")
                .arg(&tls.server_cert)
                .arg("--tlskey")
                .arg(&tls.server_key)
                .arg("--tlscacert")
                .arg(&tls.ca);
        }
        self.child = Some(process::spawn(cmd, &self.log_path())?);
        let healthz = format!("{}/healthz", self.monitoring_url());
        let ready = wait::wait_until("nats-server /healthz", READY_TIMEOUT, || async {
            matches!(http::get(&healthz).await, Ok((200, _)))
        })
        .await;
        if let Err(e) = ready {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            anyhow::bail!(
                "{e}; exit status {exited:?}; log:\n{}",
                process::tail(&self.log_path(), 20)
            );
        }
        Ok(())
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if std::thread::panicking() {
                eprintln!(
                    "--- nats-server log (last 20 lines) ---\n{}",
                    process::tail(&self.log_path(), 20)
                );
            }
            process::kill_now(&mut child);
        }
    }
}

/// `nats-server` from `NATS_SERVER_BIN`, `PATH`, or Debian's `/usr/sbin`.
fn nats_server_binary() -> anyhow::Result<PathBuf> {
    if let Some(explicit) = std::env::var_os("NATS_SERVER_BIN") {
        return Ok(explicit.into());
    }
    process::find_executable("nats-server", &["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"]).context(
        "nats-server not found on PATH (or /usr/sbin); install it with `apt-get install -y nats-server`",
    )
}
