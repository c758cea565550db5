use cohort::{ErrorGroup, group};
use std::time::Duration;

async fn fetch(n: u64) -> Result<u64, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(n)).await;
    Ok(n)
}
async fn fail(n: u64) -> Result<String, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(n)).await;
    Err(std::io::Error::other(format!("fail {n}")))
}

#[tokio::test(start_paused = true)]
async fn smoke() -> Result<(), ErrorGroup> {
    let urls = vec![3u64, 1, 2];
    group! {
        #![timeout = Duration::from_secs(1)]
        a = fetch(10);
        _ = fetch(20);
        pages = for u in &urls => fetch(*u);
        s = spawn fetch(5);
    }
    assert_eq!((a, pages, s), (10, vec![3, 1, 2], 5));
    Ok(())
}

async fn arms() -> Result<u32, ErrorGroup> {
    let mut seen = 0;
    group! {
        a = fetch(10);
        b = fail(5);
        except* std::io::Error as errs => { seen = errs.len(); (1, "x".to_string()) }
    }
    let _ = (a, b);
    Ok(seen as u32)
}

#[tokio::test(start_paused = true)]
async fn smoke_arms() {
    assert_eq!(arms().await.unwrap(), 1);
}
