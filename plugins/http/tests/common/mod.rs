//! A raw TCP server on loopback that answers each request (in arrival order,
//! across connections) with the next crafted answer, byte for byte.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server sends for one request, and what it does after.
#[derive(Clone)]
pub struct Answer {
    bytes: Vec<u8>,
    /// Close the connection after answering (the client may not know).
    close: bool,
    /// Send one byte per write, a millisecond apart.
    dribble: bool,
}

impl Answer {
    pub fn keep(bytes: &[u8]) -> Answer {
        Answer {
            bytes: bytes.to_vec(),
            close: false,
            dribble: false,
        }
    }

    pub fn close(bytes: &[u8]) -> Answer {
        Answer {
            close: true,
            ..Answer::keep(bytes)
        }
    }

    pub fn dribbled(self) -> Answer {
        Answer {
            dribble: true,
            ..self
        }
    }
}

pub struct Crafted {
    pub address: String,
    accepted: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl Crafted {
    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Requests read whole so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Starts the server on `127.0.0.1:0`; it lives as long as the test's runtime.
pub async fn crafted(answers: Vec<Answer>) -> Crafted {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let answers = Arc::new(answers);
    {
        let (accepted, requests) = (Arc::clone(&accepted), Arc::clone(&requests));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let (requests, answers) = (Arc::clone(&requests), Arc::clone(&answers));
                tokio::spawn(serve(stream, requests, answers));
            }
        });
    }
    Crafted {
        address,
        accepted,
        requests,
    }
}

async fn serve(mut stream: TcpStream, requests: Arc<AtomicUsize>, answers: Arc<Vec<Answer>>) {
    let _ = stream.set_nodelay(true);
    let mut pending = Vec::new();
    loop {
        let Some(request_len) = read_request(&mut stream, &mut pending).await else {
            return;
        };
        pending.drain(..request_len);
        let index = requests.fetch_add(1, Ordering::SeqCst);
        let Some(answer) = answers.get(index) else {
            return;
        };
        if answer.dribble {
            for byte in &answer.bytes {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        } else if stream.write_all(&answer.bytes).await.is_err() {
            return;
        }
        if answer.close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// Reads until `pending` holds a whole request (head and Content-Length
/// body); its length, or `None` at EOF.
async fn read_request(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
            let body = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if pending.len() >= end + 4 + body {
                return Some(end + 4 + body);
            }
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
        }
    }
}
