//! A TCP proxy between dbsync and a server, for injecting network faults.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::error::{Error, Result};

/// Forwards connections from a port of its own on 127.0.0.1 to a server, and can cut
/// them, refuse new ones, or delay traffic, as a real network does.
///
/// Threads rather than async tasks, so that it works the same from a test's runtime,
/// from synchronous code, and across a runtime's shutdown. Dropping it stops it and
/// closes every connection.
#[derive(Debug)]
pub struct Proxy {
    port: u16,
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct State {
    upstream: SocketAddr,
    down: AtomicBool,
    stopping: AtomicBool,
    delay_micros: AtomicU64,
    next_id: AtomicU64,
    /// Handles on both ends of every live connection, kept to shut them down.
    links: Mutex<HashMap<u64, [TcpStream; 2]>>,
}

impl Proxy {
    /// Starts forwarding to `upstream_port` on 127.0.0.1.
    pub fn start(upstream_port: u16) -> Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| Error::new(format!("the proxy could not listen on 127.0.0.1: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::new(e.to_string()))?
            .port();
        let state = Arc::new(State {
            upstream: SocketAddr::from(([127, 0, 0, 1], upstream_port)),
            down: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            delay_micros: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
            links: Mutex::new(HashMap::new()),
        });
        let acceptor = {
            let state = Arc::clone(&state);
            thread::Builder::new()
                .name(format!("proxy-{port}"))
                .spawn(move || accept(&listener, &state))
                .map_err(|e| Error::new(format!("the proxy could not start a thread: {e}")))?
        };
        Ok(Proxy {
            port,
            state,
            acceptor: Some(acceptor),
        })
    }

    /// The port clients connect to instead of the server's.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Closes every live connection, both ways, as a dropped network link would; new
    /// connections are still let through. Returns how many connections were cut.
    pub fn cut(&self) -> usize {
        let links: Vec<[TcpStream; 2]> = self.state.links().drain().map(|(_, link)| link).collect();
        for end in links.iter().flatten() {
            let _ = end.shutdown(Shutdown::Both);
        }
        links.len()
    }

    /// While down, every live connection is cut and new ones are closed as soon as
    /// they are accepted: the server looks unreachable until `set_down(false)`.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
        if down {
            self.cut();
        }
    }

    /// Holds every chunk of traffic, in both directions, for `delay` before passing it on.
    pub fn set_delay(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.state.delay_micros.store(micros, Ordering::SeqCst);
    }

    /// How many connections are open through the proxy right now.
    pub fn live_connections(&self) -> usize {
        self.state.links().len()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stopping.store(true, Ordering::SeqCst);
        // Wakes the acceptor from `accept`, so that it sees `stopping`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        self.cut();
    }
}

impl State {
    fn links(&self) -> std::sync::MutexGuard<'_, HashMap<u64, [TcpStream; 2]>> {
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn accept(listener: &TcpListener, state: &Arc<State>) {
    for client in listener.incoming() {
        if state.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if state.down.load(Ordering::SeqCst) {
            continue; // dropping the stream closes it
        }
        let Ok(upstream) = TcpStream::connect_timeout(&state.upstream, Duration::from_secs(5))
        else {
            continue;
        };
        let _ = link(client, upstream, state);
    }
}

/// Registers a connection and starts a pump for each direction.
fn link(client: TcpStream, upstream: TcpStream, state: &Arc<State>) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    upstream.set_nodelay(true)?;
    let id = state.next_id.fetch_add(1, Ordering::SeqCst);
    state
        .links()
        .insert(id, [client.try_clone()?, upstream.try_clone()?]);
    for (from, to) in [
        (client.try_clone()?, upstream.try_clone()?),
        (upstream, client),
    ] {
        let state = Arc::clone(state);
        thread::Builder::new()
            .name("proxy-pump".into())
            .spawn(move || pump(from, to, &state, id))?;
    }
    Ok(())
}

/// Copies one direction of a connection until either side closes or fails, then closes
/// both, as a network link does.
fn pump(mut from: TcpStream, mut to: TcpStream, state: &State, id: u64) {
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let delay = state.delay_micros.load(Ordering::SeqCst);
        if delay > 0 {
            thread::sleep(Duration::from_micros(delay));
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
    state.links().remove(&id);
}
