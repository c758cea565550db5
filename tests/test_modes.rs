//! `#![mode = settle]` and `#![mode = supervise]`: every task runs to completion.

use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tokio::time::Instant;

async fn fetch(n: u64) -> Result<u64, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(n)).await;
    Ok(n)
}

async fn fail(n: u64) -> Result<String, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(n)).await;
    Err(std::io::Error::other(format!("fail {n}")))
}

#[tokio::test(start_paused = true)]
async fn settle_binds_every_result_and_lets_every_task_finish() -> Result<(), ErrorGroup> {
    let start = Instant::now();
    group! {
        #![mode = settle]
        a = fetch(10);
        b = fail(5);
        c = for n in [1u64, 2] => fail(n);
    }
    // The failure at 5 ms did not cancel the task that ends at 10 ms.
    assert_eq!(start.elapsed(), Duration::from_millis(10));
    assert_eq!(a.unwrap(), 10);
    assert_eq!(b.unwrap_err().to_string(), "fail 5");
    let c: Vec<String> = c.into_iter().map(|r| r.unwrap_err().to_string()).collect();
    assert_eq!(c, ["fail 1", "fail 2"]);
    Ok(())
}
