//! The apply lock as a lease, signals, hangs (issue 21 "Locks, signals, hangs"):
//! against moto, through the fault proxy where moto alone cannot show the fault
//! (a lost answer, an endpoint that never answers), and through the real binary.

use crate::support::cli::{drplan, explain, stderr};
use crate::support::faultproxy::{FaultConfig, FaultProxy};
use crate::support::files::copy_dir;
use crate::support::moto::MotoServer;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use drplan::lock::{read_lock, AcquireOptions, ApplyLock, LockError};
use drplan::stop::Stop;
use drplan_core::model::environment::LockSettings;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BUCKET: &str = "shop-drplan-locks";
const KEY: &str = "drplan/locks/shop.json";

fn settings(lease_secs: u64) -> LockSettings {
    LockSettings {
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        key: None,
        lease: Duration::from_secs(lease_secs),
    }
}

fn wait(secs: u64) -> AcquireOptions {
    AcquireOptions {
        timeout: Duration::from_secs(secs),
        other_regions: vec!["us-east-2".into()],
    }
}

async fn moto_with_bucket() -> MotoServer {
    let moto = MotoServer::start();
    moto.s3("us-east-1")
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("lock bucket");
    moto
}

fn moto_addr(moto: &MotoServer) -> SocketAddr {
    moto.endpoint()
        .trim_start_matches("http://")
        .parse()
        .expect("http://127.0.0.1:PORT")
}

