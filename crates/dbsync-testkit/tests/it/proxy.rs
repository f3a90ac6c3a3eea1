use std::time::{Duration, Instant};

use dbsync_testkit::Proxy;
use mysql_async::prelude::Queryable;

async fn connect_postgres(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

#[tokio::test]
async fn cut_breaks_a_live_postgres_connection_and_new_ones_get_through() {
    let postgres = dbsync_testkit::postgres();
    let database = postgres.create_database("proxy").unwrap();
    let proxy = Proxy::start(postgres.port()).unwrap();
    let url = postgres.url_on_port(proxy.port(), &database);

    let client = connect_postgres(&url).await.unwrap();
    assert_eq!(
        client
            .query_one("SELECT 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
    assert_eq!(proxy.live_connections(), 1);

    assert_eq!(proxy.cut(), 1);
    let error = client.query_one("SELECT 1", &[]).await.unwrap_err();
    assert!(
        error.is_closed() || error.to_string().contains("connection"),
        "{error}"
    );

    let client = connect_postgres(&url).await.unwrap();
    assert_eq!(
        client
            .query_one("SELECT 2", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        2
    );
}

#[tokio::test]
async fn cut_breaks_a_live_mariadb_connection() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("proxy").unwrap();
    let proxy = Proxy::start(mariadb.port()).unwrap();
    // mysql_async would otherwise notice the server is local and switch to its socket,
    // around the proxy.
    let opts: mysql_async::Opts = mysql_async::OptsBuilder::from_opts(
        mysql_async::Opts::from_url(&mariadb.url_on_port(proxy.port(), &database)).unwrap(),
    )
    .prefer_socket(false)
    .into();

    let mut conn = mysql_async::Conn::new(opts.clone()).await.unwrap();
    let one: u32 = conn.query_first("SELECT 1").await.unwrap().unwrap();
    assert_eq!(one, 1);

    assert_eq!(proxy.cut(), 1);
    let result: Result<Option<u32>, _> = conn.query_first("SELECT 1").await;
    assert!(result.is_err(), "a query on a cut connection succeeded");

    let mut conn = mysql_async::Conn::new(opts).await.unwrap();
    let two: u32 = conn.query_first("SELECT 2").await.unwrap().unwrap();
    assert_eq!(two, 2);
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn a_proxy_that_is_down_lets_nothing_through_until_it_is_up() {
    let postgres = dbsync_testkit::postgres();
    let proxy = Proxy::start(postgres.port()).unwrap();
    let url = postgres.url_on_port(proxy.port(), "postgres");
    let live = connect_postgres(&url).await.unwrap();

    proxy.set_down(true);
    assert!(
        live.query_one("SELECT 1", &[]).await.is_err(),
        "a live connection survived"
    );
    assert!(
        connect_postgres(&url).await.is_err(),
        "a new connection got through"
    );

    proxy.set_down(false);
    let client = connect_postgres(&url).await.unwrap();
    client.query_one("SELECT 1", &[]).await.unwrap();
}

#[tokio::test]
async fn delay_holds_traffic_back() {
    let postgres = dbsync_testkit::postgres();
    let proxy = Proxy::start(postgres.port()).unwrap();
    let client = connect_postgres(&postgres.url_on_port(proxy.port(), "postgres"))
        .await
        .unwrap();

    proxy.set_delay(Duration::from_millis(300));
    let started = Instant::now();
    client.query_one("SELECT 1", &[]).await.unwrap();
    // The query and its answer each wait once.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "took only {:?}",
        started.elapsed()
    );

    proxy.set_delay(Duration::ZERO);
    let started = Instant::now();
    client.query_one("SELECT 1", &[]).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "took {:?}",
        started.elapsed()
    );
}
