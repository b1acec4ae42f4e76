//! fleetdeck's own server: created once, reused, Unix socket only, never run as root.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use fleetdeck::db::embedded::{EmbeddedServer, ServerOptions};
use sqlx::{ConnectOptions, Connection};

/// A temporary directory the unprivileged server user can enter.
pub fn shared_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("fd-").tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[tokio::test]
async fn a_cluster_is_created_once_reused_and_listens_on_a_socket_only() {
    let dir = shared_tempdir();
    let opts = ServerOptions {
        data_dir: dir.path().join("pg"),
        bin_dir: None,
        server_user: "postgres".into(),
        throwaway: true,
    };
    let first = {
        let opts = opts.clone();
        tokio::task::spawn_blocking(move || EmbeddedServer::ensure_running(&opts)).await.unwrap().unwrap()
    };
    assert!(first.initialised && first.started);

    if nix::unistd::geteuid().is_root() {
        let owner = std::fs::metadata(&first.data_dir).unwrap().uid();
        let postgres = nix::unistd::User::from_name("postgres").unwrap().unwrap();
        assert_eq!(owner, postgres.uid.as_raw(), "the cluster belongs to the unprivileged user");
        assert_eq!(first.run_as.as_ref().map(|u| u.name.as_str()), Some("postgres"));
    }

    let mut conn = first.connect_options("postgres").connect().await.unwrap();
    let listen: String = sqlx::query_scalar("SHOW listen_addresses").fetch_one(&mut conn).await.unwrap();
    assert_eq!(listen, "", "no TCP listener");
    conn.close().await.unwrap();

    // Running: found, not started again.
    let again = {
        let opts = opts.clone();
        tokio::task::spawn_blocking(move || EmbeddedServer::ensure_running(&opts)).await.unwrap().unwrap()
    };
    assert!(!again.initialised && !again.started);

    // Stopped: started again on the same cluster.
    again.stop(true).unwrap();
    assert!(!again.is_running().unwrap());
    let third = {
        let opts = opts.clone();
        tokio::task::spawn_blocking(move || EmbeddedServer::ensure_running(&opts)).await.unwrap().unwrap()
    };
    assert!(!third.initialised && third.started);
    third.stop(true).unwrap();
}