/// An S3 client through `endpoint`, as drplan's own (path style, drplan's timeouts).
fn s3_via(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        )))
        .retry_config(drplan::aws::default_retry_config())
        .timeout_config(drplan::aws::default_timeout_config())
        .build();
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_applys_lock_lapses_and_the_next_apply_takes_it_without_unlock() {
    let moto = moto_with_bucket().await;
    let s3 = moto.s3("us-east-1");
    // A renewed lease stays held past its length.
    let mut live = ApplyLock::acquire(&s3, &settings(2), "shop", "prod", &wait(0))
        .await
        .expect("first");
    live.keep_renewed(Stop::new(), Duration::from_secs(1));
    tokio::time::sleep(Duration::from_secs(4)).await;
    let refused = ApplyLock::acquire(&s3, &settings(2), "shop", "prod-dr", &wait(0)).await;
    assert!(
        matches!(refused, Err(LockError::Held { .. })),
        "a renewed lock is still held"
    );
    live.release().await.expect("release");

    // A "killed" holder: it never renews and never releases.
    let dead = ApplyLock::acquire(&s3, &settings(2), "shop", "prod", &wait(0))
        .await
        .expect("dead holder");
    let dead_run = dead.info().run_id;
    std::mem::forget(dead);
    match ApplyLock::acquire(&s3, &settings(2), "shop", "prod-dr", &wait(0)).await {
        Err(e @ LockError::Held { .. }) => assert!(e.to_string().contains("lapses in"), "{e}"),
        other => panic!("a fresh lease is held, got {:?}", other.map(|l| l.info())),
    }
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let next = ApplyLock::acquire(&s3, &settings(2), "shop", "prod-dr", &wait(0))
        .await
        .expect("the lapsed lock is taken over");
    let now = read_lock(&s3, BUCKET, KEY)
        .await
        .expect("read")
        .expect("a lock");
    assert_ne!(now.run_id, dead_run);
    assert_eq!(now.env, "prod-dr");
    next.release().await.expect("release");
    assert!(read_lock(&s3, BUCKET, KEY).await.expect("read").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_waits_with_lock_timeout_and_proceeds_when_the_first_ends() {
    let moto = moto_with_bucket().await;
    let s3 = moto.s3("us-east-1");
    let first = ApplyLock::acquire(&s3, &settings(120), "shop", "prod", &wait(0))
        .await
        .expect("first");
    let releaser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        first.release().await.expect("release");
    });
    let started = Instant::now();
    let second = ApplyLock::acquire(&s3, &settings(120), "shop", "prod-dr", &wait(20))
        .await
        .expect("waits, then takes it");
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    releaser.await.expect("releaser");
    // Without a timeout long enough it gives up naming the holder and the wait.
    let third = ApplyLock::acquire(&s3, &settings(120), "shop", "staging", &wait(2)).await;
    match third {
        Err(e @ LockError::Held { .. }) => {
            assert!(e.to_string().contains("still held after waiting 2s"), "{e}")
        }
        other => panic!("expected Held, got {:?}", other.map(|l| l.info())),
    }
    second.release().await.expect("release");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_the_lock_put_is_recognised_as_this_runs_own_lock() {
    let moto = moto_with_bucket().await;
    let proxy = FaultProxy::start(moto_addr(&moto), FaultConfig::default())
        .await
        .expect("proxy");
    proxy.lose_answer_once(|x| x.method == "PUT" && x.path().contains("drplan/locks"));
    let s3 = s3_via(&proxy.url());
    let lock = ApplyLock::acquire(&s3, &settings(120), "shop", "prod", &wait(0))
        .await
        .expect("proceeds: the lock is its own");
    assert_eq!(
        proxy
            .counters
            .answers_dropped
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the answer was lost once"
    );
    let held = read_lock(&moto.s3("us-east-1"), BUCKET, KEY)
        .await
        .expect("read")
        .expect("lock");
    assert_eq!(held.run_id, lock.info().run_id);
    lock.release().await.expect("release");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_bucket_region_that_never_answers_fails_fast_naming_the_remedy() {
    let moto = moto_with_bucket().await;
    let proxy = FaultProxy::start(moto_addr(&moto), FaultConfig::default())
        .await
        .expect("proxy");
    proxy.blackhole(|x| x.service == "s3" && x.region == "us-east-1");
    let s3 = s3_via(&proxy.url());
    let started = Instant::now();
    let err = ApplyLock::acquire(&s3, &settings(120), "shop", "prod-dr", &wait(0))
        .await
        .err()
        .expect("unreachable");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let msg = err.to_string();
    assert!(matches!(err, LockError::Unreachable { .. }), "{msg}");
    assert!(
        msg.contains("cannot reach the lock bucket s3://shop-drplan-locks in us-east-1"),
        "{msg}"
    );
    assert!(msg.contains("region = \"us-east-2\""), "{msg}");
}

/// A copy of the repository's root project (prod guarded to moto's account).
fn project_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_path_buf();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for sub in ["environments", "specs", "k8s"] {
        copy_dir(&repo.join(sub), &root.join(sub));
    }
    (dir, root)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    let edited = text.replacen(from, to, 1);
    assert_ne!(edited, text, "{from} in {}", path.display());
    std::fs::write(path, edited).expect("write");
}

async fn bucket_keys(moto: &MotoServer) -> Vec<String> {
    let out = moto
        .s3("us-east-1")
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .expect("list");
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_account_apply_writes_nothing_not_even_its_lock_and_unlock_is_guarded_too() {
    let (_dir, root) = project_copy();
    edit(
        &root.join("environments/prod.hcl"),
        "123456789012",
        "999999999999",
    );
    let moto = moto_with_bucket().await;
    let out = drplan(&moto, &root, &["apply", "-e", "prod", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        stderr(&out).contains("guarded to account 999999999999"),
        "{}",
        explain(&out)
    );
    assert_eq!(
        bucket_keys(&moto).await,
        Vec::<String>::new(),
        "nothing written into the wrong account's bucket"
    );

    moto.s3("us-east-1")
        .put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(b"{}".to_vec().into())
        .send()
        .await
        .expect("put");
    let out = drplan(&moto, &root, &["unlock", "-e", "prod", "--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        stderr(&out).contains("guarded to account"),
        "{}",
        explain(&out)
    );
    assert_eq!(
        bucket_keys(&moto).await,
        vec![KEY.to_string()],
        "unlock deleted nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlock_force_on_an_unreadable_lock_says_it_deleted_it() {
    let (_dir, root) = project_copy();
    let moto = moto_with_bucket().await;
    moto.s3("us-east-1")
        .put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(b"not json".to_vec().into())
        .send()
        .await
        .expect("put");
    let out = drplan(&moto, &root, &["unlock", "-e", "prod", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("Deleted s3://{BUCKET}/{KEY}"))
            && err.contains("not a lock drplan could read"),
        "{err}"
    );
    assert!(!err.contains("was not locked"), "{err}");
    assert!(bucket_keys(&moto).await.is_empty());
    let out = drplan(&moto, &root, &["unlock", "-e", "prod", "--force"]);
    assert!(
        stderr(&out).contains("The stack was not locked"),
        "{}",
        explain(&out)
    );
}

/// `stderr` read line by line on a thread: the lines so far (then `<eof>`), and a
/// channel that gets one message when the first change of the walk starts.
fn stderr_lines(
    stderr: std::process::ChildStderr,
) -> (
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    std::sync::mpsc::Receiver<()>,
) {
    use std::io::BufRead;
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let seen = lines.clone();
    std::thread::spawn(move || {
        let mut told = false;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if !told && line.ends_with("Creating...") {
                told = true;
                let _ = tx.send(());
            }
            seen.lock().unwrap().push(line);
        }
        seen.lock().unwrap().push("<eof>".into());
    });
    (lines, rx)
}

/// `drplan` spawned with `endpoint` as its AWS endpoint.
fn spawn_drplan(
    moto: &MotoServer,
    endpoint: &str,
    root: &Path,
    args: &[&str],
) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("drplan"))
        .envs(moto.env_for_cli())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(root)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn drplan")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_apply_stops_new_changes_releases_the_lock_and_reports() {
    let (_dir, root) = project_copy();
    let moto = moto_with_bucket().await;
    // Slow answers, so the apply is still running when the signal comes.
    let config = FaultConfig {
        latency: Duration::from_millis(250),
        ..FaultConfig::default()
    };
    let proxy = FaultProxy::start(moto_addr(&moto), config)
        .await
        .expect("proxy");
    let mut child = spawn_drplan(
        &moto,
        &proxy.url(),
        &root,
        &["apply", "-e", "prod", "--auto-approve"],
    );
    // The signal goes in once the walk has visibly started a change (its "...:
    // Creating..." line), not after a fixed sleep: on a fast runner the whole apply
    // once finished inside the sleep, and on a slow one planning outlasted it.
    let (lines, walking) = stderr_lines(child.stderr.take().expect("stderr"));
    let started = walking.recv_timeout(Duration::from_secs(120));
    assert!(
        started.is_ok(),
        "the walk never started:\n{}",
        lines.lock().unwrap().join("\n")
    );
    let s3 = moto.s3("us-east-1");
    assert!(
        read_lock(&s3, BUCKET, KEY).await.expect("read").is_some(),
        "the walk runs under the lock"
    );
    let signalled = Instant::now();
    // SAFETY: kill(2) on the child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    let took = signalled.elapsed();
    // The reader thread sees EOF when the process exits.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !lines.lock().unwrap().iter().any(|l| l == "<eof>") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let err = lines.lock().unwrap().join("\n");
    let out_text = crate::support::cli::stdout(&out);
    let shown = format!(
        "exit {:?}\nstdout:\n{out_text}\nstderr:\n{err}",
        out.status.code()
    );
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        took < Duration::from_secs(40),
        "exited {took:?} after SIGTERM"
    );
    assert!(err.contains("SIGTERM"), "{shown}");
    assert!(err.contains("Released the apply lock."), "{shown}");
    assert!(
        err.contains("Apply stopped (SIGTERM)") || out_text.contains("Apply stopped (SIGTERM)"),
        "{shown}"
    );
    assert!(
        read_lock(&s3, BUCKET, KEY).await.expect("read").is_none(),
        "the lock is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_endpoint_fails_plan_in_bounded_time_naming_what_it_waited_for() {
    let (_dir, root) = project_copy();
    let moto = moto_with_bucket().await;
    let proxy = FaultProxy::start(moto_addr(&moto), FaultConfig::default())
        .await
        .expect("proxy");
    proxy.blackhole(|_| true);
    let started = Instant::now();
    let child = spawn_drplan(&moto, &proxy.url(), &root, &["plan", "-e", "prod"]);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    // drplan::aws::OPERATION_TIMEOUT (45 s) bounds the call; it was 120 s.
    assert!(
        took < drplan::aws::OPERATION_TIMEOUT + Duration::from_secs(15),
        "took {took:?}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("Waiting for STS GetCallerIdentity in us-east-1: no answer after 5s"),
        "{err}"
    );
    assert!(err.contains("timed out"), "{err}");
}

const EC2_DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>REFUSED</RequestID></Response>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_change_skips_only_its_dependents_and_the_dns_change_is_still_applied() {
    use crate::support::faultproxy::Intercept;
    use drplan::apply::clients::ClientsFromConfig;
    use drplan::apply::report::Status;
    let moto = MotoServer::start();
    let proxy = FaultProxy::start(moto_addr(&moto), FaultConfig::default())
        .await
        .expect("proxy");
    proxy.intercept(|x, body| {
        let create_vpc =
            x.service == "ec2" && String::from_utf8_lossy(body).contains("Action=CreateVpc");
        create_vpc.then(|| Intercept::Refuse {
            status: 403,
            content_type: "text/xml",
            body: EC2_DENIED.into(),
        })
    });
    let clients = ClientsFromConfig::new(crate::apply_moto::sdk_config(&proxy.url()).await);
    let report = drplan::apply::apply(
        &crate::apply_moto::full_plan(),
        &clients,
        &crate::apply_moto::options(),
    )
    .await
    .expect("accepted");
    let status = |a: &str| {
        report
            .entries
            .iter()
            .find(|e| e.address.as_str() == a)
            .map(|e| e.status.clone())
    };
    assert!(
        matches!(status("network.main"), Some(Status::Failed(_))),
        "{}",
        report.render_text()
    );
    assert_eq!(
        status("cluster.app.node_group.general"),
        Some(Status::Skipped {
            because: "network.main".into()
        }),
        "{}",
        report.render_text()
    );
    for independent in [
        "zone.main",
        "dns.api.target.primary",
        "dns.api.target.dr",
        "bucket.backups",
        "bucket.backups_dr",
    ] {
        assert_eq!(
            status(independent),
            Some(Status::Done),
            "{independent}: {}",
            report.render_text()
        );
    }
    assert!(
        report
            .render_text()
            .contains("skipped because network.main failed"),
        "{}",
        report.render_text()
    );
    // Read back: the failover records exist in Route53.
    let r53 = moto.route53();
    let zones = r53.list_hosted_zones().send().await.expect("zones");
    let zone = zones
        .hosted_zones()
        .iter()
        .find(|z| z.name() == "lanka.example.com.")
        .expect("zone");
    let records = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone.id())
        .send()
        .await
        .expect("records");
    let ids: Vec<_> = records
        .resource_record_sets()
        .iter()
        .filter(|r| r.name() == "api.lanka.example.com.")
        .filter_map(|r| r.set_identifier().map(str::to_string))
        .collect();
    assert!(
        ids.contains(&"primary".to_string()) && ids.contains(&"dr".to_string()),
        "{ids:?}"
    );
}

/// A pseudo-terminal: the child reads its stdin from `slave`, the test holds `master`
/// (closing it would hang the terminal up, a different event than Ctrl-C).
fn pty() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty(3) writes two fds it opened; null name, termios and winsize.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just opened by openpty and are owned here alone.
    unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(master),
            std::os::fd::OwnedFd::from_raw_fd(slave),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_at_the_approval_prompt_changes_nothing_and_releases_the_lock() {
    use std::io::Read;
    let (_dir, root) = project_copy();
    let moto = moto_with_bucket().await;
    let (_master, slave) = pty();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("drplan"))
        .envs(moto.env_for_cli())
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(&root)
        .args(["apply", "-e", "prod"])
        .stdin(std::process::Stdio::from(slave))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn drplan");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        let mut told = false;
        while let Ok(n) = err_pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            if !told && String::from_utf8_lossy(&all).contains("Do you want to perform") {
                told = true;
                let _ = seen_tx.send(());
            }
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let prompted =
        tokio::task::spawn_blocking(move || seen_rx.recv_timeout(Duration::from_secs(120)))
            .await
            .expect("join");
    let s3 = moto.s3("us-east-1");
    assert!(
        read_lock(&s3, BUCKET, KEY).await.expect("read").is_some(),
        "the apply holds the lock while it asks"
    );
    // SAFETY: kill(2) on the child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    let err = reader.join().expect("stderr reader");
    assert!(prompted.is_ok(), "drplan never asked for approval:\n{err}");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("SIGINT"), "{err}");
    assert!(err.contains("Released the apply lock."), "{err}");
    assert!(
        read_lock(&s3, BUCKET, KEY).await.expect("read").is_none(),
        "the lock is gone:\n{err}"
    );
    let buckets = s3.list_buckets().send().await.expect("ListBuckets");
    let names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, vec![BUCKET], "nothing was created:\n{err}");
}
