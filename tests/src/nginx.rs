//! [`Nginx`]: Debian's `nginx` on a free loopback port, in the foreground
//! with a generated config and a private prefix, stopped by PID on drop.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::Context as _;

use crate::{ports, process, wait};

const READY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Nginx {
    pub port: u16,
    /// The document root (`root` of the server block): put files here.
    pub root: PathBuf,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx with `locations` (nginx `location` blocks and server
    /// directives) inside one `server` on 127.0.0.1; `files` are written
    /// under the root first.
    pub async fn start(locations: &str, files: &[(&str, &[u8])]) -> anyhow::Result<Nginx> {
        let binary = binary()?;
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("www");
        std::fs::create_dir_all(&root)?;
        for (name, bytes) in files {
            std::fs::write(root.join(name), bytes)?;
        }
        let port = ports::free_port()?;
        let prefix = dir.path();
        // One process (no workers to switch user), everything under the prefix.
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\n\
             pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  default_type text/plain;\n\
               client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n\
               fastcgi_temp_path {prefix}/fastcgi;\n  uwsgi_temp_path {prefix}/uwsgi;\n\
               scgi_temp_path {prefix}/scgi;\n\
               server {{\n    listen 127.0.0.1:{port};\n    root {root};\n{locations}\n  }}\n}}\n",
            prefix = prefix.display(),
            root = root.display(),
        );
        let conf_path = prefix.join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let mut cmd = Command::new(&binary);
        cmd.arg("-p").arg(prefix).arg("-c").arg(&conf_path);
        let child = process::spawn(cmd, &prefix.join("stdout.log"))?;
        let mut nginx = Nginx {
            port,
            root,
            child: Some(child),
            dir,
        };
        let address = nginx.address();
        let ready = wait::wait_until("nginx listening", READY_TIMEOUT, || {
            let address = address.clone();
            async move { tokio::net::TcpStream::connect(address).await.is_ok() }
        })
        .await;
        if let Err(e) = ready {
            let log = process::tail(&nginx.dir.path().join("error.log"), 20);
            nginx.stop();
            anyhow::bail!("{e}\n--- nginx error.log ---\n{log}");
        }
        Ok(nginx)
    }

    /// `127.0.0.1:port`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn error_log(&self) -> String {
        process::tail(&self.dir.path().join("error.log"), 20)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            process::kill_now(&mut child);
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `nginx` from `NGINX_BIN`, `PATH`, or Debian's `/usr/sbin`.
fn binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("NGINX_BIN") {
        return Ok(PathBuf::from(path));
    }
    process::find_executable("nginx", &["/usr/sbin", "/usr/local/sbin"]).context(
        "nginx not found on PATH (or /usr/sbin); install it with `apt-get install -y nginx` (scripts/install-deps does)",
    )
}
