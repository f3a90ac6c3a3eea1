//! A server on a free loopback port, over a fresh state store.

use dbsync_config::{Secret, Server};
use dbsync_control::{Control, Store};
use reqwest::{Client, RequestBuilder, Response};
use tokio::net::TcpListener;

pub(crate) const TOKEN: &str = "t0ken-that-is-s3cret";
pub(crate) const ORIGIN: &str = "http://localhost:3000";

pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) control: Control,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    client: Client,
    _directory: tempfile::TempDir,
}

impl TestServer {
    /// A server with the token [`TOKEN`] and the dashboard at [`ORIGIN`].
    pub(crate) async fn start() -> TestServer {
        TestServer::start_with(Server {
            auth_token: Some(Secret::new(TOKEN)),
            cors_origins: vec![ORIGIN.to_owned()],
            ..Server::default()
        })
        .await
    }

    pub(crate) async fn start_with(settings: Server) -> TestServer {
        let directory = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(directory.path().join("state.db"))
            .await
            .unwrap();
        let control = Control::new(store, dbsync_control::Supervisor::channel().0);
        let router = dbsync_control::router(control.clone(), &settings).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(dbsync_control::serve(
            listener,
            router,
            control.events.clone(),
            async move {
                // A dropped sender stops the server too.
                let _ = stopped.await;
            },
        ));
        TestServer {
            base,
            control,
            shutdown: Some(shutdown),
            served,
            client: Client::new(),
            _directory: directory,
        }
    }

    /// Shuts the server down gracefully and waits until it has.
    pub(crate) async fn stop(mut self) {
        drop(self.shutdown.take());
        (&mut self.served).await.unwrap().unwrap();
    }

    /// A request without the token.
    pub(crate) fn anonymous(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// A request with the token, its status and JSON body.
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> (u16, serde_json::Value) {
        json(self.request(method, path).send().await.unwrap()).await
    }

    pub(crate) async fn call_text(&self, method: reqwest::Method, path: &str) -> (u16, String) {
        answer(self.request(method, path).send().await.unwrap()).await
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        json(
            self.request(reqwest::Method::POST, path)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A request with the token.
    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.anonymous(method, path).bearer_auth(TOKEN)
    }
}

/// The status and the body as text, with a check that no secret of the tests is in it.
pub(crate) async fn answer(response: Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    for secret in ["s3cret", TOKEN] {
        assert!(!body.contains(secret), "a response shows a secret: {body}");
    }
    (status, body)
}

pub(crate) async fn json(response: Response) -> (u16, serde_json::Value) {
    let (status, body) = answer(response).await;
    let value = serde_json::from_str(&body).unwrap_or_else(|error| panic!("{error}: {body}"));
    (status, value)
}
